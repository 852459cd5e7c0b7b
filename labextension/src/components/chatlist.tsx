/** The user's chats, newest first: open, rename, delete, or start a new one. */
import { addIcon, deleteIcon, editIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { State } from '../reducer';
import type { IPanelServices } from '../services';
import { relativeTime } from './hooks';

export interface IChatListProps {
  state: State;
  services: IPanelServices;
}

export function ChatList(props: IChatListProps): JSX.Element {
  const { state, services } = props;
  const { model } = services;

  const rename = async (chatId: string, current: string) => {
    const title = await services.prompt('Rename chat', current);
    if (title !== null && title.trim() && title.trim() !== current) {
      await model.renameChat(chatId, title.trim());
    }
  };

  const remove = async (chatId: string, title: string) => {
    if (await services.confirm('Delete chat', `Delete \u201c${title}\u201d and all its messages?`, 'Delete')) {
      await model.deleteChat(chatId);
    }
  };

  return (
    <div className="jp-StudyMate-chatList">
      <button type="button" className="jp-StudyMate-button jp-mod-accept jp-StudyMate-new" onClick={() => model.newChat()}>
        <addIcon.react tag="span" className="jp-StudyMate-buttonIcon" />
        New chat
      </button>
      {state.chats.length === 0 && <p className="jp-StudyMate-empty">No chats yet.</p>}
      <ul className="jp-StudyMate-chats" aria-label="Chats">
        {state.chats.map(chat => (
          <li key={chat.id} className="jp-StudyMate-chatItem" data-chat-id={chat.id}>
            <button
              type="button"
              className="jp-StudyMate-chatOpen"
              title={`${chat.title}\nUpdated ${new Date(chat.updated_at).toLocaleString()}`}
              onClick={() => model.openChat(chat.id)}
            >
              <span className="jp-StudyMate-chatName">{chat.title}</span>
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
        ))}
      </ul>
    </div>
  );
}
