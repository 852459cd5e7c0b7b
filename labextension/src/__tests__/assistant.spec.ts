/**
 * Who answers, as the panel learns it: asked when the panel starts, on every reconnect and
 * after a reply that failed; and the chat's warning while the assistant cannot answer.
 */
import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

import { StudyMateError } from '../api';
import { AssistantNotice } from '../components/assistant';
import { assistantWarning } from '../format';
import type { AssistantInfo, Message } from '../protocol';
import { connectedModel } from './connected';

const fake: AssistantInfo = { name: 'openai', model: 'fake', ready: true, detail: 'fake answers.' };
const down: AssistantInfo = {
  ...fake,
  ready: false,
  detail: 'The model server could not be reached: is it running?'
};

/** Let pending promise callbacks run. */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

function reply(status: Message['status']): Message {
  return {
    id: 'a1',
    role: 'assistant',
    content: '',
    citations: [],
    timestamp: '2024-01-01T00:00:00Z',
    chat_id: 'c1',
    status
  };
}

function setUp(assistant: jest.Mock) {
  const quiet = jest.fn().mockResolvedValue([]);
  const retrieval = jest.fn().mockRejectedValue(new Error('none'));
  const { model, notices } = connectedModel({
    assistant,
    chats: quiet,
    documents: quiet,
    retrieval
  });
  jest.spyOn(model['_connection'], 'start').mockImplementation(() => undefined);
  return { model, notices };
}

describe('who answers', () => {
  beforeEach(() => jest.spyOn(console, 'debug').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('is asked when the panel starts', async () => {
    const assistant = jest.fn().mockResolvedValue(fake);
    const { model } = setUp(assistant);
    model.start();
    await settle();
    expect(assistant).toHaveBeenCalledTimes(1);
    expect(model.state.assistant).toEqual(fake);
  });

  it('is asked again on every reconnect: the model server may be back, or gone', async () => {
    const assistant = jest.fn().mockResolvedValueOnce(down).mockResolvedValueOnce(fake);
    const { model } = setUp(assistant);
    model['_onOpen']();
    await settle();
    expect(model.state.assistant).toEqual(down);
    model['_onOpen']();
    await settle();
    expect(assistant).toHaveBeenCalledTimes(2);
    expect(model.state.assistant).toEqual(fake);
  });

  it('is asked again after a reply ends in error, and not after one that completes', async () => {
    const assistant = jest.fn().mockResolvedValue(down);
    const { model } = setUp(assistant);
    const event = (m: Message) => ({ message: m, user_id: 'assistant', chat_id: 'c1' });
    model['_onFrame']({ type: 'message', data: event(reply('complete')) });
    await settle();
    expect(assistant).not.toHaveBeenCalled();
    model['_onFrame']({ type: 'message', data: event(reply('error')) });
    await settle();
    expect(assistant).toHaveBeenCalledTimes(1);
    expect(model.state.assistant).toEqual(down);
  });

  it('keeps the newest answer when an older one comes late', async () => {
    let answerFirst: (info: AssistantInfo) => void = () => undefined;
    const first = new Promise<AssistantInfo>(resolve => (answerFirst = resolve));
    const assistant = jest.fn().mockReturnValueOnce(first).mockResolvedValueOnce(down);
    const { model } = setUp(assistant);
    const older = model.refreshAssistant();
    await model.refreshAssistant();
    answerFirst(fake);
    await older;
    expect(model.state.assistant).toEqual(down);
  });

  it('is simply unknown on a server without the endpoint, with nothing to report', async () => {
    const missing = new StudyMateError(404, 'not_found', 'Not Found');
    const { model, notices } = setUp(jest.fn().mockRejectedValue(missing));
    await model.refreshAssistant();
    expect(model.state.assistant).toBeNull();
    expect(notices).toEqual([]);
  });
});

describe("the chat's warning", () => {
  const render = (warning: string | null) =>
    renderToStaticMarkup(
      React.createElement(AssistantNotice, { warning, onCheck: () => undefined })
    );

  it('says why the model cannot answer, with a way to check again', () => {
    const html = render(assistantWarning(down));
    expect(html).toContain('The language model fake cannot answer now.');
    expect(html).toContain('could not be reached: is it running?');
    expect(html).toContain('Check again');
  });

  it('is not there while the assistant can answer', () => {
    expect(render(assistantWarning(fake))).toBe('');
  });

  it("shows the server's sentence as text, never as HTML", () => {
    const hostile = { ...down, detail: 'Down <img src=x onerror=alert(1)> here.' };
    const html = render(assistantWarning(hostile));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
