/**
 * Who answers in the chat (`GET assistant`): the assistant, its model, and whether it can
 * answer now; and which frames say a reply failed, after which the panel asks again (a model
 * server that went down mid-session shows then, not only on the next reconnect).
 */
import type { ServerFrame } from '../protocol';
import type { Action, State } from './state';

export type AssistantAction = Extract<Action, { type: 'assistant/loaded' }>;

export function reduceAssistant(state: State, action: AssistantAction): State {
  return { ...state, assistant: action.info };
}

/** Whether `frame` ends an assistant's reply with status `error`. */
export function endsReplyInError(frame: ServerFrame): boolean {
  switch (frame.type) {
    case 'message':
      return frame.data.message.role === 'assistant' && frame.data.message.status === 'error';
    case 'message_delta':
      return frame.data.status === 'error';
    default:
      return false;
  }
}
