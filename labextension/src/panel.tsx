/** The right-sidebar widget hosting the React panel. */
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { App } from './components/app';
import { studymateIcon } from './icon';
import type { IPanelServices, IStudyMateSettings } from './services';

export class StudyMatePanel extends ReactWidget {
  constructor(services: IPanelServices, settings: IStudyMateSettings) {
    super();
    this.id = 'studymate-panel';
    this.addClass('jp-StudyMate');
    this.title.icon = studymateIcon;
    this.title.caption = 'StudyMate';
    this.title.label = '';
    this.node.setAttribute('aria-label', 'StudyMate');
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

  protected render(): JSX.Element {
    return <App services={this._services} settings={this._settings} />;
  }

  private _services: IPanelServices;
  private _settings: IStudyMateSettings;
}
