import { LabIcon } from '@jupyterlab/ui-components';

/** An open book with a speech bubble, drawn with JupyterLab's icon colour classes. */
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 5.5C3 4.7 3.7 4 4.5 4H10c1.1 0 2 .9 2 2v13c0-.8-.7-1.5-1.5-1.5H4.5C3.7 17.5 3 16.8 3 16V5.5zm1.6.1v10.3h5.9c.3 0 .6 0 .9.1V6c0-.2-.2-.4-.4-.4H4.6z"/>
    <path d="M21 5.5c0-.8-.7-1.5-1.5-1.5H14c-1.1 0-2 .9-2 2v13c0-.8.7-1.5 1.5-1.5h6c.8 0 1.5-.7 1.5-1.5V5.5zm-1.6.1v10.3h-5.9c-.3 0-.6 0-.9.1V6c0-.2.2-.4.4-.4h6.4z"/>
    <path d="M14.5 8h4v1.3h-4zM14.5 10.6h4v1.3h-4zM5.5 8h4v1.3h-4zM5.5 10.6h4v1.3h-4z"/>
  </g>
</svg>`;

export const studymateIcon = new LabIcon({ name: 'studymate-jupyter:icon', svgstr: svg });
