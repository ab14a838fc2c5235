"""The website as a reader sees it: every page opened in headless Chromium.

For each page: no raw TeX in the rendered text (MathJax must have typeset every formula),
every image loaded, every internal link (and its #anchor) resolves, and the browser console
has no errors. A screenshot of each chapter page is kept.

Run on a built site with ``python -m pytest tests/test_site.py --site _build/html``
(``.ci/run`` does this after the strict build). Without ``--site`` only the tests of the
checker itself run, on small pages made here, one of them deliberately broken. They need
Debian's ``chromium`` and ``chromium-driver``; without them they skip with a message, unless
``REQUIRE_BROWSER=1`` is set (as in CI), where a missing browser is a failure.
"""
import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
RAW_TEX = ["$$", "\\(", "\\)", "\\[", "\\]", "\\begin{", "\\end{"]

# Text inside code, scripts and MathJax's own markup is not prose: drop it before looking for TeX.
VISIBLE_TEXT_JS = """
const root = document.querySelector('main') || document.body;
const clone = root.cloneNode(true);
clone.querySelectorAll('pre, code, script, style, mjx-assistive-mml, .MathJax_Preview, '
                       + 'textarea').forEach(e => e.remove());
return clone.textContent;
"""
BROKEN_IMAGES_JS = """
return Array.from(document.images)
  .filter(i => !(i.complete && i.naturalWidth > 0))
  .map(i => i.getAttribute('src'));
"""
LINKS_JS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
WAIT_MATHJAX_JS = """
const done = arguments[arguments.length - 1];
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(() => done(true)).catch(() => done(false));
} else { done(null); }
"""


def _need_browser():
    if CHROMIUM and CHROMEDRIVER:
        return
    msg = ("headless Chromium is not installed: apt-get install chromium chromium-driver "
           "(Debian) to run the browser tests")
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from selenium import webdriver

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1280,1600"]:
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def serve(directory):
    """Serve a folder on 127.0.0.1 (an ephemeral port); returns (base_url, server)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def _ids_of(path):
    return set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8", errors="ignore")))


def check_page(driver, root, base, rel, screenshot=None):
    """Open one page and return the list of problems found (empty when the page is sound)."""
    problems = []
    driver.get_log("browser")                                  # drop earlier pages' messages
    driver.get(f"{base}/{rel}")
    driver.execute_async_script(WAIT_MATHJAX_JS)
    text = driver.execute_script(VISIBLE_TEXT_JS) or ""
    for marker in RAW_TEX:
        if marker in text:
            i = text.index(marker)
            problems.append(f"raw TeX {marker!r} visible: ...{text[max(0, i - 40):i + 40]!r}...")
    for src in driver.execute_script(BROKEN_IMAGES_JS):
        problems.append(f"image did not load: {src}")
    n_widgets = driver.execute_script(
        "return document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]').length;")
    if n_widgets:
        problems.append(f"blank output: {n_widgets} widget(s) without a static fallback")
    for href in driver.execute_script(LINKS_JS):
        url, frag = urldefrag(href)
        parsed = urlparse(url)
        if not url.startswith(base):        # external links are not ours to check offline
            continue
        target = root / unquote(parsed.path.lstrip("/"))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"broken link: {href}")
        elif frag and target.suffix == ".html" and unquote(frag) not in _ids_of(target):
            problems.append(f"broken anchor: {href}")
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            problems.append(f"console error: {entry.get('message')}")
    if screenshot is not None:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, max(800, min(int(height), 12000)))
        driver.save_screenshot(str(screenshot))
        driver.set_window_size(1280, 1600)
    return problems


# --------------------------------------------------------------------- tests of the checker
GOOD_PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>good</title></head>
<body><main><p>Plain prose, a <a href="other.html#here">link</a> and an image
<img src="dot.png" alt="dot"></p><pre>code may contain $$ and \\begin{x}</pre></main></body></html>"""
OTHER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>other</title></head>
<body><main><p id="here">target</p></main></body></html>"""
BROKEN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>broken</title></head>
<body><main><p>Unrendered: $$ \\int_0^1 x\\,dx $$ and \\(\\alpha\\).</p>
<img src="missing.png" alt="missing"><a href="nowhere.html">dead</a>
<a href="other.html#not-there">dead anchor</a></main>
<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">{}</script></div>
<script>console.error("deliberate failure");</script></body></html>"""
# a 1x1 PNG
DOT_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")


@pytest.fixture(scope="module")
def toy_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy_site")
    (root / "good.html").write_text(GOOD_PAGE)
    (root / "other.html").write_text(OTHER_PAGE)
    (root / "broken.html").write_text(BROKEN_PAGE)
    (root / "dot.png").write_bytes(DOT_PNG)
    base, server = serve(root)
    yield root, base
    server.shutdown()


def test_checker_accepts_a_sound_page(browser, toy_site):
    root, base = toy_site
    assert check_page(browser, root, base, "good.html") == []


def test_checker_catches_a_broken_page(browser, toy_site, tmp_path):
    root, base = toy_site
    shot = tmp_path / "broken.png"
    problems = check_page(browser, root, base, "broken.html", screenshot=shot)
    kinds = {p.split(":")[0] for p in problems}
    assert any(p.startswith("raw TeX '$$'") for p in problems), problems
    assert any(p.startswith("raw TeX '\\\\('") for p in problems), problems
    assert {"image did not load", "broken link", "broken anchor", "console error",
            "blank output"} <= kinds, problems
    assert shot.exists() and shot.stat().st_size > 0


# ------------------------------------------------------------------ the real website
@pytest.fixture(scope="module")
def site(request):
    root = Path(request.config.getoption("--site")).resolve()
    if not (root / "index.html").exists():
        pytest.fail(f"{root} is not a built site (no index.html): run jupyter-book build . first")
    base, server = serve(root)
    yield root, base
    server.shutdown()


def _pages(root):
    return sorted(p.relative_to(root).as_posix() for p in (root / "book").glob("*.html"))


@pytest.mark.site
def test_every_page_renders_cleanly(browser, site, request):
    root, base = site
    shots = request.config.getoption("--screenshots")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    pages = _pages(root)
    assert len(pages) >= 5, pages
    report = {}
    for rel in pages:
        stem = Path(rel).stem
        is_chapter = re.match(r"\d\d_", stem) is not None
        shot = Path(shots) / f"{stem}.png" if shots and is_chapter else None
        problems = check_page(browser, root, base, rel, screenshot=shot)
        if problems:
            report[rel] = problems
    assert not report, "\n".join(f"{page}:\n  " + "\n  ".join(p) for page, p in report.items())


@pytest.mark.site
def test_chapters_offer_a_real_notebook(site):
    import nbformat

    root, _ = site
    chapters = [p for p in _pages(root) if re.match(r"book/\d\d_", p)]
    assert chapters
    for rel in chapters:
        html = (root / rel).read_text(encoding="utf-8")
        stem = Path(rel).stem
        assert f"_sources/book/{stem}.ipynb" in html, f"{rel} has no .ipynb download link"
        nb = nbformat.read(root / "_sources" / "book" / f"{stem}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert sum(c.cell_type == "code" for c in nb.cells) >= 3


@pytest.mark.site
def test_status_page_reports_real_runs(site):
    root, _ = site
    text = re.sub(r"<[^>]+>", " ", (root / "book" / "status.html").read_text(encoding="utf-8"))
    m = re.search(r"In total (\d+) checks passed in ([\d.]+) s", text)
    assert m and int(m.group(1)) > 0 and float(m.group(2)) > 0, "status page has no totals"
    assert "FAILED" not in text


@pytest.mark.site
def test_a_downloaded_notebook_runs(site, tmp_path):
    """The .ipynb offered for download executes on its own, away from the book's folder."""
    import nbformat
    from nbclient import NotebookClient

    root, _ = site
    nb = nbformat.read(root / "_sources" / "book" / "01_forward_process.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert text.count("[ok] ") >= 10 and "[FAIL]" not in text
