"""Test-suite plumbing: every chapter of the book (a MyST Markdown notebook in book/) is read
with jupytext and run by nbval, so that `python -m pytest` re-checks every identity the book
verifies. The chapter is collected under its own path, so `python -m pytest book/<chapter>.md`
re-runs one chapter; its kernel starts in book/, as in the book build."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
BOOK = ROOT / "book"


def _is_notebook(path):
    head = path.read_text(encoding="utf-8")[:400]
    return head.startswith("---") and "jupytext:" in head and "kernelspec:" in head


def _myst_notebook_class():
    import jupytext
    import nbval.plugin

    class MystNotebook(nbval.plugin.IPyNbFile):
        """nbval's notebook collector, reading the MyST source through jupytext.

        Under pytest-xdist (``-n 2``) two chapters run at once on two cores, so each chapter's
        kernel gets one Numba thread: a parallel kernel with more threads than free cores
        spends its time waiting. Results do not depend on the thread count (counter-based
        random numbers), so the checks are the same bits either way.
        """

        def setup(self):
            if os.environ.get("PYTEST_XDIST_WORKER") and "NUMBA_NUM_THREADS" not in os.environ:
                os.environ["NUMBA_NUM_THREADS"] = "1"
                try:
                    super().setup()
                finally:
                    del os.environ["NUMBA_NUM_THREADS"]
            else:
                super().setup()

        def collect(self):
            real_read = nbval.plugin.nbformat.read
            nbval.plugin.nbformat.read = lambda *args, **kwargs: jupytext.read(self.path)
            try:
                items = list(super().collect())
            finally:
                nbval.plugin.nbformat.read = real_read
            yield from items

    return MystNotebook


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".md" and file_path.parent == BOOK and _is_notebook(file_path):
        return _myst_notebook_class().from_parent(parent, path=file_path)
    return None


def pytest_addoption(parser):
    group = parser.getgroup("book site")
    group.addoption("--site", default=None, metavar="DIR",
                    help="a built website (e.g. _build/html): run the browser tests on every page")
    group.addoption("--screenshots", default=None, metavar="DIR",
                    help="where the browser tests keep a screenshot of each chapter page")
    group.addoption("--jupyterlab", action="store_true", default=False,
                    help="run the test in a real JupyterLab (tests/test_jupyterlab.py)")


def pytest_configure(config):
    config.addinivalue_line("markers", "site: browser test of the built website (needs --site)")
    config.addinivalue_line("markers", "jupyterlab: test in a real JupyterLab (needs --jupyterlab)")


def pytest_collection_modifyitems(config, items):
    # Tests of the built website need a site to look at: without --site they are deselected
    # (reported as such), not skipped. The browser checker's own tests always run. Likewise
    # the JupyterLab test (a minute or two) runs only when asked for, with --jupyterlab.
    off = {m for m, opt in (("site", "--site"), ("jupyterlab", "--jupyterlab"))
           if not config.getoption(opt)}
    if not off:
        return
    keep = [i for i in items if not any(i.get_closest_marker(m) for m in off)]
    dropped = [i for i in items if any(i.get_closest_marker(m) for m in off)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def with_threads():
    """Run fn with Numba limited to k threads: ``with_threads(k, fn)``."""
    import numba

    def run(k, fn):
        if numba.config.NUMBA_NUM_THREADS < k:
            pytest.fail(f"numba must be allowed {k} threads for this test (NUMBA_NUM_THREADS)")
        old = numba.get_num_threads()
        numba.set_num_threads(k)
        try:
            return fn()
        finally:
            numba.set_num_threads(old)

    return run
