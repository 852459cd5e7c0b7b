"""What the browser tests share: where Chromium is, how JupyterLab is set up for screenshots,
and the steps a user takes in the panel (locators, asking, opening files)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: JupyterLab's news and update popups would cover the panel in screenshots.
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
}
#: Uncaught exceptions of the page: there must be none.
PAGE_ERRORS: list[str] = []
#: Milliseconds to wait for anything the user would wait for.
WAIT = 30_000

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
# Assertions wait as long as actions (page.set_default_timeout); Playwright's own default for
# them is 5 s, which a kernel starting up under CI load can outlast.
expect.set_options(timeout=WAIT)


def require_chromium() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: the CI image must install Debian chromium")
    pytest.skip("install Debian chromium: apt-get install chromium")


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of a key state in `test-artifacts/`."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"panel-{name}.png"))


def panel(page: Any) -> Any:
    return page.locator(".jp-StudyMate")


def connection(page: Any) -> Any:
    return panel(page).locator(".jp-StudyMate-connection")


def assistant_messages(page: Any) -> Any:
    return panel(page).locator(".jp-StudyMate-message-assistant")


def open_panel(page: Any) -> None:
    """Open the panel the way the issue asks for: the command palette's "Open StudyMate"."""
    # The shell shows before every shortcut is bound: wait until the workspace is restored
    # (the launcher is up) and the panel's plugin is active, then press the palette's shortcut
    # (again only if the palette is still not there: the shortcut toggles it).
    expect(page.locator(".jp-Launcher")).to_be_visible(timeout=60_000)
    expect(page.locator("#studymate-panel")).to_have_count(1)
    palette = page.locator(".lm-CommandPalette-input")
    for _ in range(6):
        if palette.is_visible():
            break
        page.locator(".jp-Launcher").click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+Shift+C")
        try:
            expect(palette).to_be_visible(timeout=5_000)
        except AssertionError:
            continue
    palette.fill("Open StudyMate")
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    expect(connection(page)).to_have_attribute("data-state", "connected")


def ask(page: Any, text: str, send_key: str = "Enter") -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press(send_key)


def text_pdf(pages: list[list[str]]) -> bytes:
    """A real text PDF, from the library tests' hand-written PDF builder."""
    spec = importlib.util.spec_from_file_location("pdfs", HERE.parent / "library" / "pdfs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return bytes(module.text_pdf(pages))


def page_of(topic: str, sentences: list[str]) -> list[str]:
    """A page long enough (well over the chunker's 30-word minimum) to be a chunk of its own."""
    filler = f"This page is about {topic} and nothing else, as the lecture notes say."
    return [*sentences, *([filler] * 10)]


#: A three-page optics PDF's text: refraction (Snell's law) on page 2, lenses on page 3.
OPTICS_PAGES = [
    page_of("light", ["Introduction to optics.", "Light travels in straight lines."]),
    page_of(
        "refraction",
        [
            "Snell's law describes refraction at the boundary between two media.",
            "The ratio of the sines of the angles equals the inverse ratio of the indices.",
        ],
    ),
    page_of("lenses", ["Thin lenses focus parallel rays at the focal point."]),
]


def open_in_file_browser(page: Any, name: str) -> None:
    page.locator(".jp-FileBrowser").get_by_title("Refresh the file browser").first.click()
    page.locator(f'.jp-DirListing-item[title^="Name: {name}"]').dblclick()


#: JavaScript: the WCAG contrast ratio of an element's text against what shows behind it
#: (the backgrounds of it and its ancestors, blended down to the first opaque one).
_CONTRAST = """
element => {
  const parse = c => {
    const [r, g, b, a] = c.match(/rgba?\\(([^)]+)\\)/)[1].split(',').map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  // `top` (alpha and all) painted over the opaque `bottom`.
  const over = (top, bottom) =>
    top.slice(0, 3).map((v, i) => v * top[3] + bottom[i] * (1 - top[3]));
  const layers = [];
  for (let node = element; node; node = node.parentElement) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c[3] > 0) {
      layers.push(c);
      if (c[3] === 1) break;
    }
  }
  const white = [255, 255, 255];
  const background = layers.reverse().reduce((below, layer) => over(layer, below), white);
  const text = over(parse(getComputedStyle(element).color), background);
  const luminance = rgb => {
    const [r, g, b] = rgb.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(text), luminance(background)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
"""
#: WCAG AA for normal-size text.
READABLE = 4.5


def contrast_ratio(locator: Any) -> float:
    """The WCAG contrast ratio of the (first) element's text against its background."""
    return float(locator.first.evaluate(_CONTRAST))


def assert_readable(elements: dict[str, Any]) -> dict[str, float]:
    """Every named element's text meets WCAG AA contrast; the ratios, by name."""
    ratios = {name: round(contrast_ratio(locator), 2) for name, locator in elements.items()}
    faint = {name: ratio for name, ratio in ratios.items() if ratio < READABLE}
    assert faint == {}, f"text below WCAG AA contrast ({READABLE}): {faint}"
    return ratios
