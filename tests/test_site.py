"""The website as a reader sees it: every page opened in headless Chromium.

For each page, at desktop width (1400 px) and at phone width (400 px): no raw TeX in the
rendered text (MathJax must have typeset every formula; no ``$``, no TeX command, no MathJax
error), no MyST markup left unparsed (a directive fence, a role such as ``{cite:p}``, a
``:label:`` line), no display equation wider than its column (measured on the rendered MathJax
boxes; on a phone a display may scroll inside its own box, never the page), no equation under
its number, every image loaded, every internal link (and its #anchor) resolves, and the browser
console has no errors. A screenshot of every page at both widths is kept. Every figure of a
chapter is numbered, captioned and has an alt text; the registry appendix and the bounds page
cover the registry and link to the checks.

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
WIDTHS = (1400, 400)          # a desktop and a phone
RAW_TEX = ["$$", "\\(", "\\)", "\\[", "\\]", "\\begin{", "\\end{"]
TEX_COMMAND = re.compile(r"\\[A-Za-z]{2,}")
# MyST markup that should have been parsed: a directive fence, a role, a directive option
MYST_MARKUP = re.compile(r"```|:::|\{(?:prf|exercise|solution|cite|glue|doc|ref|numref|eq|math|"
                         r"code-cell|figure|admonition|note|warning|bibliography|toctree|"
                         r"[a-z]+-[a-z-]+)[}:]|:label:|:class:|:tags:")

# What a reader reads as prose: the page without the code of the cells, their program text
# output, scripts and the math MathJax typeset (which is checked on its own).
VISIBLE_TEXT_JS = """
const root = document.querySelector('main') || document.body;
const clone = root.cloneNode(true);
clone.querySelectorAll('.cell_input, .cell_output pre, .cell_output code, script, style, '
                       + 'mjx-container, mjx-assistive-mml, .MathJax_Preview, textarea')
     .forEach(e => e.remove());
return clone.textContent;
"""
MATH_ERRORS_JS = """
return Array.from(document.querySelectorAll('mjx-merror'))
  .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
"""
# Every display equation against its column, as rendered: the display must not reach out of the
# column (the page would scroll sideways or the formula be cut), must not run under its
# equation number, and at desktop width must fit without scrolling inside its own box.
DISPLAYS_JS = """
const wide = window.innerWidth >= 1000;
const out = [];
const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
document.querySelectorAll('mjx-container[display="true"]').forEach((c, i) => {
  if (!shown(c)) return;
  const col = c.closest('article, main, .bd-article, body');
  const r = c.getBoundingClientRect(), k = col.getBoundingClientRect();
  const math = c.querySelector('mjx-math');
  const tex = (c.querySelector('mjx-assistive-mml') || c).textContent.slice(0, 60);
  const need = math ? math.getBoundingClientRect().width : r.width;
  if (r.right > k.right + 1 || r.left < k.left - 1)
    out.push(`display ${i} is ${Math.round(r.width)} px wide in a ${Math.round(k.width)} px column: ${tex}`);
  else if (wide && c.scrollWidth > c.clientWidth + 1)
    out.push(`display ${i} needs ${Math.round(need)} px but its column gives ${Math.round(c.clientWidth)} px: ${tex}`);
  const eqno = c.parentElement.querySelector(':scope > .eqno');
  if (eqno && shown(eqno)) {
    const e = eqno.getBoundingClientRect();
    const m = math ? math.getBoundingClientRect() : r;
    const right = Math.min(m.right, r.right);
    if (e.left < right - 1 && e.right > Math.max(m.left, r.left) + 1 && e.top < r.bottom && e.bottom > r.top)
      out.push(`display ${i} runs under its equation number: ${tex}`);
  }
});
document.querySelectorAll('mjx-container:not([display="true"])').forEach((c, i) => {
  if (!shown(c) || c.closest('.cell_output pre')) return;
  let box = c.parentElement;
  while (box && getComputedStyle(box).display.startsWith('inline')) box = box.parentElement;
  const r = c.getBoundingClientRect(), k = box.getBoundingClientRect();
  if (r.right > k.right + 1)
    out.push(`inline formula ${i} sticks out of its line by ${Math.round(r.right - k.right)} px: ` +
             (c.querySelector('mjx-assistive-mml') || c).textContent.slice(0, 60));
});
if (document.documentElement.scrollWidth > window.innerWidth + 1)
  out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px in a ${window.innerWidth} px window`);
return out;
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


def _full_screenshot(driver, path, tile=8000):
    """The whole page at the current window width: the window is made as tall as the page, or
    for a long page ``tile`` pixels tall, scrolled down tile by tile and stitched together."""
    import io

    from PIL import Image

    width = driver.get_window_size()["width"]
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    view = min(height, tile)
    driver.set_window_size(width, view)
    view = int(driver.execute_script("return window.innerHeight"))
    height = min(int(driver.execute_script("return document.documentElement.scrollHeight")),
                 60000)
    image = Image.new("RGB", (width, height), "white")
    top = 0
    while top < height:
        driver.execute_script("window.scrollTo(0, arguments[0]);", top)
        y = int(driver.execute_script("return window.scrollY"))
        shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
        h = min(view, height - top)
        image.paste(shot.crop((0, top - y, shot.size[0], top - y + h)), (0, top))
        top += h
    image.save(path)
    driver.set_window_size(width, 1000)


def check_page(driver, root, base, rel, screenshot=None, width=WIDTHS[0]):
    """Open one page at one window width and return the problems found (empty when sound)."""
    problems = []
    driver.set_window_size(width, 1000)
    driver.get_log("browser")                                  # drop earlier pages' messages
    driver.get(f"{base}/{rel}")
    driver.execute_async_script(WAIT_MATHJAX_JS)
    text = driver.execute_script(VISIBLE_TEXT_JS) or ""

    def context(i, n=1):
        return text[max(0, i - 40):i + 40 + n].replace("\n", " ")

    for marker in RAW_TEX:
        if marker in text:
            i = text.index(marker)
            problems.append(f"raw TeX {marker!r} visible: ...{context(i)!r}...")
    if "$" in text:
        i = text.index("$")
        problems.append(f"raw TeX '$' visible: ...{context(i)!r}...")
    m = TEX_COMMAND.search(text)
    if m:
        problems.append(f"raw TeX {m.group(0)!r} visible: ...{context(m.start())!r}...")
    m = MYST_MARKUP.search(text)
    if m:
        problems.append(f"MyST markup {m.group(0)!r} visible: ...{context(m.start())!r}...")
    for err in driver.execute_script(MATH_ERRORS_JS):
        problems.append(f"math error: {err}")
    for p in driver.execute_script(DISPLAYS_JS):
        problems.append(f"at {width} px: {p}")
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
        _full_screenshot(driver, screenshot)
    return problems


# --------------------------------------------------------------------- tests of the checker
HEAD = ('<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{margin:0} main{max-width:650px;margin:0 auto;padding:0 10px} pre{overflow-x:auto}"
        "mjx-container{display:block;max-width:100%;overflow-x:auto}"
        "mjx-math{display:inline-block;height:1em}"
        "div.math{display:flex;flex-direction:row-reverse}"
        "div.math>mjx-container{flex:1 1 auto;min-width:0}</style>"
        "<title>{title}</title></head><body><main>")
TAIL = "</main></body></html>"


def _page(title, body):
    return HEAD.replace("{title}", title) + body + TAIL


def display(width_px, style=""):
    """A stand-in for a display equation typeset by MathJax, ``width_px`` wide."""
    return (f'<mjx-container display="true" style="{style}"><mjx-math style="width:{width_px}px">'
            f'</mjx-math><mjx-assistive-mml>x</mjx-assistive-mml></mjx-container>')


GOOD_PAGE = _page("good", """<p>Plain prose, a <a href="other.html#here">link</a> and an image
<img src="dot.png" alt="dot"></p>
<div class="cell_input"><pre>verify.close("a.b", x)  # {cite:p}, $$ and \\begin{x} in code</pre></div>
<div class="cell_output"><pre>[ok] a.b  $x$ in a program's printed output</pre></div>
<div class="math"><span class="eqno">(1.1)</span>""" + display(300) + "</div>"
    + "<p>A long display scrolls inside its own box on a phone:</p><div class='math'>"
    + display(600) + "</div>")
OTHER_PAGE = _page("other", '<p id="here">target</p>')
BROKEN_PAGE = _page("broken", """<p>Unrendered: $$ \\int_0^1 x\\,dx $$ and \\(\\alpha\\).</p>
<img src="missing.png" alt="missing"><a href="nowhere.html">dead</a>
<a href="other.html#not-there">dead anchor</a>
<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">{}</script></div>
<script>console.error("deliberate failure");</script>""")
# one page per defect of issue 9, each with the problem the checker must report
DEFECT_PAGES = {
    "fence": ("<p><code>```{prf:lemma} Initialisation error</code></p>"
              "<pre>:label: lem-init-error\n\\mathrm{KL}(q_T)</pre>", "MyST markup"),
    "colon-fence": ("<p>:::{prf:theorem} Title</p>", "MyST markup"),
    "role": ("<p>as shown by {cite:p}`benton2024nearly`</p>", "MyST markup"),
    "glue": ("<p>the ratio is {glue:text}`ratio:.3g`</p>", "MyST markup"),
    "label": ("<p>:label: lem-init-error</p>", "MyST markup"),
    "exercise": ("<p>{exercise} Show that</p>", "MyST markup"),
    "single-dollar": ("<p>By Itô's formula, $d\\varphi(X_t) = ...</p>", "raw TeX '$'"),
    "tex-command": ("<p>the bound \\mathrm{KL} holds</p>", "raw TeX '\\\\mathrm'"),
    "math-error": ("<p><mjx-merror data-mjx-error='Undefined control sequence \\foo'>"
                   "\\foo</mjx-merror></p>", "math error"),
    "too-wide": ("<div class='math'>" + display(900, "width:965px;max-width:none;flex:none;overflow:visible") + "</div>",
                 "at {w} px: display 0 is"),
    "scrolls-on-desktop": ("<div class='math'>" + display(900) + "</div>",
                           "at 1400 px: display 0 needs"),
    "under-eqno": ("<div style='position:relative'><div class='math' style='display:block'>"
                   "<span class='eqno' style='position:absolute;right:0'>(2.1)</span>"
                   + display(640, "overflow:visible") + "</div></div>",
                   "at {w} px: display 0 runs under its equation number"),
    "inline-overflow": ("<p style='overflow:hidden'>text <mjx-container style='display:inline-block;max-width:none;"
                        "width:900px'><mjx-math style='width:900px'></mjx-math></mjx-container></p>",
                        "at {w} px: inline formula 0 sticks out"),
    "page-overflow": ("<div style='width:1800px'>a wide block</div>", "at {w} px: the page scrolls"),
}
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
    for name, (body, _) in DEFECT_PAGES.items():
        (root / f"{name}.html").write_text(_page(name, body))
    (root / "dot.png").write_bytes(DOT_PNG)
    base, server = serve(root)
    yield root, base
    server.shutdown()


@pytest.mark.parametrize("width", WIDTHS)
def test_checker_accepts_a_sound_page(browser, toy_site, width):
    root, base = toy_site
    assert check_page(browser, root, base, "good.html", width=width) == []


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


@pytest.mark.parametrize("name", sorted(DEFECT_PAGES))
def test_checker_catches_each_defect(browser, toy_site, name):
    root, base = toy_site
    expected = DEFECT_PAGES[name][1]
    widths = (1400,) if "1400 px" in expected else WIDTHS
    for width in widths:
        problems = check_page(browser, root, base, f"{name}.html", width=width)
        want = expected.format(w=width)
        assert any(p.startswith(want) for p in problems), (width, problems)


def test_checker_allows_a_display_to_scroll_in_its_box_on_a_phone(browser, toy_site):
    root, base = toy_site
    assert check_page(browser, root, base, "scrolls-on-desktop.html", width=400) == []


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
    """Every page at desktop and at phone width; a screenshot of each page at each width."""
    root, base = site
    shots = request.config.getoption("--screenshots")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    pages = _pages(root)
    assert len(pages) >= 5, pages
    report = {}
    for rel in pages:
        stem = Path(rel).stem
        for width in WIDTHS:
            shot = Path(shots) / f"{stem}-{width}.png" if shots else None
            problems = check_page(browser, root, base, rel, screenshot=shot, width=width)
            if problems:
                report.setdefault(rel, []).extend(problems)
    assert not report, "\n".join(f"{page}:\n  " + "\n  ".join(p) for page, p in report.items())


@pytest.mark.site
def test_every_figure_is_numbered_captioned_and_described(site):
    """Every image of a chapter sits in a numbered figure with a caption and a real alt text."""
    root, _ = site
    problems = []
    for rel in _pages(root):
        if not re.match(r"book/\d\d_", rel):
            continue
        page = (root / rel).read_text(encoding="utf-8")
        for m in re.finditer(r"<img [^>]*>", page):
            tag = m.group(0)
            alt = re.search(r'alt="([^"]*)"', tag)
            alt = alt.group(1) if alt else ""
            if "logo" in tag or "favicon" in tag:
                continue
            before = page[:m.start()]
            inside = before.rfind("<figure") > before.rfind("</figure>")
            if not inside:
                problems.append(f"{rel}: image outside a figure: {tag[:100]}")
            if len(alt.split()) < 5 or re.fullmatch(r"[0-9a-f]{16,}.*", alt):
                problems.append(f"{rel}: image without a real alt text: {tag[:100]}")
        for fig in re.findall(r"<figure.*?</figure>", page, flags=re.S):
            if "caption-number" not in fig:
                problems.append(f"{rel}: figure without a number: {fig[:100]}")
            if "<figcaption" not in fig:
                problems.append(f"{rel}: figure without a caption: {fig[:100]}")
            if "multi-panel" in fig.split(">", 1)[0] and "narrow-variant" not in fig:
                problems.append(f"{rel}: multi-panel figure without a stacked variant for "
                                f"phones: {fig[:100]}")
    assert not problems, "\n".join(problems)


@pytest.mark.site
def test_registry_appendix_and_bounds_page(site):
    """The appendix has a card (with an anchor) per registered id; the bounds page lists
    every bound checked in the build, each linked to its check."""
    from companion import registry

    root, _ = site
    appendix = (root / "book" / "appendix_identities.html").read_text(encoding="utf-8")
    for i in registry.IDENTITIES:
        assert f'id="reg-{i}"' in appendix, f"no card for {i}"
    assert "not yet verified" in appendix or "verified" in appendix
    bounds = (root / "book" / "bounds.html").read_text(encoding="utf-8")
    rows = re.findall(r'href="([^"#]+\.html)#(check-[^"]+)"', bounds)
    assert rows, "the bounds page lists no bound"
    for page, anchor in rows:
        assert f'id="{anchor}"' in (root / "book" / page).read_text(encoding="utf-8"), anchor


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
    text = "\n".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                     if o.get("output_type") in ("stream", "display_data"))
    assert text.count("[ok] ") >= 10 and "[FAIL]" not in text


def test_multi_panel_figures_get_a_stacked_variant(tmp_path):
    """The build cuts a figure with panels side by side at the blank gaps between them and
    stacks the panels for narrow screens; a single-panel figure is left alone."""
    import sys

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
    from book_extras import narrow_variant

    for k in (2, 3):
        fig, axes = plt.subplots(1, k, figsize=(9, 3))
        for ax in axes:
            ax.plot([0, 1], [0, 1])
            ax.set(xlabel="x", ylabel="y")
        fig.savefig(tmp_path / f"wide{k}.png", dpi=100)
        plt.close(fig)
        assert narrow_variant(tmp_path / f"wide{k}.png", tmp_path / f"narrow{k}.png")
        w, h = Image.open(tmp_path / f"wide{k}.png").size
        nw, nh = Image.open(tmp_path / f"narrow{k}.png").size
        assert nh == k * h and nw <= w / k + 0.15 * w, (k, w, h, nw, nh)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1], [0, 1])
    fig.savefig(tmp_path / "single.png", dpi=100)
    plt.close(fig)
    assert not narrow_variant(tmp_path / "single.png", tmp_path / "no.png")
