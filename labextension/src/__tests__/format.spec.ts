import { backoffDelay } from '../backoff';
import {
  assistantLine,
  assistantWarning,
  chatTitle,
  citationLabel,
  citationTitle,
  citedPlace,
  kindOf,
  passageBody,
  pdfFragment,
  safeFileName,
  vectorStatusLine
} from '../format';
import { documentRecord } from './reducer/fixtures';

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

  it('names a Markdown section or a notebook cell by its section, not its numbers', () => {
    const factors = {
      ...citation,
      filename: 'notes.md',
      page_start: 1,
      page_end: 3,
      anchor: 'factors',
      section: 'Factors'
    };
    expect(citationLabel(2, factors)).toBe('[2] notes.md \u00a7 Factors');
    expect(citationTitle(factors, false)).toBe('notes.md, \u00a7 Factors');
    const cell = { ...factors, filename: 'lab.ipynb', anchor: 'a1b2', section: 'Fitting' };
    expect(citationLabel(1, cell)).toBe('[1] lab.ipynb \u00a7 Fitting');
  });

  it('keeps the pages of a PDF, which has no anchor, even when it knows its section', () => {
    const chapter = {
      ...citation,
      filename: 'R-intro.pdf',
      page_start: 34,
      page_end: 34,
      anchor: null,
      section: 'Statistical models in R'
    };
    expect(citationLabel(1, chapter)).toBe('[1] R-intro.pdf p.34');
  });

  it('keeps the numbers when an anchored passage has no section title', () => {
    expect(citedPlace({ ...citation, anchor: 'cell-1', section: null })).toBe('p.3\u20135');
    expect(citedPlace({ ...citation, anchor: 'cell-1' })).toBe('p.3\u20135');
  });
});

describe('the vector step of a library document', () => {
  const ready = documentRecord('d', { status: 'ready', pages: 3, chunks: 9 });

  it('shows its progress while vectors are computed for a searchable document', () => {
    const pending = { ...ready, vectors: 'pending' as const, vectors_progress: 0.4 };
    expect(vectorStatusLine(pending)).toBe('vectors 40%');
    expect(vectorStatusLine({ ...pending, vectors_progress: 0 })).toBe('vectors 0%');
  });

  it('says when they failed', () => {
    expect(vectorStatusLine({ ...ready, vectors: 'failed' })).toBe('vectors failed');
  });

  it('says nothing when ready, when the retriever uses none, or before the text is in', () => {
    expect(vectorStatusLine({ ...ready, vectors: 'ready', vectors_progress: 1 })).toBeNull();
    expect(vectorStatusLine({ ...ready, vectors: 'off' })).toBeNull();
    expect(vectorStatusLine({ ...ready, status: 'indexing', vectors: 'pending' })).toBeNull();
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

  it('leaves the heading line a preview already shows out of the passage', () => {
    expect(passageBody('## Factors\n\nA factor divides.', 'Factors')).toBe('A factor divides.');
    expect(passageBody('Factors\nA factor divides.', 'Factors')).toBe('A factor divides.');
    expect(passageBody('Primes come first.', 'Factors')).toBe('Primes come first.');
    expect(passageBody('Factors\nA factor divides.', null)).toBe('Factors\nA factor divides.');
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

describe('who answers', () => {
  const fake = { name: 'openai', model: 'fake', ready: true, detail: 'fake answers.' };
  const down = {
    ...fake,
    ready: false,
    detail: 'The model server could not be reached: is it running?'
  };

  it('names the model and the kind of server it runs on', () => {
    expect(assistantLine(fake)).toBe('Answered by fake (OpenAI-compatible server)');
    expect(assistantWarning(fake)).toBeNull();
  });

  it('says the offline assistant answers from the library itself', () => {
    const extractive = { name: 'extractive', model: null, ready: true, detail: '' };
    expect(assistantLine(extractive)).toBe("Answered offline from your library's passages");
    expect(assistantWarning(extractive)).toBeNull();
  });

  it('names an installed assistant by its name, with its model when it has one', () => {
    const custom = { name: 'tutor', model: null, ready: true, detail: '' };
    expect(assistantLine(custom)).toBe('Answered by the tutor assistant');
    expect(assistantLine({ ...custom, model: 'tiny' })).toBe('Answered by tiny (tutor)');
  });

  it("warns that the model cannot answer now, in the server's own words why", () => {
    expect(assistantWarning(down)).toBe(
      'The language model fake cannot answer now. ' +
        'The model server could not be reached: is it running?'
    );
  });

  it('still warns, in one sentence, when the server gives no reason', () => {
    expect(assistantWarning({ ...down, detail: ' ' })).toBe(
      'The language model fake cannot answer now.'
    );
    const custom = { name: 'tutor', model: null, ready: false, detail: '' };
    expect(assistantWarning(custom)).toBe('The tutor assistant cannot answer now.');
  });
});
