/** What the reaction picker and an answer's thumbs show and send. */
import { MAX_REACTIONS, REACTION_EMOJI } from '../protocol';
import { canReact, nextRating, reactionChips, toggleReaction } from '../reactions';

const [THUMBS, , HEART, PARTY, SMILE, , THINK] = REACTION_EMOJI;

describe('the emoji a message may be reacted with', () => {
  it('are the ten the protocol names, in its order', () => {
    expect(REACTION_EMOJI).toHaveLength(10);
    expect(new Set(REACTION_EMOJI).size).toBe(10);
    // As docs/protocol.md lists them (and `REACTION_EMOJI` in protocol/records.py).
    expect(REACTION_EMOJI.join(' ')).toBe('👍 👎 ❤️ 🎉 😄 😕 🤔 💡 👀 ✅');
  });
});

describe('reaction chips', () => {
  it('count each emoji in the picker’s order and say which ones are the user’s', () => {
    const chips = reactionChips({ [THINK]: ['ann'], [THUMBS]: ['me', 'ann'], [HEART]: [] }, 'me');
    expect(chips.map(c => [c.emoji, c.count, c.mine])).toEqual([
      [THUMBS, 2, true],
      [THINK, 1, false]
    ]);
  });

  it('name who reacted, the user as “You”', () => {
    const chips = reactionChips(
      { [THUMBS]: ['me', 'ann'], [PARTY]: ['bob', 'cy', 'dee', 'eve'] },
      'me'
    );
    expect(chips[0].title).toBe(`You and ann reacted with ${THUMBS}`);
    expect(chips[1].title).toBe(`bob, cy and 2 others reacted with ${PARTY}`);
  });

  it('are none for a message without reactions (a live frame carries none)', () => {
    expect(reactionChips(undefined, 'me')).toEqual([]);
    expect(reactionChips({}, 'me')).toEqual([]);
  });

  it('put an emoji from a newer server after the known ones', () => {
    const chips = reactionChips({ '\u{1F680}': ['ann'], [SMILE]: ['ann'] }, 'me');
    expect(chips.map(c => c.emoji)).toEqual([SMILE, '\u{1F680}']);
  });
});

describe('a click on an emoji', () => {
  it('puts it on, or takes the user’s own off', () => {
    expect(toggleReaction({ [THUMBS]: ['ann'] }, THUMBS, 'me')).toBe(true);
    expect(toggleReaction({ [THUMBS]: ['ann', 'me'] }, THUMBS, 'me')).toBe(false);
    expect(toggleReaction(undefined, THUMBS, 'me')).toBe(true);
  });

  it('offers no new emoji once the user has five on the message, but takes one off', () => {
    const five = Object.fromEntries(REACTION_EMOJI.slice(0, MAX_REACTIONS).map(e => [e, ['me']]));
    expect(canReact(five, REACTION_EMOJI[MAX_REACTIONS], 'me')).toBe(false);
    expect(canReact(five, THUMBS, 'me')).toBe(true);
    // Others' reactions do not count against the user.
    const others = Object.fromEntries(REACTION_EMOJI.map(e => [e, ['ann']]));
    expect(canReact(others, THUMBS, 'me')).toBe(true);
  });
});

describe('the thumbs of an answer', () => {
  it('rate it, and take the rating back when the active one is clicked again', () => {
    expect(nextRating(null, 'up')).toBe('up');
    expect(nextRating(undefined, 'down')).toBe('down');
    expect(nextRating('up', 'down')).toBe('down');
    expect(nextRating('up', 'up')).toBeNull();
    expect(nextRating('down', 'down')).toBeNull();
  });
});
