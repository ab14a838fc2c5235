"""The explorers' website version moves without a kernel: a browser drags its sliders.

Every explorer (``companion.widgets.explorer``) embeds, in the book build, frames drawn for its
slider values and a few lines of JavaScript that switch them. Here headless Chromium presses
the arrow keys on each slider and checks that the picture changed, that the value shown next
to the slider follows, and that the page logs no error.

Without ``--site`` the test runs on a small page made here from a real explorer (both the
"every combination" and the "one slider at a time" layouts). With ``--site _build/html`` (as
in ``.ci/run``) it also runs on every chapter page of the built website. Needs Debian's
``chromium`` and ``chromium-driver`` (see tests/test_site.py).
"""
import re
from pathlib import Path

import pytest

from test_site import browser, serve  # noqa: F401  (the browser fixture is used by name)

STATE_JS = """
const root = arguments[0];
return {src: root.querySelector('img').getAttribute('src'),
        alt: root.querySelector('img').getAttribute('alt'),
        values: Array.from(root.querySelectorAll('input[type=range]')).map(s => s.value),
        shown: Array.from(root.querySelectorAll('output')).map(o => o.textContent)};
"""


def _severe(driver):
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def drag_every_slider(driver, url):
    """Open ``url`` and move each slider of each explorer one step; return the problems."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    problems = []
    driver.get_log("browser")
    driver.get(url)
    explorers = driver.find_elements(By.CSS_SELECTOR, "div.cp-explorer")
    if not explorers:
        return ["no explorer on the page"], 0
    for k, root in enumerate(explorers):
        sliders = root.find_elements(By.CSS_SELECTOR, "input[type=range]")
        if not sliders:
            problems.append(f"explorer {k}: no slider")
        for j, slider in enumerate(sliders):
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
            before = driver.execute_script(STATE_JS, root)
            at_end = int(slider.get_attribute("value")) == int(slider.get_attribute("max"))
            slider.send_keys(Keys.ARROW_LEFT if at_end else Keys.ARROW_RIGHT)
            after = driver.execute_script(STATE_JS, root)
            where = f"explorer {k}, slider {j}"
            if after["values"][j] == before["values"][j]:
                problems.append(f"{where}: the key did not move the slider")
            if after["src"] == before["src"]:
                problems.append(f"{where}: the picture did not change")
            if after["shown"][j] == before["shown"][j]:
                problems.append(f"{where}: the value shown did not follow")
            if after["alt"] == before["alt"]:
                problems.append(f"{where}: the alt text did not follow")
            if not after["src"].startswith("data:image/png;base64,"):
                problems.append(f"{where}: the picture is not an embedded PNG")
    problems += [f"console error: {m}" for m in _severe(driver)]
    return problems, len(explorers)


# ----------------------------------------------------------------- on a page made here
def _line(slope, colour="k"):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2.5, 2))
    ax.plot([0, 1], [0, slope], color=colour)
    ax.set_title(f"slope {slope}")
    return fig


@pytest.fixture(scope="module")
def toy_page(tmp_path_factory):
    import matplotlib

    matplotlib.use("Agg")
    import companion as cp

    few = cp.widgets.explorer(_line, {"slope": [1, 2, 3], "colour": ["k", "r"]})
    many = cp.widgets.explorer(_line, {"slope": list(range(1, 8)), "colour": list("kbgrcmy")},
                               initial={"slope": 1, "colour": "k"})
    root = tmp_path_factory.mktemp("sliders")
    (root / "index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>sliders</title></head><body><main>{few.static_html()}"
        f"{many.static_html(max_frames=24)}</main></body></html>", encoding="utf-8")
    base, server = serve(root)
    yield f"{base}/index.html"
    server.shutdown()


def test_a_static_slider_changes_the_picture(browser, toy_page):  # noqa: F811
    problems, n = drag_every_slider(browser, toy_page)
    assert n == 2 and problems == [], problems


def test_one_slider_at_a_time_resets_the_others(browser, toy_page):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(toy_page)
    root = browser.find_elements(By.CSS_SELECTOR, "div.cp-explorer")[1]
    slope, colour = root.find_elements(By.CSS_SELECTOR, "input[type=range]")
    slope.send_keys(Keys.ARROW_RIGHT)
    assert browser.execute_script(STATE_JS, root)["values"] == ["1", "0"]
    colour.send_keys(Keys.ARROW_RIGHT)         # slope goes back to its initial value
    state = browser.execute_script(STATE_JS, root)
    assert state["values"] == ["0", "1"] and state["shown"] == ["1", "b"], state
    assert "each slider moves on its own" in root.text


def test_the_check_catches_a_frozen_picture(browser, toy_page, tmp_path):  # noqa: F811
    """Negative control: a page whose script does not switch frames is reported."""
    import urllib.request

    page = urllib.request.urlopen(toy_page).read().decode()
    frozen = re.sub(r'img\.src = "data:image/png;base64," \+ data\.frames\[key\];', "", page)
    assert frozen != page
    (tmp_path / "index.html").write_text(frozen, encoding="utf-8")
    base, server = serve(tmp_path)
    try:
        problems, _ = drag_every_slider(browser, f"{base}/index.html")
    finally:
        server.shutdown()
    assert any("the picture did not change" in p for p in problems), problems


# ------------------------------------------------------------------ the real website
@pytest.fixture(scope="module")
def site(request):
    root = Path(request.config.getoption("--site")).resolve()
    if not (root / "index.html").exists():
        pytest.fail(f"{root} is not a built site (no index.html): run jupyter-book build . first")
    base, server = serve(root)
    yield root, base
    server.shutdown()


@pytest.mark.site
def test_every_website_explorer_moves(browser, site):  # noqa: F811
    root, base = site
    chapters = sorted(p.name for p in (root / "book").glob("*.html") if re.match(r"\d\d_", p.name))
    assert chapters
    report, total = {}, 0
    for name in chapters:
        if "cp-explorer" not in (root / "book" / name).read_text(encoding="utf-8"):
            continue
        problems, n = drag_every_slider(browser, f"{base}/book/{name}")
        total += n
        if problems:
            report[name] = problems
    assert not report, report
    # chapters 1 to 3 each have an explorer
    assert total >= 3, f"only {total} explorers found on the website"
