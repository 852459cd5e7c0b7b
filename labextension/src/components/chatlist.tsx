/**
 * The user's chats, newest first, each with its unread replies: open, rename, delete, or
 * start a new one; above them a search over every message.
 */
import { addIcon, deleteIcon, editIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { type State, unreadBadge } from '../reducer';
import type { IPanelServices } from '../services';
import { relativeTime } from './hooks';
import { SearchBox, SearchResults } from './search';

export interface IChatListProps {
  state: State;
  services: IPanelServices;
  /** The search box's text (kept by the panel while a chat is open). */
  query: string;
  onQuery: (query: string) => void;
}

export function ChatList(props: IChatListProps): JSX.Element {
  const { services, query, onQuery } = props;
  const { model } = services;

  const rename = async (chatId: string, current: string) => {
    const title = await services.prompt('Rename chat', current);
    if (title !== null && title.trim() && title.trim() !== current) {
      await model.renameChat(chatId, title.trim());
    }
  };

  const remove = async (chatId: string, title: string) => {
    if (
      await services.confirm(
        'Delete chat',
        `Delete \u201c${title}\u201d and all its messages?`,
        'Delete'
      )
    ) {
      await model.deleteChat(chatId);
    }
  };

  return (
    <div className="jp-StudyMate-chatList">
      <button
        type="button"
        className="jp-StudyMate-button jp-mod-accept jp-StudyMate-new"
        onClick={() => model.newChat()}
      >
        <addIcon.react tag="span" className="jp-StudyMate-buttonIcon" />
        New chat
      </button>
      <SearchBox query={query} onQuery={onQuery} />
      {query.trim() ? (
        <SearchResults model={model} query={query} />
      ) : (
        <ChatItems {...props} rename={rename} remove={remove} />
      )}
    </div>
  );
}

function ChatItems(
  props: IChatListProps & {
    rename: (chatId: string, title: string) => Promise<void>;
    remove: (chatId: string, title: string) => Promise<void>;
  }
): JSX.Element {
  const { state, services, rename, remove } = props;
  const { model } = services;
  return (
    <>
      {state.chats.length === 0 && <p className="jp-StudyMate-empty">No chats yet.</p>}
      <ul className="jp-StudyMate-chats" aria-label="Chats">
        {state.chats.map(chat => {
          const badge = unreadBadge(chat.unread);
          const unread = badge ? `${badge} unread ${chat.unread === 1 ? 'reply' : 'replies'}` : '';
          return (
            <li
              key={chat.id}
              className={`jp-StudyMate-chatItem${badge ? ' jp-mod-unread' : ''}`}
              data-chat-id={chat.id}
            >
              <button
                type="button"
                className="jp-StudyMate-chatOpen"
                title={[chat.title, `Updated ${new Date(chat.updated_at).toLocaleString()}`, unread]
                  .filter(Boolean)
                  .join('\n')}
                onClick={() => model.openChat(chat.id)}
              >
                <span className="jp-StudyMate-chatNameRow">
                  <span className="jp-StudyMate-chatName">{chat.title}</span>
                  {badge && (
                    <span className="jp-StudyMate-unread" aria-label={unread} title={unread}>
                      {badge}
                    </span>
                  )}
                </span>
                <span className="jp-StudyMate-chatTime">{relativeTime(chat.updated_at)}</span>
              </button>
              <button
                type="button"
                className="jp-StudyMate-iconButton"
                title="Rename"
                aria-label={`Rename ${chat.title}`}
                onClick={() => void rename(chat.id, chat.title)}
              >
                <editIcon.react tag="span" />
              </button>
              <button
                type="button"
                className="jp-StudyMate-iconButton"
                title="Delete"
                aria-label={`Delete ${chat.title}`}
                onClick={() => void remove(chat.id, chat.title)}
              >
                <deleteIcon.react tag="span" />
              </button>
            </li>
          );
        })}
      </ul>
    </>
  );
}
