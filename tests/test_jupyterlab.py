"""A chapter in a real JupyterLab, driven by headless Chromium.

A JupyterLab server starts on a free localhost port with a token, with the repository's
settings (jupyter-config/: Markdown opens with jupytext's notebook viewer) and its
jupytext.toml, on a copy of one chapter. The browser opens the chapter by its path and must
get a notebook (not the text editor) whose Markdown is rendered by jupyterlab-myst (no raw
directive or role left on the page), runs all cells (none may error, no check may fail), moves
the explorer's slider and waits for the figure to change, saves, and the saved file must be
byte-identical to the source.

Run with ``python -m pytest tests/test_jupyterlab.py --jupyterlab`` (``.ci/run`` does); without
``--jupyterlab`` it is deselected. Needs Debian's ``chromium`` and ``chromium-driver``.
"""
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_site import _need_browser, browser  # noqa: F401  (fixture used by name)

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "01_forward_process.md"
RUN_TIMEOUT = 300          # seconds for 'Run All' (the chapter runs in ~20 s on a quiet machine)

# Text that would betray raw MyST in a rendered Markdown cell.
RAW_MYST = ["{prf:", "{cite:", "{glue:", "{numref}", "{doc}", "{eq}", "```{", ":::{", ":label:"]

APP_JS = "return !!(window.jupyterapp && window.jupyterapp.shell.currentWidget);"
PANEL_JS = """
const w = window.jupyterapp.shell.currentWidget;
return w ? w.node.className : null;
"""
RUN_ALL_JS = "window.jupyterapp.commands.execute('notebook:run-all-cells');"
SAVE_JS = """
const done = arguments[arguments.length - 1];
window.jupyterapp.commands.execute('docmanager:save').then(() => done(true), e => done(String(e)));
"""
PROGRESS_JS = """
const nb = window.jupyterapp.shell.currentWidget.content;
const cells = nb.widgets.filter(c => c.model.type === 'code');
const ran = cells.filter(c => c.model.executionCount !== null).length;
const busy = nb.node.querySelectorAll('.jp-InputPrompt').length
  && Array.from(nb.node.querySelectorAll('.jp-InputPrompt')).some(p => p.textContent.includes('*'));
const errors = [], fails = [];
cells.forEach((c, i) => {
  const outs = c.model.outputs.toJSON();
  outs.forEach(o => {
    if (o.output_type === 'error') errors.push(i + ': ' + o.ename + ': ' + o.evalue);
    const t = [].concat(o.text || []).join('');
    if (t.includes('[FAIL]')) fails.push(i + ': ' + t.slice(0, 200));
  });
});
return {total: cells.length, ran: ran, busy: busy, errors: errors, fails: fails,
        status: window.jupyterapp.shell.currentWidget.sessionContext.kernelDisplayStatus};
"""
MARKDOWN_TEXT_JS = """
const nb = window.jupyterapp.shell.currentWidget.content;
const md = nb.widgets.filter(c => c.model.type === 'markdown');
// jupyterlab-myst renders a Markdown cell into a '.myst' widget (JupyterLab's own renderer
// would give '.jp-RenderedMarkdown', which fails the test: MyST would not be rendered)
const out = md.map(c => c.node.querySelector('.myst'));
if (out.some(o => !o)) return null;                                // not all rendered yet
return out.map(o => { const c = o.cloneNode(true);
                      c.querySelectorAll('.katex-mathml, annotation').forEach(e => e.remove());
                      return c.textContent; });
"""
FIGURE_JS = """
const out = document.querySelector('.jupyter-widgets-output-area img, .widget-output img');
return out ? out.getAttribute('src') : null;
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(driver, js, timeout, what, *args):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(js, *args)
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _need_browser()
    root = tmp_path_factory.mktemp("lab")
    (root / "book").mkdir()
    shutil.copy(ROOT / "book" / CHAPTER, root / "book" / CHAPTER)
    shutil.copy(ROOT / "jupytext.toml", root / "jupytext.toml")
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ,
               # the repository's settings, whether or not the settings package is installed,
               # and none of the user's own (a user setting could change the default viewer)
               JUPYTER_CONFIG_PATH=str(ROOT / "jupyter-config"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    # render every cell, not only those in view (JupyterLab's default virtual scrolling leaves
    # the others empty), so that the test sees all of the chapter's Markdown
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    raise AssertionError("JupyterLab did not start:\n"
                                         + (home / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base, token, root, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.jupyterlab
def test_a_chapter_runs_in_jupyterlab(browser, lab):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, token, root, home = lab
    driver = browser
    driver.set_window_size(1400, 1000)
    driver.get(f"{base}/lab/tree/book/{CHAPTER}?token={token}")
    _wait(driver, APP_JS, 90, "JupyterLab to open the chapter")
    # the chapter opens as a notebook, not in the text editor
    _wait(driver, "return document.querySelector('.jp-NotebookPanel .jp-Cell') !== null;", 60,
          "a notebook view")
    assert "jp-NotebookPanel" in driver.execute_script(PANEL_JS)
    _wait(driver, "return window.jupyterapp.shell.currentWidget.sessionContext"
                  ".kernelDisplayStatus === 'idle';", 90, "the kernel")

    # MyST rendered by jupyterlab-myst: no raw directive or role in the Markdown cells
    texts = _wait(driver, MARKDOWN_TEXT_JS, 90, "jupyterlab-myst to render the Markdown")
    (home / "markdown.txt").write_text("\n\n----\n\n".join(texts))
    assert len(texts) > 10 and all(t.strip() for t in texts), "Markdown cells not rendered"
    raw = sorted({m for t in texts for m in RAW_MYST if m in t})
    assert not raw, f"raw MyST in JupyterLab: {raw}"

    # run all cells
    driver.execute_script(RUN_ALL_JS)
    end = time.monotonic() + RUN_TIMEOUT
    while True:
        p = driver.execute_script(PROGRESS_JS)
        assert not p["errors"], p["errors"]
        if p["ran"] == p["total"] and not p["busy"] and p["status"] == "idle":
            break
        assert time.monotonic() < end, f"Run All did not finish: {p}"
        time.sleep(1)
    assert not p["fails"], p["fails"]

    # move the explorer's slider: the figure must change
    before = _wait(driver, FIGURE_JS, 30, "the explorer's figure")
    handle = driver.find_element(By.CSS_SELECTOR, ".widget-slider .noUi-handle, "
                                                  ".widget-hslider .noUi-handle")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
    handle.click()
    handle.send_keys(Keys.ARROW_RIGHT)
    changed = ("const s = (document.querySelector('.jupyter-widgets-output-area img, "
               ".widget-output img') || {}).src; return s && s !== arguments[0];")
    _wait(driver, changed, 30, "the figure to follow the slider", before)
    p = driver.execute_script(PROGRESS_JS)
    assert not p["errors"], p["errors"]

    # save: the source is unchanged
    assert driver.execute_async_script(SAVE_JS) is True
    saved = (root / "book" / CHAPTER).read_bytes()
    assert saved == (ROOT / "book" / CHAPTER).read_bytes(), "saving changed the chapter"
