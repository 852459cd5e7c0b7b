/** A search result's snippet as text and highlighted parts, whatever marks come with it. */
import { splitSnippet } from '../snippet';

const text = (parts: { text: string; marked: boolean }[]) =>
  parts.map(p => (p.marked ? `[${p.text}]` : p.text)).join('');

describe('a snippet with marks', () => {
  it('highlights the marked ranges and keeps the rest as plain text', () => {
    const parts = splitSnippet('the quokka asks about Snell', [
      [4, 10],
      [22, 27]
    ]);
    expect(text(parts)).toBe('the [quokka] asks about [Snell]');
    expect(parts.map(p => p.text).join('')).toBe('the quokka asks about Snell');
  });

  it('is one plain part without marks', () => {
    expect(splitSnippet('nothing to see', [])).toEqual([{ text: 'nothing to see', marked: false }]);
    expect(splitSnippet('', [])).toEqual([{ text: '', marked: false }]);
  });

  it('takes marks out of order, overlapping, or past the end', () => {
    expect(
      text(
        splitSnippet('abcdefgh', [
          [6, 20],
          [1, 3],
          [2, 4]
        ])
      )
    ).toBe('a[bcd]ef[gh]');
    expect(text(splitSnippet('abc', [[0, 3]]))).toBe('[abc]');
  });

  it('leaves out marks that say nothing', () => {
    const marks = [[2, 2], [3, 1], ['a', 'b'], [-5, -1], [1], [NaN, 2]];
    expect(text(splitSnippet('abcdef', marks))).toBe('abcdef');
  });

  it('counts in characters as the server does, not in UTF-16 units', () => {
    // 🎉 is one character to Python and two units to JavaScript.
    const parts = splitSnippet('\u{1F389} party time', [[2, 7]]);
    expect(text(parts)).toBe('\u{1F389} [party] time');
  });

  it('never turns markup in a message into elements: it stays text', () => {
    const parts = splitSnippet('<b>bold</b> words', [[12, 17]]);
    expect(parts).toEqual([
      { text: '<b>bold</b> ', marked: false },
      { text: 'words', marked: true }
    ]);
  });
});
