/**
 * Read state: the unread badge of a chat in the list, and the decision to tell the server
 * the user has seen a chat up to a message (`read`), which clears that badge on every
 * connection of the user.
 */
import type { Chat } from '../protocol';
import type { LocalMessage } from './state';

/** Beyond this a badge says `99+`: the exact number matters less than that there are many. */
const BADGE_MAX = 99;

/** The badge of a chat with `unread` unread replies: `''` for none, `99+` for very many. */
export function unreadBadge(unread: number | null | undefined): string {
  if (!unread || unread < 0 || !Number.isFinite(unread)) {
    return '';
  }
  return unread > BADGE_MAX ? `${BADGE_MAX}+` : String(Math.floor(unread));
}

/**
 * The newest message of a chat the server holds as it will stay: not queued here, not a
 * reply still streaming (its end is newer news, to be read when it comes).
 */
export function newestSettled(messages: LocalMessage[]): LocalMessage | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m.pending && !m.error && m.status !== 'streaming') {
      return m;
    }
  }
  return null;
}

export interface ReadInput {
  /** The chat on screen, as the chat list has it (`undefined`: a draft, or not listed yet). */
  chat: Chat | undefined;
  /** Its messages, in display order. */
  messages: LocalMessage[];
  /** The message the view last reported on screen (the newest settled one), if any. */
  seen: string | null;
  /** Whether the panel is shown and the browser tab visible. */
  visible: boolean;
  /** The message this panel last said it read in that chat (not confirmed yet, perhaps). */
  sent?: string | null;
}

/**
 * The message to send `read` for, or `null`: the newest settled message, once it has been on
 * screen while the panel is visible, unless the chat is already read up to it (or past it).
 */
export function readToSend(input: ReadInput): string | null {
  const { chat, messages, seen, visible, sent } = input;
  if (!chat || !visible) {
    return null;
  }
  const newest = newestSettled(messages);
  if (!newest || newest.id !== seen || newest.id === sent) {
    return null;
  }
  if (newest.role === 'user' && !chat.unread) {
    // The user's own messages never count as unread: reading up to one changes nothing.
    return null;
  }
  const readUpTo = chat.read_up_to;
  if (readUpTo !== null && readUpTo !== undefined) {
    const readIndex = messages.findIndex(m => m.id === readUpTo);
    // Not among those loaded: it is older than the page on screen, so newest is unread.
    if (readIndex >= 0 && readIndex >= messages.indexOf(newest)) {
      return null;
    }
  }
  return newest.id;
}
