import type { Document } from '../../protocol';
import { courseDocuments, isInstructor, personalDocuments, reduce } from '../../reducer';
import { connected, documentRecord, frame } from './fixtures';

describe('who the user is to the course library', () => {
  it('is no instructor until the server says so', () => {
    const s = connected();
    expect(s.me).toBeNull();
    expect(isInstructor(s)).toBe(false);
  });

  it('is an instructor only when GET me says instructor: true', () => {
    const me = { user_id: 'alice', display_name: 'Alice' };
    expect(isInstructor(reduce(connected(), { type: 'me/loaded', me }))).toBe(false);
    const instructor = reduce(connected(), { type: 'me/loaded', me: { ...me, instructor: true } });
    expect(isInstructor(instructor)).toBe(true);
    // A server restarted without the setting makes the same user a student again.
    const again = reduce(instructor, { type: 'me/loaded', me: { ...me, instructor: false } });
    expect(isInstructor(again)).toBe(false);
  });
});

describe("the library split into the course's and the user's own documents", () => {
  const course = documentRecord('syllabus', { library: 'course' });
  const mine = documentRecord('notes');

  it('keeps course documents apart from personal ones, live frames included', () => {
    let s = reduce(connected(), { type: 'documents/loaded', documents: [mine] });
    s = reduce(s, frame({ type: 'library', data: { event: 'updated', document: course } }));
    expect(courseDocuments(s).map(d => d.id)).toEqual(['syllabus']);
    expect(personalDocuments(s).map(d => d.id)).toEqual(['notes']);
    s = reduce(s, frame({ type: 'library', data: { event: 'removed', document_id: 'syllabus' } }));
    expect(courseDocuments(s)).toEqual([]);
  });

  it("takes a document without a library (an older server) for the user's own", () => {
    const { library: _, ...old } = mine;
    const s = reduce(connected(), {
      type: 'documents/loaded',
      documents: [old as unknown as Document]
    });
    expect(personalDocuments(s).map(d => d.id)).toEqual(['notes']);
    expect(courseDocuments(s)).toEqual([]);
  });
});
