"""The repairs that .ci/build_pdf.py makes to the executed notebooks and to the LaTeX."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_pdf", ROOT / ".ci" / "build_pdf.py")
build_pdf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_pdf)


def _nb(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_glued_values_go_back_as_hidden_outputs(tmp_path):
    code = {"cell_type": "code", "source": "glue('x', 1.5, display=False)", "outputs": [],
            "metadata": {"tags": ["hide-input", "other"]}, "execution_count": 1}
    (tmp_path / "a.ipynb").write_text(json.dumps(_nb([code])))
    (tmp_path / "a.glue.json").write_text(json.dumps(
        {"x": {"output_type": "display_data", "data": {"text/plain": "1.5"},
               "metadata": {"scrapbook": {"name": "x"}}}}))
    build_pdf.restore_glue(tmp_path / "a.ipynb", tmp_path / "a.glue.json", tmp_path / "b.ipynb")
    cell = json.loads((tmp_path / "b.ipynb").read_text())["cells"][0]
    (out,) = cell["outputs"]
    assert out["metadata"]["scrapbook"] == {"name": "x", "mime_prefix": build_pdf.GLUE_PREFIX}
    assert out["data"] == {build_pdf.GLUE_PREFIX + "text/plain": "1.5"}
    assert cell["metadata"]["tags"] == ["remove-input", "other"]   # no toggles on paper
    # myst-nb reads it back as glue data under the same key
    from myst_nb.ext.glue import extract_glue_data_cell
    from nbformat import from_dict
    ((key, data),) = extract_glue_data_cell(from_dict(cell))
    assert key == "x" and data["data"] == {"text/plain": "1.5"}


def test_a_notebook_without_glue_is_copied(tmp_path):
    (tmp_path / "a.ipynb").write_text(json.dumps(_nb([])))
    build_pdf.restore_glue(tmp_path / "a.ipynb", tmp_path / "none.json", tmp_path / "b.ipynb")
    assert json.loads((tmp_path / "b.ipynb").read_text())["cells"] == []


def test_proof_labels_get_their_document(tmp_path):
    tex = (r"\label{None:thm-a}text\label{None:lem-b}\label{None:unknown}"
           "\n" r"\sphinxstyleindexpageref{book/04_x:\detokenize{thm-a}}"
           r"\sphinxstyleindexpageref{book/02_y:\detokenize{lem-b}}")
    (tmp_path / "book.tex").write_text(tex)
    assert build_pdf.fix_proof_labels(tmp_path / "book.tex") == 2
    out = (tmp_path / "book.tex").read_text()
    assert r"\label{None:thm-a}\label{\detokenize{book/04_x:thm-a}}" in out
    assert r"\label{None:lem-b}\label{\detokenize{book/02_y:lem-b}}" in out
    assert r"\label{None:unknown}" + "\n" in out          # no document known: left alone
