/**
 * What the user thinks of a message: its reactions (`reaction` frames: all of them, as they
 * now stand) and the user's own feedback on an answer (`feedback` frames). Both come to every
 * connection of the user, so another tab's changes show here live. Live `message` frames
 * leave both out; the message keeps what it has (`upsertInto` merges).
 */
import type { FeedbackEventData, ReactionData } from '../protocol';
import type { LocalMessage, State } from './state';

function updateMessage(
  state: State,
  chatId: string,
  messageId: string,
  change: (m: LocalMessage) => LocalMessage
): State {
  const list = state.messages[chatId];
  const index = list ? list.findIndex(m => m.id === messageId) : -1;
  if (!list || index < 0) {
    // Not loaded here: the page that brings it carries its reactions and feedback.
    return state;
  }
  const updated = [...list];
  updated[index] = change(list[index]);
  return { ...state, messages: { ...state.messages, [chatId]: updated } };
}

export function applyReaction(state: State, data: ReactionData): State {
  return updateMessage(state, data.chat_id, data.message_id, m => ({
    ...m,
    reactions: data.reactions
  }));
}

export function applyFeedback(state: State, data: FeedbackEventData): State {
  return updateMessage(state, data.chat_id, data.message_id, m => ({
    ...m,
    feedback: data.feedback
  }));
}
