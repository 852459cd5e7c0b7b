// react-dom comes with JupyterLab (and React) but ships no types of its own; the views'
// specs render to HTML with this one function of it.
declare module 'react-dom/server' {
  import type { ReactElement } from 'react';

  export function renderToStaticMarkup(element: ReactElement): string;
}
