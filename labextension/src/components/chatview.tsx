/**
 * An open chat: its messages, who is typing, the composer, and export. It tells the model
 * when the newest message is on screen (for `read`), and brings a message chosen in the
 * search into view, highlighted for a moment.
 */
import { addIcon, caretLeftIcon, downloadIcon, notebookIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { assistantLine, assistantWarning } from '../format';
import {
  isBlankDraft,
  isDraft,
  isStreaming,
  libraryIsEmpty,
  messagesOf,
  newestSettled,
  State,
  typingIn
} from '../reducer';
import type { IPanelServices, IStudyMateSettings } from '../services';
import { AddedDocuments, EmptyLibrary } from './addfiles';
import { AssistantNotice } from './assistant';
import { Composer } from './composer';
import { MessageItem } from './message';
import { ChatScopeBar } from './scope';

export interface IChatViewProps {
  state: State;
  services: IPanelServices;
  settings: IStudyMateSettings;
}

/** How long a message brought into view from the search stays highlighted. */
const HIGHLIGHT_MS = 4000;

/** The list item of a message in the chat's scroller. */
function messageNode(root: HTMLElement | null, id: string): HTMLElement | null {
  return root?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(id)}"]`) ?? null;
}

function typingText(who: string[]): string {
  if (who.includes('assistant')) {
    return 'StudyMate is typing\u2026';
  }
  return who.length ? 'Typing in another window\u2026' : '';
}

export function ChatView(props: IChatViewProps): JSX.Element {
  const { state, services, settings } = props;
  const chatKey = state.activeChat!;
  const chat = state.chats.find(c => c.id === chatKey);
  const messages = messagesOf(state, chatKey);
  const streaming = isStreaming(state, chatKey);
  const typing = typingIn(state, chatKey);
  const draft = isDraft(chatKey);
  const title = chat?.title ?? (draft ? 'New chat' : 'Chat');

  // Follow the conversation while the user is at the bottom; leave them be when scrolled up.
  const list = React.useRef<HTMLDivElement>(null);
  const pinned = React.useRef(true);
  const last = messages[messages.length - 1];
  React.useLayoutEffect(() => {
    const node = list.current;
    if (node && pinned.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [messages.length, last?.content, typing.length]);
  // The newest settled message on screen (while the panel shows) is what `read` is about.
  const { model } = services;
  const settledId = newestSettled(messages)?.id ?? null;
  React.useEffect(() => {
    const root = list.current;
    const node = settledId && !draft ? messageNode(root, settledId) : null;
    if (!root || !node || !settledId || typeof IntersectionObserver === 'undefined') {
      model.seen(chatKey, null);
      return;
    }
    const observer = new IntersectionObserver(
      entries => {
        const entry = entries[entries.length - 1];
        model.seen(chatKey, entry.isIntersecting ? settledId : null);
      },
      { root }
    );
    observer.observe(node);
    return () => {
      observer.disconnect();
      model.seen(chatKey, null);
    };
  }, [model, chatKey, settledId, draft]);

  // A search result chosen: once its message is loaded, scroll to it and highlight it.
  const focus = state.focus?.chatId === chatKey ? state.focus.messageId : null;
  const focusLoaded = focus !== null && messages.some(m => m.id === focus && !m.pending);
  const [highlight, setHighlight] = React.useState<string | null>(null);
  React.useLayoutEffect(() => {
    const node = focus && focusLoaded ? messageNode(list.current, focus) : null;
    if (!focus || !node) {
      return;
    }
    pinned.current = false;
    node.scrollIntoView({ block: 'center' });
    setHighlight(focus);
    model.focusShown();
  }, [model, focus, focusLoaded]);
  React.useEffect(() => {
    if (!highlight) {
      return;
    }
    // Markdown renders a moment later and may move it: bring it back into view once.
    const again = setTimeout(
      () => messageNode(list.current, highlight)?.scrollIntoView({ block: 'center' }),
      300
    );
    const done = setTimeout(() => setHighlight(null), HIGHLIGHT_MS);
    return () => {
      clearTimeout(again);
      clearTimeout(done);
    };
  }, [highlight]);

  const onScroll = () => {
    const node = list.current;
    if (node) {
      pinned.current = node.scrollHeight - node.scrollTop - node.clientHeight < 40;
    }
  };

  const assistant = state.assistant;
  const warning = assistant ? assistantWarning(assistant) : null;
  // Who answers, beside Send; while it cannot, the warning above the messages says so.
  const hint =
    state.connection !== 'connected'
      ? 'Not connected: messages are queued and sent when the connection is back.'
      : assistant && !warning
        ? assistantLine(assistant)
        : '';

  return (
    <div className="jp-StudyMate-chat" data-chat-id={chatKey}>
      <div className="jp-StudyMate-chatHeader">
        <button
          type="button"
          className="jp-StudyMate-iconButton"
          title="All chats"
          aria-label="All chats"
          onClick={() => services.model.openChat(null)}
        >
          <caretLeftIcon.react tag="span" />
        </button>
        <span className="jp-StudyMate-chatTitle" title={title}>
          {title}
        </span>
        {!isBlankDraft(state, chatKey) && (
          <button
            type="button"
            className="jp-StudyMate-iconButton"
            title="New chat"
            aria-label="New chat"
            onClick={() => services.model.newChat()}
          >
            <addIcon.react tag="span" />
          </button>
        )}
        {!draft && (
          <>
            <button
              type="button"
              className="jp-StudyMate-iconButton"
              title="Export as Markdown"
              aria-label="Export as Markdown"
              onClick={() => void services.exportMarkdown(chatKey, title)}
            >
              <downloadIcon.react tag="span" />
            </button>
            <button
              type="button"
              className="jp-StudyMate-iconButton"
              title="Open as notebook"
              aria-label="Open as notebook"
              onClick={() => void services.exportNotebook(chatKey, title)}
            >
              <notebookIcon.react tag="span" />
            </button>
          </>
        )}
      </div>
      <ChatScopeBar
        scope={(draft ? state.draftScopes[chatKey] : chat?.scope) ?? null}
        disabled={!draft && !chat}
        documents={state.documents}
        onSave={scope => services.model.setChatScope(chatKey, scope)}
      />
      <AssistantNotice
        warning={warning}
        onCheck={() => void services.model.refreshAssistant()}
      />
      <div className="jp-StudyMate-messages" ref={list} onScroll={onScroll}>
        {state.hasMore[chatKey] && (
          <button
            type="button"
            className="jp-StudyMate-button jp-StudyMate-older"
            onClick={() => services.model.loadOlder()}
          >
            Load older messages
          </button>
        )}
        {messages.length === 0 && (
          <div className="jp-StudyMate-intro">
            {libraryIsEmpty(state) ? (
              <EmptyLibrary services={services} />
            ) : (
              <p className="jp-StudyMate-empty">
                Ask a question about your course material. Answers cite the pages they come
                from.
              </p>
            )}
            <AddedDocuments state={state} />
          </div>
        )}
        <ol className="jp-StudyMate-messageList" aria-live="polite">
          {messages.map(m => (
            <MessageItem
              key={m.id}
              message={m}
              services={services}
              showScores={settings.showScores}
              userId={state.userId}
              highlighted={m.id === highlight}
            />
          ))}
        </ol>
        <div className="jp-StudyMate-typing" role="status">
          {typingText(typing)}
        </div>
      </div>
      <Composer
        onSend={text => services.model.send(text)}
        onStop={() => services.model.stop()}
        onTyping={() => services.model.userTyping()}
        streaming={streaming}
        sendWithShiftEnter={settings.sendWithShiftEnter}
        hint={hint}
        focusKey={chatKey}
      />
    </div>
  );
}
