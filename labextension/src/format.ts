/** Pure text formatting shared by the views (unit-tested). */
import type { AssistantInfo, Citation, Document, Passage } from './protocol';

/** `p.3` or `p.3–5` (pages are 1-based). */
export function pageLabel(start: number, end: number): string {
  return end > start ? `p.${start}\u2013${end}` : `p.${start}`;
}

/**
 * The section a citation is named by: set when it has both an anchor and a section (a
 * Markdown section, a notebook cell); `null` for a PDF, named by its pages.
 */
export function citedSection(cited: Citation | Passage): string | null {
  return cited.anchor && cited.section ? cited.section : null;
}

/** Where a citation points: `§ Factors` for a section, else `p.X–Y`. */
export function citedPlace(cited: Citation | Passage): string {
  const section = citedSection(cited);
  return section !== null ? `\u00a7 ${section}` : pageLabel(cited.page_start, cited.page_end);
}

/** A citation chip's text: `[n] file p.X–Y`, or `[n] file § Section` for a section. */
export function citationLabel(n: number, citation: Citation): string {
  return `[${n}] ${citation.filename} ${citedPlace(citation)}`;
}

/** A chip's tooltip; the score only when the user asked to see scores. */
export function citationTitle(citation: Citation, showScores: boolean): string {
  const where = `${citation.filename}, ${citedPlace(citation)}`;
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

/** What a document's units are called: a PDF's pages, a note's sections, a notebook's cells. */
const UNIT_NOUN: Record<string, string> = {
  pdf: 'page',
  markdown: 'section',
  notebook: 'cell',
  text: 'part'
};

/** A library document's status line: `indexing 40%`, `ready · 3 pages · 12 passages`, … */
export function documentStatusLine(doc: Document, progress?: number): string {
  switch (doc.status) {
    case 'indexing':
      return progress === undefined ? 'indexing\u2026' : `indexing ${Math.round(progress * 100)}%`;
    case 'ready': {
      const units = count(doc.pages, UNIT_NOUN[doc.kind] ?? 'page');
      return `ready \u00b7 ${units} \u00b7 ${count(doc.chunks, 'passage')}`;
    }
    case 'failed':
      return 'failed';
    default:
      return doc.status;
  }
}

/**
 * A passage's text for a preview headed by its section: without the heading line it starts
 * with (a Markdown section's own `## Factors`), which the preview shows already.
 */
export function passageBody(text: string, section?: string | null): string {
  if (!section) {
    return text;
  }
  const [first, ...rest] = text.split('\n');
  const title = first.replace(/^#+\s*/, '').trim();
  return title === section.trim() ? rest.join('\n').replace(/^\s+/, '') : text;
}

/**
 * A document's vector step, when there is something to say: `vectors 40%` while they are
 * computed (the document is already searchable by its words), `vectors failed`. `null` when
 * they are ready, when the retriever uses none, and while the text itself is not indexed.
 */
export function vectorStatusLine(doc: Document): string | null {
  if (doc.status !== 'ready') {
    return null;
  }
  switch (doc.vectors) {
    case 'pending': {
      const share = Math.max(0, Math.min(1, doc.vectors_progress ?? 0));
      return `vectors ${Math.round(share * 100)}%`;
    }
    case 'failed':
      return 'vectors failed';
    default:
      return null;
  }
}

/** The kinds of server a built-in assistant's model runs on, by the assistant's name. */
const MODEL_SERVERS: Record<string, string> = {
  openai: 'OpenAI-compatible server'
};

/**
 * Who answers, for the line under the message box: `Answered by llama3.2 (OpenAI-compatible
 * server)`; the offline extractive assistant answers with passages of the library itself.
 */
export function assistantLine(info: AssistantInfo): string {
  if (info.name === 'extractive') {
    return "Answered offline from your library's passages";
  }
  if (info.model) {
    return `Answered by ${info.model} (${MODEL_SERVERS[info.name] ?? info.name})`;
  }
  return `Answered by the ${info.name} assistant`;
}

/**
 * What the chat warns of while the assistant cannot answer (its model server is down, refuses
 * the key, lacks the model), with the server's own sentence why; `null` while it can.
 */
export function assistantWarning(info: AssistantInfo): string | null {
  if (info.ready) {
    return null;
  }
  const who = info.model ? `The language model ${info.model}` : `The ${info.name} assistant`;
  const why = info.detail.trim();
  return `${who} cannot answer now.${why ? ` ${why}` : ''}`;
}

/**
 * What a citation says when its file is not in the user's Jupyter files (it cannot be
 * opened), above the stored passage it shows instead.
 */
export function missingFileNote(library?: Document['library']): string {
  return library === 'course'
    ? 'This file is not in your Jupyter files (it is in the course library); the passage is ' +
        'shown below.'
    : 'This file is no longer in your Jupyter files; the passage is shown below.';
}
