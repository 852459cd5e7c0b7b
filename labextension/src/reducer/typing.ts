/** Who is typing in which chat: `typing` frames, and the end of a reply, which stops it. */
import type { TypingEventData } from '../protocol';
import type { State } from './state';

export function setTyping(state: State, chatKey: string, who: string, isTyping: boolean): State {
  const current = state.typing[chatKey] ?? {};
  if (!!current[who] === isTyping) {
    return state;
  }
  const updated = { ...current };
  if (isTyping) {
    updated[who] = true;
  } else {
    delete updated[who];
  }
  return { ...state, typing: { ...state.typing, [chatKey]: updated } };
}

/** A `typing` frame: the assistant is one name, whatever user id the server gives it. */
export function applyTyping(state: State, typing: TypingEventData): State {
  const who = typing.role === 'assistant' ? 'assistant' : typing.user_id;
  return setTyping(state, typing.chat_id, who, typing.is_typing);
}

/** Who is typing in that chat, other than this connection. */
export function typingIn(state: State, chatKey: string | null): string[] {
  if (chatKey === null) {
    return [];
  }
  const who = state.typing[state.drafts[chatKey] ?? chatKey] ?? {};
  return Object.keys(who).filter(k => who[k]);
}
