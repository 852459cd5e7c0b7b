/**
 * What the reaction picker and the thumbs of an answer show and send, as pure functions of
 * a message's reactions and feedback (unit-tested; `components/reactions.tsx` draws them).
 */
import { MAX_REACTIONS, REACTION_EMOJI, type Rating, type Reactions } from './protocol';

/** One reaction as a chip shows it. */
export interface ReactionChip {
  emoji: string;
  count: number;
  /** The user has put this one on (clicking the chip takes it off). */
  mine: boolean;
  /** Who put it on, for the tooltip. */
  title: string;
}

function who(users: string[], userId: string | null): string {
  const others = users.filter(u => u !== userId);
  const names = users.length > others.length ? ['You', ...others] : others;
  if (names.length <= 3) {
    return names.join(', ').replace(/, ([^,]*)$/, ' and $1');
  }
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`;
}

/**
 * The chips of a message's reactions: the picker's order (others, which only a newer server
 * would send, after it), none for an emoji nobody has on any more.
 */
export function reactionChips(
  reactions: Reactions | undefined,
  userId: string | null
): ReactionChip[] {
  if (!reactions) {
    return [];
  }
  const order = (emoji: string) => {
    const i = (REACTION_EMOJI as readonly string[]).indexOf(emoji);
    return i < 0 ? REACTION_EMOJI.length : i;
  };
  return Object.keys(reactions)
    .filter(emoji => (reactions[emoji] ?? []).length > 0)
    .sort((a, b) => order(a) - order(b))
    .map(emoji => {
      const users = reactions[emoji];
      return {
        emoji,
        count: users.length,
        mine: userId !== null && users.includes(userId),
        title: `${who(users, userId)} reacted with ${emoji}`
      };
    });
}

/** Whether the user has put `emoji` on the message. */
export function hasReacted(
  reactions: Reactions | undefined,
  emoji: string,
  userId: string | null
): boolean {
  return userId !== null && (reactions?.[emoji] ?? []).includes(userId);
}

/** The `on` of the `react` frame a click on `emoji` sends: off if it is the user's already. */
export function toggleReaction(
  reactions: Reactions | undefined,
  emoji: string,
  userId: string | null
): boolean {
  return !hasReacted(reactions, emoji, userId);
}

/**
 * Whether the picker offers `emoji`: one the user has on can always be taken off; a new one
 * only while the user has fewer than `MAX_REACTIONS` different ones on the message.
 */
export function canReact(
  reactions: Reactions | undefined,
  emoji: string,
  userId: string | null
): boolean {
  if (hasReacted(reactions, emoji, userId)) {
    return true;
  }
  const mine = Object.keys(reactions ?? {}).filter(e => hasReacted(reactions, e, userId));
  return mine.length < MAX_REACTIONS;
}

/** The rating a click on a thumb sends: that thumb, or `null` (taken back) if it is on. */
export function nextRating(current: Rating | null | undefined, clicked: Rating): Rating | null {
  return current === clicked ? null : clicked;
}
