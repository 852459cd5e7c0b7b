/**
 * Which files the library takes, the paths a drag from JupyterLab's file browser carries,
 * and whether a cited file is in the user's file tree. No JupyterLab imports: unit-tested
 * with jest.
 */

/** The suffixes the server indexes (`SUFFIX_KINDS` in `studymate_jupyter/library/parsers`). */
export const LIBRARY_SUFFIXES = ['.pdf', '.md', '.markdown', '.txt', '.text', '.rst', '.ipynb'];

/**
 * The file browser's drag data: the dragged paths (`string[]`, relative to the server root).
 * Its `application/x-jupyter-icontentsrich` companion holds one item only, however many are
 * dragged, so the paths are read from this one.
 */
export const CONTENTS_MIME = 'application/x-jupyter-icontents';

/** Whether the library can index the file at `path`. */
export function isLibraryFile(path: string): boolean {
  const lower = path.toLowerCase();
  return LIBRARY_SUFFIXES.some(suffix => lower.endsWith(suffix));
}

/** The paths of a file-browser drag; `[]` for anything else. */
export function draggedPaths(mimeData: { getData(mime: string): unknown }): string[] {
  const data = mimeData.getData(CONTENTS_MIME);
  return Array.isArray(data) ? data.filter((p): p is string => typeof p === 'string' && !!p) : [];
}

/** What `isInFiles` needs of JupyterLab's contents manager. */
export interface IContentsLookup {
  get(path: string, options: { content: false }): Promise<unknown>;
}

/**
 * Whether `path` is in the user's Jupyter file tree. Only a 404 says no: a course document
 * another user's server added is listed here but its file is not, and opening it would only
 * fail. Any other error (the server unreachable) is left for the open itself to report.
 */
export async function isInFiles(contents: IContentsLookup, path: string): Promise<boolean> {
  try {
    await contents.get(path, { content: false });
    return true;
  } catch (reason) {
    const status = (reason as { response?: { status?: unknown } } | null)?.response?.status;
    return status !== 404;
  }
}
