import { backoffDelay } from '../backoff';
import {
  chatTitle,
  citationLabel,
  citationTitle,
  kindOf,
  pdfFragment,
  safeFileName
} from '../format';

const citation = {
  document_id: 'd',
  chunk_id: 'k',
  filename: 'lecture.pdf',
  page_start: 3,
  page_end: 5,
  score: 0.87654
};

describe('citation chips', () => {
  it('reads [n] file p.X–Y, or p.X for one page', () => {
    expect(citationLabel(1, citation)).toBe('[1] lecture.pdf p.3\u20135');
    expect(citationLabel(2, { ...citation, page_end: 3 })).toBe('[2] lecture.pdf p.3');
  });

  it('shows the score in the tooltip only when asked', () => {
    expect(citationTitle(citation, false)).not.toContain('score');
    expect(citationTitle(citation, true)).toContain('score 0.877');
  });
});

describe('chat titles', () => {
  it('names a chat by its first question, on one line, as the server does', () => {
    expect(chatTitle('  What is\n  entropy?\t')).toBe('What is entropy?');
  });

  it('shortens a long question to 60 characters, ending with an ellipsis', () => {
    const title = chatTitle(`${'a'.repeat(58)} and more words`);
    expect(title).toBe(`${'a'.repeat(58)}\u2026`);
    expect(chatTitle('b'.repeat(60))).toBe('b'.repeat(60));
    expect(Array.from(chatTitle('\u{1F600}'.repeat(80)))).toHaveLength(60);
  });
});

describe('opening documents', () => {
  it('lands a PDF on its page', () => {
    expect(pdfFragment(7)).toBe('#page=7');
    expect(pdfFragment(undefined)).toBe('#page=1');
    expect(kindOf('a/B.PDF')).toBe('pdf');
    expect(kindOf('x.ipynb')).toBe('notebook');
    expect(kindOf('x.markdown')).toBe('markdown');
    expect(kindOf('x.txt')).toBe('text');
  });

  it('makes file names from chat titles without path separators', () => {
    expect(safeFileName('../../etc/passwd')).toBe('etc passwd');
    expect(safeFileName('   ')).toBe('StudyMate chat');
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially up to the cap, with jitter in [50%, 100%)', () => {
    const opts = { initial: 500, max: 30000, factor: 2 };
    expect(backoffDelay(0, opts, () => 0)).toBe(250);
    expect(backoffDelay(0, opts, () => 0.999999)).toBe(500);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(3000);
    expect(backoffDelay(20, opts, () => 0.999999)).toBe(30000);
    expect(backoffDelay(20, opts, () => 0)).toBe(15000);
  });
});
