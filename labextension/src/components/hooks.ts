import * as React from 'react';

import type { StudyMateModel } from '../model';
import type { State } from '../reducer';

/** The model's state, re-rendering on every change. */
export function useModelState(model: StudyMateModel): State {
  const [state, setState] = React.useState(model.state);
  React.useEffect(() => {
    const onChange = (_: StudyMateModel, next: State) => setState(next);
    model.changed.connect(onChange);
    setState(model.state);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
  return state;
}

/** "3 min ago"-style time for lists; the full date is in the tooltip. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) {
    return '';
  }
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) {
    return 'just now';
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ago`;
  }
  return new Date(t).toLocaleDateString();
}
