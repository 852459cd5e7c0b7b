/**
 * One message: role, Markdown content (streaming in place), citations, copy and retry, and
 * once stored its reactions (and on an answer the user's rating).
 */
import { copyIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { LocalMessage } from '../reducer';
import type { IPanelServices } from '../services';
import { CitationChip } from './citation';
import { Markdown } from './markdown';
import { MessageReactions } from './reactions';

export interface IMessageProps {
  message: LocalMessage;
  services: IPanelServices;
  showScores: boolean;
  /** Who the connection is (the server's `auth_ok`): whose reactions are "mine". */
  userId: string | null;
  /** Briefly, after a search result brought it into view. */
  highlighted?: boolean;
}

function codeOf(pre: HTMLPreElement): string {
  return (pre.querySelector('code') ?? pre).textContent ?? '';
}

function toolButton(label: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jp-StudyMate-codeButton';
  button.textContent = label;
  button.addEventListener('click', event => {
    event.preventDefault();
    event.stopPropagation();
    onClick();
  });
  return button;
}

function MessageItemImpl(props: IMessageProps): JSX.Element {
  const { message, services, showScores, userId } = props;
  const streaming = message.status === 'streaming';

  const decorateCode = React.useCallback(
    (pre: HTMLPreElement) => {
      if (pre.parentElement?.classList.contains('jp-StudyMate-code')) {
        return;
      }
      const wrapper = document.createElement('div');
      wrapper.className = 'jp-StudyMate-code';
      pre.replaceWith(wrapper);
      const bar = document.createElement('div');
      bar.className = 'jp-StudyMate-codeBar';
      bar.appendChild(toolButton('Copy', () => services.copy(codeOf(pre))));
      bar.appendChild(
        toolButton('Insert into notebook', () => {
          services.insertIntoNotebook(codeOf(pre));
        })
      );
      wrapper.appendChild(bar);
      wrapper.appendChild(pre);
    },
    [services]
  );

  const classes = [
    'jp-StudyMate-message',
    `jp-StudyMate-message-${message.role}`,
    message.pending ? 'jp-mod-pending' : '',
    message.error || message.status === 'error' ? 'jp-mod-error' : '',
    streaming ? 'jp-mod-streaming' : '',
    props.highlighted ? 'jp-mod-highlighted' : ''
  ].join(' ');
  // Reactions and ratings name a stored message; a reply gets them once it has ended.
  const stored = !message.pending && !message.error && !streaming && message.chat_id;

  const failed = message.error || message.status === 'error';
  return (
    <li className={classes} data-message-id={message.id} data-status={message.status ?? ''}>
      <div className="jp-StudyMate-messageHeader">
        <span className="jp-StudyMate-role">{message.role === 'user' ? 'You' : 'StudyMate'}</span>
        {message.pending && !message.error && (
          <span className="jp-StudyMate-badge" title="Sent when the connection is back">
            queued
          </span>
        )}
        {message.status === 'stopped' && <span className="jp-StudyMate-badge">stopped</span>}
        <span className="jp-StudyMate-spacer" />
        <button
          type="button"
          className="jp-StudyMate-iconButton"
          title="Copy message"
          aria-label="Copy message"
          onClick={() => services.copy(message.content)}
        >
          <copyIcon.react tag="span" />
        </button>
      </div>
      <Markdown
        rendermime={services.rendermime}
        source={message.content || (streaming ? '\u2026' : '')}
        decorateCode={streaming ? undefined : decorateCode}
      />
      {message.citations && message.citations.length > 0 && (
        <div className="jp-StudyMate-citations" aria-label="Sources">
          {message.citations.map((c, i) => (
            <CitationChip
              key={`${c.document_id}/${c.chunk_id}/${i}`}
              n={i + 1}
              citation={c}
              services={services}
              showScores={showScores}
            />
          ))}
        </div>
      )}
      {stored && (
        <MessageReactions
          message={message}
          chatId={message.chat_id!}
          userId={userId}
          model={services.model}
        />
      )}
      {failed && (
        <div className="jp-StudyMate-messageError" role="alert">
          <span>{message.error ?? 'The reply failed.'}</span>
          <button
            type="button"
            className="jp-StudyMate-button"
            onClick={() => services.model.retry(message.id)}
          >
            <refreshIcon.react tag="span" className="jp-StudyMate-buttonIcon" />
            Retry
          </button>
        </div>
      )}
    </li>
  );
}

export const MessageItem = React.memo(MessageItemImpl);
