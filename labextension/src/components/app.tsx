/** The StudyMate panel: connection indicator, Chats and Library tabs, notices. */
import * as React from 'react';

import type { ConnectionState } from '../reducer';
import type { IPanelServices, IStudyMateSettings } from '../services';
import { ChatList } from './chatlist';
import { ChatView } from './chatview';
import { useModelState } from './hooks';
import { Library } from './library';

const CONNECTION_LABEL: Record<ConnectionState, string> = {
  connected: 'Connected',
  reconnecting: 'Reconnecting\u2026',
  offline: 'Offline'
};

function ConnectionIndicator(props: {
  state: ConnectionState;
  onReconnect: () => void;
}): JSX.Element {
  return (
    <span
      className={`jp-StudyMate-connection jp-mod-${props.state}`}
      role="status"
      aria-label={`Connection: ${CONNECTION_LABEL[props.state]}`}
      data-state={props.state}
    >
      <span className="jp-StudyMate-dot" aria-hidden="true" />
      {CONNECTION_LABEL[props.state]}
      {props.state !== 'connected' && (
        <button type="button" className="jp-StudyMate-link" onClick={props.onReconnect}>
          Retry now
        </button>
      )}
    </span>
  );
}

export interface IAppProps {
  services: IPanelServices;
  settings: IStudyMateSettings;
}

export function App(props: IAppProps): JSX.Element {
  const { services, settings } = props;
  const { model } = services;
  const state = useModelState(model);
  const [tab, setTab] = React.useState<'chats' | 'library'>('chats');
  const [notice, setNotice] = React.useState<string | null>(null);
  // Kept here, not in the list: back from a chat opened from a result, the results are there.
  const [query, setQuery] = React.useState('');

  React.useEffect(() => {
    const onNotice = (_: unknown, text: string) => setNotice(text);
    model.notice.connect(onNotice);
    return () => {
      model.notice.disconnect(onNotice);
    };
  }, [model]);

  const error = state.lastError;
  return (
    <div className="jp-StudyMate-panel">
      <div className="jp-StudyMate-header">
        <div className="jp-StudyMate-tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'chats'}
            className={`jp-StudyMate-tab${tab === 'chats' ? ' jp-mod-active' : ''}`}
            onClick={() => setTab('chats')}
          >
            Chats
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={tab === 'library'}
            className={`jp-StudyMate-tab${tab === 'library' ? ' jp-mod-active' : ''}`}
            onClick={() => setTab('library')}
          >
            Library
          </button>
        </div>
        <ConnectionIndicator state={state.connection} onReconnect={() => model.reconnectNow()} />
      </div>
      {(notice || (error && !error.ref)) && (
        <div className="jp-StudyMate-notice" role="alert">
          <span>{notice ?? error?.message}</span>
          <button
            type="button"
            className="jp-StudyMate-link"
            onClick={() => {
              setNotice(null);
              model.dismissError();
            }}
          >
            Dismiss
          </button>
        </div>
      )}
      <div className="jp-StudyMate-body">
        {tab === 'library' ? (
          <Library state={state} services={services} />
        ) : state.activeChat === null ? (
          <ChatList state={state} services={services} query={query} onQuery={setQuery} />
        ) : (
          <ChatView state={state} services={services} settings={settings} />
        )}
      </div>
    </div>
  );
}
