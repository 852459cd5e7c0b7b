/**
 * The right-sidebar widget hosting the React panel. Opening it puts the keyboard in the
 * message box; files dragged onto it from JupyterLab's file browser join the library. It
 * tells the model whether it is on screen (shown, in a visible browser tab), so that only
 * what the user can see is taken as read.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Drag } from '@lumino/dragdrop';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import { App } from './components/app';
import { draggedPaths } from './files';
import { studymateIcon } from './icon';
import type { IPanelServices, IStudyMateSettings } from './services';

/** The class the panel has while file-browser items are dragged over it. */
const DROP_TARGET_CLASS = 'jp-mod-dropTarget';

export class StudyMatePanel extends ReactWidget {
  constructor(services: IPanelServices, settings: IStudyMateSettings) {
    super();
    this.id = 'studymate-panel';
    this.addClass('jp-StudyMate');
    this.title.icon = studymateIcon;
    this.title.caption = 'StudyMate';
    this.title.label = '';
    this.node.setAttribute('aria-label', 'StudyMate');
    // Focusable, so that opening the panel on the chat list or the library moves focus here.
    this.node.tabIndex = -1;
    this._services = services;
    this._settings = settings;
  }

  get settings(): IStudyMateSettings {
    return this._settings;
  }

  set settings(value: IStudyMateSettings) {
    this._settings = value;
    this.update();
  }

  /** Lumino's drag events (`lm-dragenter` …), as JupyterLab's file browser sends them. */
  handleEvent(event: Event): void {
    const drag = event as Drag.Event;
    switch (event.type) {
      case 'lm-dragenter':
      case 'lm-dragover':
        if (draggedPaths(drag.mimeData).length) {
          // Cancelling the event is how a Lumino drop target accepts the drag.
          drag.preventDefault();
          drag.stopPropagation();
          drag.dropAction = drag.proposedAction;
          this.addClass(DROP_TARGET_CLASS);
        }
        break;
      case 'lm-dragleave':
        if (!this.node.contains(drag.relatedTarget as Node | null)) {
          this.removeClass(DROP_TARGET_CLASS);
        }
        break;
      case 'lm-drop': {
        this.removeClass(DROP_TARGET_CLASS);
        const paths = draggedPaths(drag.mimeData);
        if (!paths.length) {
          return;
        }
        drag.preventDefault();
        drag.stopPropagation();
        // The file browser, the source, leaves its files where they are whatever this says.
        drag.dropAction = drag.proposedAction;
        void this._services.model.addDocuments(paths);
        break;
      }
    }
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    for (const type of DRAG_EVENTS) {
      this.node.addEventListener(type, this);
    }
    document.addEventListener('visibilitychange', this._onVisibility);
    this._onVisibility();
  }

  protected onBeforeDetach(msg: Message): void {
    for (const type of DRAG_EVENTS) {
      this.node.removeEventListener(type, this);
    }
    document.removeEventListener('visibilitychange', this._onVisibility);
    super.onBeforeDetach(msg);
    this._services.model.setVisible(false);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._onVisibility();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._onVisibility();
  }

  /** Opened (its sidebar tab, "Open StudyMate"): the keyboard goes to the message box. */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    if (this.node.contains(document.activeElement)) {
      return;
    }
    const box = this.node.querySelector<HTMLElement>('.jp-StudyMate-input');
    (box ?? this.node).focus();
  }

  protected render(): JSX.Element {
    return <App services={this._services} settings={this._settings} />;
  }

  private _onVisibility = (): void => {
    this._services.model.setVisible(this.isVisible && document.visibilityState === 'visible');
  };

  private _services: IPanelServices;
  private _settings: IStudyMateSettings;
}

const DRAG_EVENTS = ['lm-dragenter', 'lm-dragleave', 'lm-dragover', 'lm-drop'];
