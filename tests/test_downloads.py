"""The chapters' notebook downloads (book/_ext/notebook_downloads.py).

On a built site (``--site _build/html``): each chapter's ``.ipynb`` is the executed notebook,
with its outputs (figures and check lines), and opens with a cell that says how to install
``companion``. Without ``--site``: the install cell's text, with and without a repository URL.
"""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _extension():
    spec = importlib.util.spec_from_file_location(
        "notebook_downloads", ROOT / "book" / "_ext" / "notebook_downloads.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_install_cell_names_the_package_and_the_command():
    ext = _extension()
    text = ext.install_cell_source("The forward process")
    assert "*The forward process*" in text and "`companion`" in text
    assert "python -m pip install . ipywidgets myst-nb" in text and "git clone" in text
    text = ext.install_cell_source("T", "https://github.com/owner/book")
    assert 'python -m pip install "companion @ git+https://github.com/owner/book.git"' in text


def test_downloads_keep_the_static_picture_of_an_explorer():
    import nbformat

    ext = _extension()
    out = nbformat.v4.new_output("display_data", data={
        ext.WIDGET_MIME: {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "image/png": "iVBORw0KGgo=", "text/plain": "interactive figure",
        "text/html": '<div class="cp-explorer" id="x"></div>'})
    plain = nbformat.v4.new_output("display_data", data={"text/html": "<b>table</b>"})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[out, plain])])
    ext.static_outputs(nb)
    data = nb.cells[0].outputs[0]["data"]
    assert set(data) == {"image/png", "text/plain"}
    assert nb.cells[0].outputs[1]["data"] == {"text/html": "<b>table</b>"}


@pytest.mark.site
def test_downloads_are_the_executed_notebooks(request):
    import nbformat

    root = Path(request.config.getoption("--site")).resolve()
    chapters = sorted(p.stem for p in (root / "book").glob("*.html") if re.match(r"\d\d_", p.name))
    assert chapters
    for stem in chapters:
        nb = nbformat.read(root / "_sources" / "book" / f"{stem}.ipynb", as_version=4)
        nbformat.validate(nb)
        first = nb.cells[0]
        assert first.cell_type == "markdown" and "pip install" in first.source, stem
        assert "jupytext" not in nb.metadata, stem
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(c.execution_count is not None for c in code), f"{stem}: not executed"
        outputs = [o for c in code for o in c.outputs]
        text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert "[ok] " in text and "[FAIL]" not in text, f"{stem}: no check lines in the outputs"
        assert images, f"{stem}: no figure in the outputs"
        assert not [o for o in outputs if o.output_type == "error"], stem
        assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json"
                    in o.get("data", {})], f"{stem}: a widget without its model"
