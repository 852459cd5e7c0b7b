/** The frames the panel reads, and the comm message a notebook widget sends it. */
import { isOpenCitationCommMessage, parseServerFrame } from '../protocol';

describe('protocol', () => {
  it('parses known frames and ignores anything else', () => {
    expect(parseServerFrame('{"type":"auth_ok","data":{"user_id":"u"}}')?.type).toBe('auth_ok');
    expect(parseServerFrame('not json')).toBeNull();
    expect(parseServerFrame('{"type":"launch_missiles","data":{}}')).toBeNull();
    expect(parseServerFrame('{"type":"message"}')).toBeNull();
  });

  it('recognizes the open_citation comm message', () => {
    expect(isOpenCitationCommMessage({ action: 'open_citation', path: 'a.pdf', page: 3, anchor: null })).toBe(true);
    expect(isOpenCitationCommMessage({ action: 'run', path: 'a.pdf' })).toBe(false);
  });
});
