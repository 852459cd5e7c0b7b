/**
 * A search result's snippet cut into plain text and highlighted parts, from the `marks` the
 * server gives (`[start, end)` ranges). The view renders each part as text, a highlighted one
 * in a `<mark>`: the snippet is never parsed as HTML.
 *
 * The server counts in code points (Python's `len`), not in JavaScript's UTF-16 units: an
 * emoji before a match would otherwise shift every mark after it by one.
 */

export interface SnippetPart {
  text: string;
  marked: boolean;
}

/**
 * The parts of `snippet`, in order, that join back to it. Marks are taken as they may come
 * from any server: out of order, overlapping, past the end or not numbers at all; those
 * that say nothing are left out, overlapping ones merged.
 */
export function splitSnippet(
  snippet: string,
  marks: ReadonlyArray<ReadonlyArray<unknown>>
): SnippetPart[] {
  const points = Array.from(snippet);
  const slice = (start: number, end?: number) => points.slice(start, end).join('');
  const length = points.length;
  const ranges: [number, number][] = [];
  for (const mark of marks) {
    const [a, b] = mark;
    if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a + b)) {
      continue;
    }
    const start = Math.max(0, Math.min(length, Math.floor(a)));
    const end = Math.max(0, Math.min(length, Math.floor(b)));
    if (end > start) {
      ranges.push([start, end]);
    }
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) {
      last[1] = Math.max(last[1], range[1]);
    } else {
      merged.push([range[0], range[1]]);
    }
  }
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const [start, end] of merged) {
    if (start > at) {
      parts.push({ text: slice(at, start), marked: false });
    }
    parts.push({ text: slice(start, end), marked: true });
    at = end;
  }
  if (at < length || parts.length === 0) {
    parts.push({ text: slice(at), marked: false });
  }
  return parts;
}
