"""Sphinx extension for the book: executed notebooks to download, and the explorers' website
version.

* Every chapter written as a MyST notebook gets a real ``.ipynb`` next to its source in
  ``_sources/`` (the theme's download menu links to it). It is the notebook the build
  executed (myst-nb keeps it in ``jupyter_execute/``), so it arrives with its outputs, figures
  and check lines, and it opens with a cell that says how to install ``companion`` (from the
  book's repository) so that it runs away from a clone. A chapter that was not executed is a
  build warning, so a strict build (``-W``) never ships a notebook without outputs.
* The build asks the chapters' interactive explorers to embed their website version
  (precomputed frames and a JavaScript slider, see ``companion.widgets``): it sets the
  environment variable ``COMPANION_STATIC_EXPLORERS``, which the kernels myst-nb starts
  inherit. A notebook session outside the build does not pay for the frames.
"""
import os
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

#: set for the kernels of the build (companion.widgets.STATIC_ENV)
STATIC_ENV = "COMPANION_STATIC_EXPLORERS"
#: what a downloaded notebook needs besides companion's own dependencies
EXTRA_PACKAGES = "ipywidgets myst-nb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _is_myst_notebook(path):
    try:
        head = Path(path).read_text(encoding="utf-8")[:400]
    except OSError:
        return False
    return head.startswith("---") and "jupytext:" in head and "kernelspec:" in head


def install_cell_source(title, repository_url=None):
    """The Markdown of the first cell of a downloaded notebook."""
    if repository_url:
        url = repository_url.rstrip("/")
        if not url.endswith(".git"):
            url += ".git"
        cmd = f'python -m pip install "companion @ git+{url}" {EXTRA_PACKAGES}'
        where = f"from the book's repository ({repository_url})"
    else:
        cmd = ("git clone <the book's repository> book && cd book\n"
               f"python -m pip install . {EXTRA_PACKAGES}")
        where = "from the book's repository"
    return (
        f"**Running this notebook.** This is the chapter *{title}* of *Diffusion models, "
        "verified*, with the outputs of the run that built the website. Its code imports the "
        "book's Python package `companion`, which is not on PyPI: install it " + where + ", "
        "in the environment of the notebook's kernel, before running the cells:\n\n"
        f"```bash\n{cmd}\n```\n\n"
        "The `[ok]` lines in the outputs are the book's checks: re-running a cell re-checks "
        "its statement. The sliders need `ipywidgets` (installed above) and a running kernel.")


def static_outputs(nb):
    """Keep the static picture of each explorer in a downloaded notebook.

    The widget's model is not saved with the notebook, so JupyterLab would show "model not
    found" for it, and the website version (HTML with a script) does not run in an untrusted
    notebook: the output keeps the PNG of the initial figure and its text, and running the
    cell brings the live sliders back.
    """
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data and "image/png" in data:
                data.pop(WIDGET_MIME)
                if "cp-explorer" in "".join(data.get("text/html", "")):
                    data.pop("text/html")
    return nb


def _add_ipynb_link(app, pagename, templatename, context, doctree):
    src = app.env.doc2path(pagename, base=True) if pagename in app.env.all_docs else None
    if src and _is_myst_notebook(src):
        context["ipynb_source"] = f"{pagename}.ipynb"


def _title(app, docname):
    titles = app.env.titles
    return titles[docname].astext() if docname in titles else docname


def _write_notebooks(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    import nbformat

    executed = Path(app.outdir).parent / "jupyter_execute"
    repo = (app.config.html_theme_options or {}).get("repository_url") or None
    for docname in sorted(app.env.found_docs):
        src = Path(app.env.doc2path(docname, base=True))
        if not _is_myst_notebook(src):
            continue
        run = executed / f"{docname}.ipynb"
        if not run.exists():
            logger.warning(f"{docname}: no executed notebook in {executed}; its download "
                           "would have no outputs", type="notebook_downloads")
            continue
        nb = nbformat.read(run, as_version=4)
        nb.metadata.pop("jupytext", None)
        static_outputs(nb)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            install_cell_source(_title(app, docname), repo)))
        nb.nbformat_minor = max(nb.nbformat_minor, 5)
        for i, cell in enumerate(nb.cells):       # stable, unique ids (nbformat 4.5)
            cell["id"] = f"cell-{i}"
        nbformat.validate(nb)
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)


def setup(app):
    os.environ[STATIC_ENV] = "1"
    app.connect("html-page-context", _add_ipynb_link, priority=400)
    app.connect("build-finished", _write_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
