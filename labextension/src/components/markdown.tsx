/**
 * Message content rendered as Markdown by JupyterLab's rendermime, as untrusted content:
 * sanitized HTML, no command-linker attributes, and links that only ever open a new tab.
 */
import { Sanitizer } from '@jupyterlab/apputils';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime';
import * as React from 'react';

const MARKDOWN = 'text/markdown';

/** A rendermime for chat content: the app's renderers with a sanitizer that keeps no command links. */
export function chatRendermime(rendermime: IRenderMimeRegistry): IRenderMimeRegistry {
  const sanitizer = new Sanitizer();
  sanitizer.setAllowCommandLinker(false);
  sanitizer.setAllowNamedProperties(false);
  return rendermime.clone({ sanitizer });
}

/** Remove whatever could make JupyterLab act on a click, whatever the sanitizer let through. */
export function defuse(node: HTMLElement): void {
  node.querySelectorAll('[data-commandlinker-command], [data-commandlinker-args]').forEach(el => {
    el.removeAttribute('data-commandlinker-command');
    el.removeAttribute('data-commandlinker-args');
  });
  node.querySelectorAll('a').forEach(anchor => {
    anchor.setAttribute('target', '_blank');
    anchor.setAttribute('rel', 'noopener noreferrer nofollow');
  });
}

/** Only web links leave the panel, in a new tab; everything else does nothing. */
function onClickCapture(event: React.MouseEvent<HTMLElement>): void {
  const target = event.target as HTMLElement | null;
  const clickable = target?.closest('a, [data-commandlinker-command]') as HTMLElement | null;
  if (!clickable || !event.currentTarget.contains(clickable)) {
    return;
  }
  // Capture phase on the container: the event never reaches JupyterLab's link handlers or
  // its command linker listening further up.
  event.preventDefault();
  event.stopPropagation();
  const href = clickable.getAttribute('href');
  if (!href || clickable.tagName !== 'A') {
    return;
  }
  let url: URL;
  try {
    url = new URL(href, window.location.href);
  } catch {
    return;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:') {
    const here = window.location;
    if (url.origin === here.origin && url.pathname === here.pathname && url.search === here.search) {
      return; // an in-page anchor ("#", "#section"): nothing to open
    }
    window.open(url.href, '_blank', 'noopener,noreferrer');
  }
}

export interface IMarkdownProps {
  rendermime: IRenderMimeRegistry;
  source: string;
  /** Adds Copy / Insert buttons on each code block once rendered. */
  decorateCode?: (pre: HTMLPreElement) => void;
  className?: string;
}

export function Markdown(props: IMarkdownProps): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const renderer = React.useRef<IRenderMime.IRenderer | null>(null);
  const renderId = React.useRef(0);
  const { rendermime, source, decorateCode } = props;

  React.useEffect(() => {
    return () => {
      renderer.current?.dispose();
      renderer.current = null;
    };
  }, []);

  React.useEffect(() => {
    if (!host.current) {
      return;
    }
    if (!renderer.current) {
      renderer.current = rendermime.createRenderer(MARKDOWN);
      host.current.appendChild(renderer.current.node);
    }
    const current = renderer.current;
    const id = ++renderId.current;
    const model = new MimeModel({ data: { [MARKDOWN]: source }, trusted: false });
    current
      .renderModel(model)
      .then(async () => {
        if (id !== renderId.current || current.isDisposed) {
          return;
        }
        defuse(current.node);
        if (decorateCode) {
          current.node.querySelectorAll('pre').forEach(pre => decorateCode(pre));
        }
        if (rendermime.latexTypesetter && /\$|\\\(|\\\[/.test(source)) {
          await rendermime.latexTypesetter.typeset(current.node);
        }
      })
      .catch(reason => console.warn('StudyMate: cannot render a message', reason));
  }, [source, rendermime, decorateCode]);

  return (
    <div
      ref={host}
      className={`jp-StudyMate-markdown ${props.className ?? ''}`}
      onClickCapture={onClickCapture}
    />
  );
}
