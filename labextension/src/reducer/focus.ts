/**
 * A message to bring into view (a search result chosen): the chat's history is paged back
 * until it is there, then the view scrolls to it and highlights it once.
 */
import type { Action, State } from './state';

export type FocusAction = Extract<Action, { type: 'focus/set' } | { type: 'focus/cleared' }>;

/**
 * Where paging stands for the message `messageId` of `chatId`: `found` (it is loaded),
 * `older` (ask for the page before `before`, the oldest message held; `undefined`: nothing
 * is held yet, ask for the newest page), `waiting` (no page has come yet), or `missing`
 * (the whole history is here and it is not in it).
 */
export type FocusStep =
  { step: 'found' } | { step: 'older'; before: string } | { step: 'waiting' } | { step: 'missing' };

export function focusStep(state: State, chatId: string, messageId: string): FocusStep {
  const list = state.messages[chatId] ?? [];
  if (list.some(m => m.id === messageId && !m.pending)) {
    return { step: 'found' };
  }
  const more = state.hasMore[chatId];
  if (more === undefined) {
    return { step: 'waiting' };
  }
  const oldest = list.find(m => !m.pending);
  if (!more || !oldest) {
    return { step: 'missing' };
  }
  return { step: 'older', before: oldest.id };
}

export function reduceFocus(state: State, action: FocusAction): State {
  switch (action.type) {
    case 'focus/set':
      return { ...state, focus: { chatId: action.chatId, messageId: action.messageId } };
    case 'focus/cleared':
      return state.focus === null ? state : { ...state, focus: null };
  }
}
