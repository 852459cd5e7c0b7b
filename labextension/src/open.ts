/**
 * Open a cited document in JupyterLab at the cited place: a PDF at `#page=N` in
 * JupyterLab's PDF viewer, a notebook scrolled to the cell, Markdown at the heading.
 * The panel's citation chips and the notebook comm target both come here.
 */
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { IDocumentWidget } from '@jupyterlab/docregistry';
import { NotebookPanel } from '@jupyterlab/notebook';
import type { Widget } from '@lumino/widgets';

import { kindOf, pdfFragment } from './format';

export { kindOf, pdfFragment };

export interface ICitationTarget {
  /** Relative to the server root. */
  path: string;
  /** 1-based: PDF page, notebook cell, Markdown/text section. */
  page?: number | null;
  /** A notebook cell id or a Markdown heading slug. */
  anchor?: string | null;
}

function safePath(path: string): string | null {
  // Paths come from the server or a kernel: refuse anything that climbs out of the root.
  const parts = path.split('/').filter(p => p !== '' && p !== '.');
  if (parts.some(p => p === '..')) {
    return null;
  }
  return parts.join('/');
}

/** Wait until a freshly opened document has rendered (or give up after `ms`). */
async function settled(widget: Widget, ms = 15000): Promise<void> {
  const doc = widget as IDocumentWidget;
  const ready = Promise.all([
    doc.context?.ready,
    doc.revealed,
    (doc.content as unknown as { ready?: Promise<void> })?.ready
  ]);
  await Promise.race([ready, new Promise(resolve => setTimeout(resolve, ms))]);
}

export async function openCitation(
  docManager: IDocumentManager,
  target: ICitationTarget
): Promise<Widget | undefined> {
  const path = safePath(target.path);
  if (!path) {
    return undefined;
  }
  const kind = kindOf(path);
  const factory = kind === 'markdown' ? 'Markdown Preview' : undefined;
  // Opened to read a cited cell: no kernel is started (and no kernel picker shown); the
  // user can still pick one from the notebook's toolbar.
  const kernelPreference = kind === 'notebook' ? { shouldStart: false, canStart: true } : undefined;
  const widget = docManager.openOrReveal(
    path,
    factory,
    undefined,
    undefined,
    kernelPreference
  ) as IDocumentWidget | undefined;
  if (!widget) {
    return undefined;
  }
  await settled(widget);
  if (widget.isDisposed) {
    return undefined;
  }
  switch (kind) {
    case 'pdf':
      // JupyterLab's PDF viewer passes the fragment on to the browser's viewer.
      widget.setFragment(pdfFragment(target.page));
      break;
    case 'notebook':
      if (widget instanceof NotebookPanel) {
        await scrollToCell(widget, target);
      }
      break;
    case 'markdown':
      if (target.anchor) {
        widget.setFragment(`#${target.anchor}`);
      }
      break;
    default:
      break;
  }
  return widget;
}

async function scrollToCell(panel: NotebookPanel, target: ICitationTarget): Promise<void> {
  const notebook = panel.content;
  let index = -1;
  if (target.anchor) {
    index = notebook.widgets.findIndex(cell => cell.model.id === target.anchor);
  }
  if (index < 0 && typeof target.page === 'number') {
    index = Math.min(Math.max(0, target.page - 1), notebook.widgets.length - 1);
  }
  if (index < 0) {
    return;
  }
  notebook.activeCellIndex = index;
  const cell = notebook.widgets[index];
  if (cell) {
    await notebook.scrollToCell(cell, 'start');
  }
}
