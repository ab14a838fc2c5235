"""Test-suite plumbing: every chapter of the book (a MyST Markdown notebook in book/) is read
with jupytext and run by nbval, so that `python -m pytest` re-checks every identity the book
verifies. The chapter is collected under its own path, so `python -m pytest book/<chapter>.md`
re-runs one chapter; its kernel starts in book/, as in the book build."""
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
        """nbval's notebook collector, reading the MyST source through jupytext."""

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
