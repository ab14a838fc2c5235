"""The registry against the catalogue, and every chapter against the registry."""
import re
from pathlib import Path

import pytest
import yaml

from companion import registry

ROOT = Path(__file__).resolve().parent.parent


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def test_registry_is_the_whole_catalogue():
    # The registry is the project's own catalogue (the source of truth): every id of every
    # section of the book, unique, each with a statement, a source and a known chapter.
    assert len(registry._ROWS) == len(registry.IDENTITIES) >= 121
    for stem in registry.CHAPTERS:
        if stem != "intro":
            assert registry.ids_for_chapter(stem), f"no identity is registered to {stem}"
    for r in registry.IDENTITIES.values():
        assert r.statement.strip() and r.source.strip(), r


def test_every_registered_chapter_stem_is_known():
    for r in registry.IDENTITIES.values():
        assert r.chapter in registry.CHAPTERS, r


def test_chapters_verify_exactly_their_ids():
    for f in toc_files():
        stem = Path(f).name
        path = ROOT / f"{f}.md"
        assert path.exists(), f"{f} is in _toc.yml but {path} does not exist"
        used = registry.ids_in_source(path.read_text(encoding="utf-8"))
        for i in used:
            assert i in registry.IDENTITIES, f"{stem} verifies unregistered id {i}"
            assert registry.IDENTITIES[i].chapter == stem, (
                f"{stem} verifies {i}, which is registered to {registry.IDENTITIES[i].chapter}")
        if stem in registry.CHAPTERS:
            missing = [i for i in registry.ids_for_chapter(stem) if i not in used]
            assert not missing, f"{stem} does not verify its registered ids {missing}"


def test_coverage_reports_unwritten_chapters():
    cov = registry.coverage()
    assert set(cov) == set(registry.IDENTITIES)
    written = {Path(f).name for f in toc_files()}
    for i, where in cov.items():
        if registry.IDENTITIES[i].chapter not in written:
            assert where is None


def test_ids_in_source_finds_calls():
    src = 'verify.close("a.b", x)\ncp.verify.leq(\n    "c.d", 1, 2)\nverify.slope(\'e.f\', 1)'
    assert registry.ids_in_source(src) == ["a.b", "c.d", "e.f"]
    # registered ids written as literals (a table looped over) count; other strings do not
    assert registry.ids_in_source('ids = {"sde.ve_marginal": 1, "np.float": 2}') == ["sde.ve_marginal"]


def test_get_refuses_unknown():
    with pytest.raises(ValueError, match="unknown"):
        registry.get("nope.nope")


def test_toc_chapters_match_the_toc():
    assert registry.toc_chapters() == [Path(f).name for f in toc_files()]
