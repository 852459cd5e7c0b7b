/**
 * What a chat draws on (its `scope`): the folders a user can choose from and the short text
 * the chat header shows. Pure functions, unit-tested.
 */
import type { ChatScope, Document } from './protocol';

/** How the scope editor offers a scope. */
export type ScopeMode = 'library' | 'folder' | 'documents';

/** A folder path without leading or trailing slashes (the server strips them too). */
export function normalizeFolder(folder: string): string {
  return folder.replace(/^\/+|\/+$/g, '');
}

/**
 * Every folder that holds a library document, with its parent folders, sorted: a document at
 * `course/physics/a.pdf` offers `course` and `course/physics`. Documents at the root offer none.
 */
export function libraryFolders(documents: readonly Pick<Document, 'path'>[]): string[] {
  const folders = new Set<string>();
  for (const { path } of documents) {
    const parts = normalizeFolder(path).split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      folders.add(parts.slice(0, i).join('/'));
    }
  }
  return [...folders].sort((a, b) => a.localeCompare(b));
}

/** Whether a scope leaves the whole library (no folder, no chosen documents). */
export function isWholeLibrary(scope: ChatScope | null | undefined): boolean {
  return !scope || (!scope.folder && !hasDocuments(scope));
}

function hasDocuments(scope: ChatScope): boolean {
  return scope.document_ids !== null && scope.document_ids !== undefined;
}

/** The editor's mode for a scope (chosen documents win over a folder: they are narrower). */
export function scopeMode(scope: ChatScope | null | undefined): ScopeMode {
  if (isWholeLibrary(scope)) {
    return 'library';
  }
  return hasDocuments(scope!) ? 'documents' : 'folder';
}

/** The body `PATCH chats/{id}` takes for what the editor holds (`null`: the whole library). */
export function scopeFor(
  mode: ScopeMode,
  folder: string,
  documentIds: readonly string[]
): ChatScope | null {
  switch (mode) {
    case 'folder': {
      const f = normalizeFolder(folder);
      return f ? { folder: f, document_ids: null } : null;
    }
    case 'documents':
      return { folder: null, document_ids: [...documentIds] };
    default:
      return null;
  }
}

/** How many names the short description lists before "and N more". */
const NAMES_SHOWN = 2;

/**
 * The chat header's short text for a scope: `Whole library`, `Folder: physics`, or the
 * chosen documents' names (`a.md, b.pdf and 3 more`); a document no longer in the library is
 * counted as `removed document`.
 */
export function describeScope(
  scope: ChatScope | null | undefined,
  documents: readonly Pick<Document, 'id' | 'filename'>[]
): string {
  if (isWholeLibrary(scope)) {
    return 'Whole library';
  }
  const parts: string[] = [];
  if (scope!.folder) {
    parts.push(`Folder: ${normalizeFolder(scope!.folder)}`);
  }
  const ids = scope!.document_ids;
  if (ids) {
    if (ids.length === 0) {
      parts.push('no documents');
    } else {
      const byId = new Map(documents.map(d => [d.id, d.filename]));
      const names = ids.map(id => byId.get(id) ?? 'removed document');
      const shown = names.slice(0, NAMES_SHOWN).join(', ');
      const rest = names.length - NAMES_SHOWN;
      parts.push(rest > 0 ? `${shown} and ${rest} more` : shown);
    }
  }
  return parts.join(' \u00b7 ');
}
