/**
 * What the panel's views need from JupyterLab, handed down by the plugin: the views never
 * reach for the application themselves.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import type { StudyMateModel } from './model';
import type { Citation } from './protocol';

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

export interface IPanelServices {
  model: StudyMateModel;
  /** Renders untrusted chat content (see `chatRendermime`). */
  rendermime: IRenderMimeRegistry;
  openCitation(citation: Citation): Promise<void>;
  /** Insert code as a new cell below the active cell; `false` when no notebook is open. */
  insertIntoNotebook(code: string): boolean;
  exportMarkdown(chatId: string, title: string): Promise<void>;
  exportNotebook(chatId: string, title: string): Promise<void>;
  copy(text: string): void;
  /** Ask the user to confirm (a JupyterLab dialog). */
  confirm(title: string, body: string, accept: string): Promise<boolean>;
  prompt(title: string, value: string): Promise<string | null>;
  /**
   * Let the user choose files of the Jupyter file tree (JupyterLab's open-files dialog);
   * resolves to their paths, `[]` when cancelled. `null`: no picker here (no document
   * manager), files are added from the file browser only.
   */
  pickFiles: (() => Promise<string[]>) | null;
}
