import { StudyMateError } from '../api';
import type { Chat } from '../protocol';
import { messagesOf } from '../reducer';
import { connectedModel } from './connected';

const physics = { folder: 'physics', document_ids: null };
const created: Chat = {
  id: 'real',
  title: 'What is entropy?',
  created_at: '2024-01-01T00:00:00Z',
  updated_at: '2024-01-01T00:00:00Z',
  message_count: 0,
  scope: physics,
  unread: 0,
  read_up_to: null
};

/** Let pending promise callbacks run. */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

/** A model on an open connection whose frames are recorded, and a fake `POST chats`. */
function setUp() {
  const createChat = jest.fn<Promise<Chat>, [unknown]>();
  const { model, frames, notices } = connectedModel({ createChat });
  model.newChat();
  const draftKey = model.state.activeChat!;
  const questions = () => frames.filter(f => f.type === 'message');
  return { model, createChat, draftKey, questions, notices };
}

describe('a new chat limited before its first question', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is created with its scope and its first question as title, then asks in it', async () => {
    const { model, createChat, draftKey, questions } = setUp();
    expect(await model.setChatScope(draftKey, physics)).toBe(true);
    expect(createChat).not.toHaveBeenCalled();
    let answer!: (chat: Chat) => void;
    createChat.mockReturnValue(new Promise(resolve => (answer = resolve)));

    model.send('What is entropy?');
    model.send('And enthalpy?');
    expect(createChat).toHaveBeenCalledTimes(1);
    expect(createChat).toHaveBeenCalledWith({ title: 'What is entropy?', scope: physics });
    expect(questions()).toEqual([]);
    expect(messagesOf(model.state, draftKey).map(m => m.content)).toEqual([
      'What is entropy?',
      'And enthalpy?'
    ]);

    answer(created);
    await settle();
    expect(model.state.activeChat).toBe('real');
    expect(model.state.chats).toEqual([created]);
    expect(questions().map(f => f.data)).toEqual([
      { message: expect.objectContaining({ content: 'What is entropy?' }), chat_id: 'real' },
      { message: expect.objectContaining({ content: 'And enthalpy?' }), chat_id: 'real' }
    ]);
    expect(createChat).toHaveBeenCalledTimes(1);
  });

  it('asks at once, creating nothing, when its scope is back to the whole library', async () => {
    const { model, createChat, draftKey, questions } = setUp();
    await model.setChatScope(draftKey, physics);
    await model.setChatScope(draftKey, null);
    model.send('What is entropy?');
    await settle();
    expect(createChat).not.toHaveBeenCalled();
    expect(questions().map(f => f.data)).toEqual([
      { message: expect.objectContaining({ content: 'What is entropy?' }) }
    ]);
  });

  it('keeps the question and says why when it cannot be created; Retry tries again', async () => {
    const { model, createChat, draftKey, questions, notices } = setUp();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    await model.setChatScope(draftKey, physics);
    createChat.mockRejectedValueOnce(new StudyMateError(500, 'internal', 'Database is locked'));
    model.send('What is entropy?');
    await settle();
    expect(notices).toEqual(['Cannot create the chat: Database is locked']);
    expect(warn).toHaveBeenCalledTimes(1);
    const [question] = messagesOf(model.state, draftKey);
    expect(question).toMatchObject({ content: 'What is entropy?', error: 'Database is locked' });
    expect(questions()).toEqual([]);

    createChat.mockResolvedValueOnce(created);
    model.retry(question.id);
    await settle();
    expect(createChat).toHaveBeenCalledTimes(2);
    expect(model.state.activeChat).toBe('real');
    expect(questions().map(f => f.data)).toEqual([
      { message: expect.objectContaining({ id: question.id }), chat_id: 'real' }
    ]);
  });
});

describe('how the library ranks', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is asked of the server, whose notice the Library tab then shows', async () => {
    const info = { name: 'hybrid', signals: ['bm25'], notice: 'The MiniLM weights are missing.' };
    const retrieval = jest.fn().mockResolvedValue(info);
    const { model, notices } = connectedModel({ retrieval });
    await model.refreshRetrieval();
    expect(retrieval).toHaveBeenCalledTimes(1);
    expect(model.state.retrieval).toEqual(info);
    model.dismissRetrievalNotice();
    expect(model.state.dismissedNotice).toBe(info.notice);
    expect(notices).toEqual([]); // the Library tab shows it, not a passing notice
  });

  it('is simply unknown on a server without the endpoint, with nothing to report', async () => {
    jest.spyOn(console, 'debug').mockImplementation(() => undefined);
    const missing = new StudyMateError(404, 'not_found', 'Not Found');
    const retrieval = jest.fn().mockRejectedValue(missing);
    const { model, notices } = connectedModel({ retrieval });
    await model.refreshRetrieval();
    expect(model.state.retrieval).toBeNull();
    expect(notices).toEqual([]);
  });
});
