/**
 * What an open chat draws on: a compact label in the chat's header ("Whole library", a
 * folder, the chosen documents) and, behind it, an editor to change it (`PATCH chats/{id}`;
 * a new chat is created with it). Document names and paths are rendered as text, never as HTML.
 */
import * as React from 'react';

import type { ChatScope, Document } from '../protocol';
import {
  describeScope,
  libraryFolders,
  normalizeFolder,
  scopeFor,
  scopeMode,
  ScopeMode
} from '../scope';

export interface IScopeProps {
  /** `null`: the whole library. */
  scope: ChatScope | null;
  /** The chat is not known here yet (the chat list is loading): nothing to change. */
  disabled: boolean;
  documents: Document[];
  /** Save a scope; resolves to whether it was saved (a failure shows as a notice). */
  onSave: (scope: ChatScope | null) => Promise<boolean>;
}

export function ChatScopeBar(props: IScopeProps): JSX.Element {
  const { scope, disabled, documents, onSave } = props;
  const [editing, setEditing] = React.useState(false);
  const text = describeScope(scope, documents);
  return (
    <div className="jp-StudyMate-scope">
      <button
        type="button"
        className="jp-StudyMate-scopeButton"
        title={disabled ? `Draws on: ${text}.` : `Draws on: ${text}. Click to change.`}
        aria-label={`Draws on: ${text}. Change what this chat draws on`}
        aria-expanded={editing}
        disabled={disabled}
        onClick={() => setEditing(!editing)}
      >
        <span className="jp-StudyMate-scopeCaption">Draws on</span>
        <span className="jp-StudyMate-scopeLabel">{text}</span>
      </button>
      {editing && !disabled && (
        <ScopeEditor
          scope={scope}
          documents={documents}
          onCancel={() => setEditing(false)}
          onSave={async scope => {
            if (await onSave(scope)) {
              setEditing(false);
            }
          }}
        />
      )}
    </div>
  );
}

interface IScopeEditorProps {
  scope: ChatScope | null;
  documents: Document[];
  onCancel: () => void;
  onSave: (scope: ChatScope | null) => Promise<void>;
}

function ScopeEditor(props: IScopeEditorProps): JSX.Element {
  const { scope, documents, onCancel, onSave } = props;
  const [mode, setMode] = React.useState<ScopeMode>(scopeMode(scope));
  const current = scope?.folder ? normalizeFolder(scope.folder) : '';
  const folders = React.useMemo(() => {
    const list = libraryFolders(documents);
    return current && !list.includes(current) ? [current, ...list] : list;
  }, [documents, current]);
  const [folder, setFolder] = React.useState(current || folders[0] || '');
  const [chosen, setChosen] = React.useState<string[]>(scope?.document_ids ?? []);
  const [saving, setSaving] = React.useState(false);
  // Ready documents can answer; a chosen one that is not ready (any more) stays listed so it
  // can be unchecked.
  const offered = documents.filter(d => d.status === 'ready' || chosen.includes(d.id));

  const toggle = (id: string, on: boolean) =>
    setChosen(list => (on ? [...list.filter(x => x !== id), id] : list.filter(x => x !== id)));
  const valid = mode === 'library' || (mode === 'folder' ? !!folder : chosen.length > 0);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!valid || saving) {
      return;
    }
    setSaving(true);
    try {
      await onSave(scopeFor(mode, folder, chosen));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      className="jp-StudyMate-scopeEditor"
      aria-label="What this chat draws on"
      onSubmit={e => void submit(e)}
    >
      <label className="jp-StudyMate-scopeOption">
        <input
          type="radio"
          name="jp-StudyMate-scope"
          checked={mode === 'library'}
          onChange={() => setMode('library')}
        />
        Whole library
      </label>
      <div className="jp-StudyMate-scopeOption">
        <label>
          <input
            type="radio"
            name="jp-StudyMate-scope"
            checked={mode === 'folder'}
            disabled={folders.length === 0}
            onChange={() => setMode('folder')}
          />
          Folder
        </label>
        <select
          className="jp-StudyMate-scopeFolder"
          aria-label="Folder"
          title={
            folders.length ? 'The folder this chat draws on' : 'No library document is in a folder'
          }
          value={folder}
          disabled={folders.length === 0}
          onChange={e => {
            setFolder(e.target.value);
            setMode('folder');
          }}
        >
          {folders.map(f => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      </div>
      <label className="jp-StudyMate-scopeOption">
        <input
          type="radio"
          name="jp-StudyMate-scope"
          checked={mode === 'documents'}
          disabled={offered.length === 0}
          onChange={() => setMode('documents')}
        />
        Chosen documents
      </label>
      {mode === 'documents' && (
        <ul className="jp-StudyMate-scopeDocuments" aria-label="Documents">
          {offered.map(d => (
            <li key={d.id}>
              <label title={d.path}>
                <input
                  type="checkbox"
                  checked={chosen.includes(d.id)}
                  onChange={e => toggle(d.id, e.target.checked)}
                />
                <span className="jp-StudyMate-scopeDocument">{d.path}</span>
              </label>
            </li>
          ))}
        </ul>
      )}
      <div className="jp-StudyMate-scopeActions">
        <button type="button" className="jp-StudyMate-button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="jp-StudyMate-button jp-mod-accept"
          disabled={!valid || saving}
          title={
            valid ? 'Save what this chat draws on' : 'Choose a folder or at least one document'
          }
        >
          Save
        </button>
      </div>
    </form>
  );
}
