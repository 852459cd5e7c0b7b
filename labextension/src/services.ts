/**
 * What the panel's views need from JupyterLab, handed down by the plugin: the views never
 * reach for the application themselves.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import type { StudyMateModel } from './model';
import type { Citation, Library } from './protocol';

/** The user's settings (`schema/plugin.json`). */
export interface IStudyMateSettings {
  /** Send with Shift+Enter (Enter makes a new line) instead of Enter. */
  sendWithShiftEnter: boolean;
  /** Show each citation's retrieval score in its tooltip. */
  showScores: boolean;
}

export const DEFAULT_SETTINGS: IStudyMateSettings = {
  sendWithShiftEnter: false,
  showScores: false
};

/**
 * How opening a cited file went: opened in JupyterLab (or a new tab); `missing`, the file is
 * not in this user's Jupyter files (a course document on another user's server, or a file
 * since deleted), so only the stored passage can be shown; `failed`, already reported.
 */
export type OpenOutcome = 'opened' | 'missing' | 'failed';

export interface IPanelServices {
  model: StudyMateModel;
  /** Renders untrusted chat content (see `chatRendermime`). */
  rendermime: IRenderMimeRegistry;
  openCitation(citation: Citation): Promise<OpenOutcome>;
  /** Insert code as a new cell below the active cell; `false` when no notebook is open. */
  insertIntoNotebook(code: string): boolean;
  exportMarkdown(chatId: string, title: string): Promise<void>;
  exportNotebook(chatId: string, title: string): Promise<void>;
  copy(text: string): void;
  /** Ask the user to confirm (a JupyterLab dialog). */
  confirm(title: string, body: string, accept: string): Promise<boolean>;
  prompt(title: string, value: string): Promise<string | null>;
  /**
   * Let the user choose files of the Jupyter file tree (JupyterLab's open-files dialog) to
   * add to `library` (the dialog says which); resolves to their paths, `[]` when cancelled.
   * `null`: no picker here (no document manager), files are added from the file browser only.
   */
  pickFiles: ((library?: Library) => Promise<string[]>) | null;
}
