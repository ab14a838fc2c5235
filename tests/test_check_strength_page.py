"""The page of check strength is what the recorded mutation runs say, and is in the book.

``python tests/mutation/run_mutations.py --chapters --page`` runs the mutations, records each
result in ``tests/mutation/results.json`` and writes ``book/check_strength.md`` from it. This test
keeps the three in step: the page is exactly what the recorded results give (so a hand edit or a
stale page fails), every recorded row names a mutation of the list whose snippet still matches the
package (so a result cannot outlive its mutation), and the page is in the table of contents.
"""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _runner():
    spec = importlib.util.spec_from_file_location("run_mutations", ROOT / "tests/mutation/run_mutations.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_page_is_generated_from_the_recorded_results(tmp_path, monkeypatch):
    runner = _runner()
    monkeypatch.setattr(runner, "PAGE", tmp_path / "check_strength.md")
    runner.write_page()
    assert (tmp_path / "check_strength.md").read_text(encoding="utf-8") == \
        (ROOT / "book/check_strength.md").read_text(encoding="utf-8")


def test_every_recorded_result_belongs_to_a_current_mutation():
    runner = _runner()
    rows = json.loads((ROOT / "tests/mutation/results.json").read_text(encoding="utf-8"))
    by_name = {m.name: m for m in runner.MUTATIONS}
    assert rows, "no mutation run recorded"
    for name, row in rows.items():
        m = by_name[name]
        assert (ROOT / m.file).read_text(encoding="utf-8").count(m.original) == 1, name
        assert row["tests"] in ("killed", "SURVIVED", "TIMEOUT")
        if row.get("chapter_file"):
            assert row["chapter_file"] == m.chapter and row["chapter"] in ("killed", "SURVIVED", "TIMEOUT")


def test_page_is_in_the_table_of_contents():
    assert "file: book/check_strength" in (ROOT / "_toc.yml").read_text(encoding="utf-8")
