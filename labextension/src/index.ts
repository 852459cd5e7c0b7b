/**
 * StudyMate for Jupyter: the chat panel in the right sidebar, its commands, the file-browser
 * "Add to StudyMate library" item (and, for instructors, "Add to StudyMate course library"),
 * and the `studymate` comm target in notebook kernels.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, Dialog, ICommandPalette, InputDialog, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { FileDialog, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Kernel } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';

import { chatRendermime } from './components/markdown';
import { isInFiles, isLibraryFile } from './files';
import { safeFileName } from './format';
import { studymateIcon } from './icon';
import { StudyMateModel } from './model';
import { kindOf, openCitation, pdfFragment, ICitationTarget } from './open';
import { StudyMatePanel } from './panel';
import { type Citation, isOpenCitationCommMessage, type Library } from './protocol';
import { isDraft, isInstructor } from './reducer';
import { DEFAULT_SETTINGS, IPanelServices, IStudyMateSettings, OpenOutcome } from './services';

const PLUGIN_ID = 'studymate-jupyter:plugin';
/** The comm target notebook widgets open to ask JupyterLab to show a citation. */
const COMM_TARGET = 'studymate';
/** Where the state database keeps the chat the panel shows, to reopen it next time. */
const STATE_KEY = `${PLUGIN_ID}:panel`;

namespace CommandIDs {
  export const open = 'studymate:open';
  export const addToLibrary = 'studymate:add-to-library';
  export const addToCourseLibrary = 'studymate:add-to-course-library';
  export const openCitation = 'studymate:open-citation';
}

function readSettings(settings: ISettingRegistry.ISettings | null): IStudyMateSettings {
  if (!settings) {
    return { ...DEFAULT_SETTINGS };
  }
  return {
    sendWithShiftEnter: settings.get('sendWithShiftEnter').composite === true,
    showScores: settings.get('showScores').composite === true
  };
}

function download(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  anchor.style.display = 'none';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The StudyMate study assistant chat in the right sidebar.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [
    ICommandPalette,
    ISettingRegistry,
    INotebookTracker,
    IDocumentManager,
    IFileBrowserFactory,
    ILayoutRestorer,
    IStateDB
  ],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    notebooks: INotebookTracker | null,
    docManager: IDocumentManager | null,
    browsers: IFileBrowserFactory | null,
    restorer: ILayoutRestorer | null,
    stateDB: IStateDB | null
  ) => {
    const model = new StudyMateModel();
    const { commands } = app;

    /**
     * Open a file at a cited place, in JupyterLab where it can, else in a new tab; `missing`
     * when it is not in the user's files (asked first: opening it would only end in an error).
     */
    const openTarget = async (target: ICitationTarget): Promise<OpenOutcome> => {
      if (!(await isInFiles(app.serviceManager.contents, target.path))) {
        return 'missing';
      }
      if (docManager) {
        const widget = await openCitation(docManager, target);
        if (widget) {
          app.shell.activateById(widget.id);
          return 'opened';
        }
      }
      const hash = kindOf(target.path) === 'pdf' ? pdfFragment(target.page) : '';
      window.open(model.api.fileUrl(target.path) + hash, '_blank', 'noopener');
      return 'opened';
    };

    /** What the panel says when a notebook widget asks to open a file that is not here. */
    const tellMissing = (path: string) =>
      model.notify(
        `Cannot open ${path}: it is not in your Jupyter files (the file of a course library ` +
          "document may be only in the instructor's)."
      );

    const services: IPanelServices = {
      model,
      rendermime: chatRendermime(rendermime),
      openCitation: async (citation: Citation) => {
        try {
          // Citations carry the path (extension); older servers: ask the library.
          const path = citation.path ?? (await model.document(citation.document_id)).path;
          return await openTarget({
            path,
            page: citation.page_start,
            anchor: citation.anchor ?? null
          });
        } catch (reason) {
          void showDialog({
            title: 'Cannot open the source',
            body: `${citation.filename}: ${String((reason as Error)?.message ?? reason)}`,
            buttons: [Dialog.okButton()]
          });
          return 'failed';
        }
      },
      insertIntoNotebook: (code: string) => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          void showDialog({
            title: 'No notebook',
            body: 'Open a notebook to insert the code into.',
            buttons: [Dialog.okButton()]
          });
          return false;
        }
        const notebook = panel.content;
        NotebookActions.insertBelow(notebook);
        const cell = notebook.activeCell;
        if (cell) {
          NotebookActions.changeCellType(notebook, 'code');
          notebook.activeCell?.model.sharedModel.setSource(code);
        }
        app.shell.activateById(panel.id);
        return true;
      },
      exportMarkdown: async (chatId: string, title: string) => {
        try {
          const text = await model.api.exportChat(chatId, 'markdown');
          download(`${safeFileName(title)}.md`, text, 'text/markdown');
        } catch (reason) {
          void showDialog({
            title: 'Export failed',
            body: String((reason as Error)?.message ?? reason),
            buttons: [Dialog.okButton()]
          });
        }
      },
      exportNotebook: async (chatId: string, title: string) => {
        try {
          const nb = JSON.parse(await model.api.exportChat(chatId, 'ipynb'));
          // Whatever the export holds, nothing in it is trusted output.
          for (const cell of nb.cells ?? []) {
            if (cell.cell_type === 'code') {
              cell.outputs = [];
              cell.execution_count = null;
            }
            if (cell.metadata) {
              delete cell.metadata.trusted;
            }
          }
          const contents = app.serviceManager.contents;
          const base = `StudyMate - ${safeFileName(title)}`;
          let path = `${base}.ipynb`;
          for (let i = 2; i < 100; i++) {
            try {
              await contents.get(path, { content: false });
              path = `${base} (${i}).ipynb`;
            } catch {
              break; // free name
            }
          }
          await contents.save(path, { type: 'notebook', format: 'json', content: nb });
          if (docManager) {
            // A transcript of Markdown cells: no kernel to start, no kernel picker to answer.
            const widget = docManager.openOrReveal(path, 'Notebook', undefined, undefined, {
              shouldStart: false,
              canStart: true
            });
            if (widget) {
              app.shell.activateById(widget.id);
            }
          } else {
            await commands.execute('docmanager:open', { path });
          }
        } catch (reason) {
          void showDialog({
            title: 'Export failed',
            body: String((reason as Error)?.message ?? reason),
            buttons: [Dialog.okButton()]
          });
        }
      },
      copy: (text: string) => Clipboard.copyToSystem(text),
      confirm: async (title: string, body: string, accept: string) => {
        const result = await showDialog({
          title,
          body,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: accept })]
        });
        return result.button.accept;
      },
      prompt: async (title: string, value: string) => {
        const result = await InputDialog.getText({ title, text: value, okLabel: 'Rename' });
        return result.button.accept ? result.value : null;
      },
      pickFiles: docManager
        ? async (library: Library = 'personal') => {
            const result = await FileDialog.getOpenFiles({
              manager: docManager,
              title:
                library === 'course'
                  ? 'Add files to the StudyMate course library'
                  : 'Add files to the StudyMate library',
              label: 'PDFs, Markdown, text files and notebooks. Shift- or Ctrl-click for several.',
              filter: item => (item.type === 'directory' || isLibraryFile(item.path) ? {} : null)
            });
            // With nothing selected the dialog answers its folder: that adds nothing.
            const chosen = result.button.accept ? (result.value ?? []) : [];
            return chosen.filter(item => item.type !== 'directory').map(item => item.path);
          }
        : null
    };

    const panel = new StudyMatePanel(services, { ...DEFAULT_SETTINGS });
    app.shell.add(panel, 'right', { rank: 650 });
    restorer?.add(panel, 'studymate-panel');
    model.start();

    if (stateDB) {
      // Coming back to JupyterLab reopens the chat the user was in (a new chat if none).
      void stateDB
        .fetch(STATE_KEY)
        .then(saved => {
          const chat = (saved as { chat?: unknown } | undefined)?.chat;
          if (typeof chat === 'string') {
            model.restoreChat(chat);
          }
        })
        .catch(reason => console.debug('StudyMate: no saved panel state', reason));
      let shown = model.state.activeChat;
      model.changed.connect((_, state) => {
        if (state.activeChat === shown) {
          return;
        }
        shown = state.activeChat;
        const chat = shown && !isDraft(shown) ? shown : null;
        void stateDB.save(STATE_KEY, { chat });
      });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          panel.settings = readSettings(settings);
          settings.changed.connect(() => {
            panel.settings = readSettings(settings);
          });
        })
        .catch(reason => console.warn('StudyMate: cannot load the settings', reason));
    }

    commands.addCommand(CommandIDs.open, {
      label: 'Open StudyMate',
      caption: 'Open the StudyMate study assistant',
      icon: args => (args.isPalette ? undefined : studymateIcon),
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({ command: CommandIDs.open, category: 'StudyMate' });
    // The command palette activates the main area's widget once it has run a command (its
    // `restore`), which takes the focus out of the panel just opened. Activating the panel
    // again once that is done (a task later) leaves the keyboard in its message box.
    commands.commandExecuted.connect((_, executed) => {
      if (executed.id === CommandIDs.open) {
        void executed.result.then(() =>
          window.setTimeout(() => panel.isVisible && panel.activate())
        );
      }
    });

    commands.addCommand(CommandIDs.openCitation, {
      label: 'Open a StudyMate citation',
      execute: async args => {
        const path = typeof args.path === 'string' ? args.path : '';
        if (!path) {
          return;
        }
        const outcome = await openTarget({
          path,
          page: typeof args.page === 'number' ? args.page : null,
          anchor: typeof args.anchor === 'string' ? args.anchor : null
        });
        if (outcome === 'missing') {
          tellMissing(path);
        }
      }
    });

    if (browsers) {
      const selected = (): string[] => {
        const browser = browsers.tracker.currentWidget;
        return browser ? Array.from(browser.selectedItems(), item => item.path) : [];
      };
      const selectionFits = (): boolean => {
        const paths = selected();
        return paths.length > 0 && paths.every(isLibraryFile);
      };
      const addSelected = async (library: Library) => {
        const added = await model.addDocuments(selected().filter(isLibraryFile), library);
        if (added.length) {
          app.shell.activateById(panel.id);
        }
      };
      commands.addCommand(CommandIDs.addToLibrary, {
        label: 'Add to StudyMate library',
        icon: studymateIcon,
        isVisible: selectionFits,
        execute: () => addSelected('personal')
      });
      // Only instructors may change the course library: for anyone else the server answers
      // 403, so the item is not offered at all (and a refusal is still reported if it comes).
      const mayAddToCourse = () => isInstructor(model.state) && selectionFits();
      commands.addCommand(CommandIDs.addToCourseLibrary, {
        label: 'Add to StudyMate course library',
        icon: studymateIcon,
        isVisible: mayAddToCourse,
        isEnabled: mayAddToCourse,
        execute: () => addSelected('course')
      });
      for (const [command, rank] of [
        [CommandIDs.addToLibrary, 60],
        [CommandIDs.addToCourseLibrary, 61]
      ] as const) {
        app.contextMenu.addItem({
          command,
          selector: '.jp-DirListing-item[data-isdir="false"]',
          rank
        });
      }
    }

    if (notebooks) {
      registerCommTargets(notebooks, async data => {
        const target = { path: data.path, page: data.page, anchor: data.anchor ?? null };
        if ((await openTarget(target)) === 'missing') {
          tellMissing(data.path);
        }
      });
    }
  }
};

/** Register the `studymate` comm target in the kernel of every notebook, now and later. */
function registerCommTargets(
  notebooks: INotebookTracker,
  open: (data: { path: string; page: number; anchor?: string | null }) => Promise<void>
): void {
  const registered = new WeakSet<Kernel.IKernelConnection>();
  const register = (kernel: Kernel.IKernelConnection | null | undefined) => {
    if (!kernel || kernel.isDisposed || registered.has(kernel)) {
      return;
    }
    registered.add(kernel);
    kernel.registerCommTarget(COMM_TARGET, (comm, openMsg) => {
      const handle = (data: unknown) => {
        if (isOpenCitationCommMessage(data)) {
          open(data).catch(reason => console.warn('StudyMate: cannot open a citation', reason));
        }
      };
      handle(openMsg.content.data);
      comm.onMsg = msg => handle(msg.content.data);
    });
  };
  const watch = (panel: NotebookPanel) => {
    const session = panel.sessionContext;
    session.kernelChanged.connect((_, change) => register(change.newValue));
    register(session.session?.kernel);
    void session.ready.then(() => register(session.session?.kernel));
  };
  notebooks.forEach(watch);
  notebooks.widgetAdded.connect((_, panel) => watch(panel));
}

export default plugin;
