"""Re-execute every chapter on every build.

Sphinx re-reads only the documents whose source changed, so with ``execute_notebooks: force``
a second ``jupyter-book build .`` over an existing ``_build`` would execute nothing, and an edit
to ``companion`` would go unchecked. This hook marks every notebook page as outdated, so each
build runs every chapter's checks again.
"""
from pathlib import Path


def _is_notebook(path):
    path = Path(path)
    if path.suffix == ".ipynb":
        return True
    if path.suffix != ".md" or not path.exists():
        return False
    head = path.read_text(encoding="utf-8")[:400]
    return head.startswith("---") and "jupytext:" in head and "kernelspec:" in head


def _outdated(app, env, added, changed, removed):
    return [doc for doc in env.found_docs
            if doc not in added and doc not in changed and _is_notebook(env.doc2path(doc))]


def setup(app):
    app.connect("env-get-outdated", _outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
