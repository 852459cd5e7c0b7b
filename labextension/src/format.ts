/** Pure text formatting shared by the views (unit-tested). */
import type { Citation, Document } from './protocol';

/** `p.3` or `p.3–5` (pages are 1-based). */
export function pageLabel(start: number, end: number): string {
  return end > start ? `p.${start}\u2013${end}` : `p.${start}`;
}

/** A citation chip's text: `[n] file p.X–Y`. */
export function citationLabel(n: number, citation: Citation): string {
  return `[${n}] ${citation.filename} ${pageLabel(citation.page_start, citation.page_end)}`;
}

/** A chip's tooltip; the score only when the user asked to see scores. */
export function citationTitle(citation: Citation, showScores: boolean): string {
  const where = `${citation.filename}, ${pageLabel(citation.page_start, citation.page_end)}`;
  return showScores ? `${where} \u2014 score ${citation.score.toFixed(3)}` : where;
}

/** How long a chat's first title may be, in characters. */
const TITLE_LENGTH = 60;

/**
 * The title a chat gets from its first message, as the server gives it when that message
 * creates the chat (`title_from` in `protocol.py`): a chat the panel creates first, to
 * limit it, is named the same way.
 */
export function chatTitle(content: string): string {
  const line = content.split(/\s+/).filter(Boolean).join(' ');
  const chars = Array.from(line);
  return chars.length <= TITLE_LENGTH
    ? line
    : chars.slice(0, TITLE_LENGTH - 1).join('').trimEnd() + '\u2026';
}

/** A file name made from a chat title: no path separators or characters file systems refuse. */
export function safeFileName(title: string, fallback = 'StudyMate chat'): string {
  const cleaned = title
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ')
    .split(/\s+/)
    .filter(word => word && !/^\.+$/.test(word)) // no "." or ".." left to climb with
    .join(' ')
    .replace(/^\.+/, '')
    .slice(0, 80)
    .trim();
  return cleaned || fallback;
}

/** The kind of viewer a library file opens in. */
export function kindOf(path: string): 'pdf' | 'notebook' | 'markdown' | 'text' {
  const lower = path.toLowerCase();
  if (lower.endsWith('.pdf')) {
    return 'pdf';
  }
  if (lower.endsWith('.ipynb')) {
    return 'notebook';
  }
  if (lower.endsWith('.md') || lower.endsWith('.markdown')) {
    return 'markdown';
  }
  return 'text';
}

/** The URI fragment that lands a PDF viewer on `page` (1-based). */
export function pdfFragment(page?: number | null): string {
  const n = typeof page === 'number' && Number.isFinite(page) && page >= 1 ? Math.floor(page) : 1;
  return `#page=${n}`;
}

/** `1 page`, `3 pages`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A library document's status line: `indexing 40%`, `ready · 3 pages · 12 passages`, … */
export function documentStatusLine(doc: Document, progress?: number): string {
  switch (doc.status) {
    case 'indexing':
      return progress === undefined ? 'indexing\u2026' : `indexing ${Math.round(progress * 100)}%`;
    case 'ready':
      return `ready \u00b7 ${count(doc.pages, 'page')} \u00b7 ${count(doc.chunks, 'passage')}`;
    case 'failed':
      return 'failed';
    default:
      return doc.status;
  }
}
