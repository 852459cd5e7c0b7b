import { StudyMateAPI } from '../api';
import { StudyMateModel } from '../model';
import type { ClientFrame } from '../protocol';

/**
 * A model on an open connection over `api` (a fake with what the test needs), recording the
 * frames it sends and the notices it shows.
 */
export function connectedModel(api: Partial<StudyMateAPI>): {
  model: StudyMateModel;
  frames: ClientFrame[];
  notices: string[];
} {
  const model = new StudyMateModel({ settings: {}, ...api } as unknown as StudyMateAPI);
  const frames: ClientFrame[] = [];
  jest.spyOn(model['_connection'], 'send').mockImplementation(frame => {
    frames.push(frame);
    return true;
  });
  const notices: string[] = [];
  model.notice.connect((_, notice) => notices.push(notice));
  model.dispatch({ type: 'connection/opened' });
  return { model, frames, notices };
}
