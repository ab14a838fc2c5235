"""The verdicts a reader sees, and the catalogue they typeset.

The plain line keeps the whole statement and three significant figures; in a Jupyter kernel the
verdict is a rich block (id linked to the registry, statement as math, numbers, pass colour,
an anchor, and the numbers as JSON for the book's build); every registered id has a TeX
statement and a readable source whose citation exists.
"""
import ast
import html
import json
import re
from pathlib import Path

import pytest

from companion import catalogue, registry, verify

ROOT = Path(__file__).resolve().parent.parent


def test_plain_line_keeps_the_whole_statement_and_three_figures(capsys):
    verify.close("ou.closed_form", 1.0, 1.0 + 2.6178200762672077e-06, atol=1e-4)
    line = capsys.readouterr().out.strip()
    statement = registry.get("ou.closed_form").statement
    assert statement in line and "..." not in line
    assert "2.62e-06" in line and "2.6178200762672077e-06" not in line
    r = verify.leq("ou.kl_decay", [0.123456, 0.3], [0.4, 0.9])
    assert "lhs 0.3 <= rhs 0.9" in r.line and "max lhs/rhs 0.333" in r.line


def test_numbers_to_three_significant_figures():
    assert verify._g(2.6178200762672077e-06) == "2.62e-06"
    assert verify._g(0.123456) == "0.123" and verify._g(1234567.0) == "1.23e+06"
    assert verify._g(float("nan")) == "nan" and verify._g(float("inf")) == "inf"


@pytest.fixture
def in_kernel(monkeypatch):
    shown = []
    monkeypatch.setattr(verify, "_in_kernel", lambda: True)
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setattr(verify, "_anchors", {})
    return shown


def _payload(block):
    m = re.search(r'data-verdict="([^"]*)"', block)
    return json.loads(html.unescape(m.group(1)))


def test_rich_verdict_in_a_kernel(in_kernel, capsys):
    verify.leq("ou.lemma33", [0.1, 0.2], [0.4, 0.5])
    assert capsys.readouterr().out == ""                     # no duplicate plain line
    bundle = in_kernel[-1]
    assert bundle["text/plain"].startswith("[ok] ou.lemma33  ")
    block = bundle["text/html"]
    assert 'id="check-ou.lemma33"' in block
    assert 'href="appendix_identities.html#reg-ou.lemma33"' in block
    assert "verdict-ok" in block and r"\(\mathrm{KL}" in block
    data = _payload(block)
    assert data["kind"] == "leq" and data["passed"] is True and data["n"] == 2
    assert data["ratio"] == pytest.approx(0.4) and data["lhs"] == 0.2 and data["rhs"] == 0.5
    # a second check of the same id gets its own anchor
    verify.close("ou.lemma33", 1.0, 1.0, atol=1e-9)
    assert 'id="check-ou.lemma33-2"' in in_kernel[-1]["text/html"]


def test_failed_verdict_is_red_and_still_raises(in_kernel):
    with pytest.raises(AssertionError, match=r"\[FAIL\] ou.kl_decay"):
        verify.leq("ou.kl_decay", 2.0, 1.0)
    block = in_kernel[-1]["text/html"]
    assert "verdict-FAIL" in block and _payload(block)["passed"] is False


def test_json_payload_has_no_nan():
    block = verify.verdict_html("ou.kl_decay", True, "x", {"ratio": float("nan"),
                                                          "rhs": float("inf")}, "check-x")
    data = _payload(block)
    assert data["ratio"] is None and data["rhs"] == "inf"


def test_the_catalogue_gives_tex_and_a_readable_source():
    # every id of the catalogue as it stood when the registry took it over (122) has its TeX;
    # an id a chapter adds later falls back to its plain statement until it gets one
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    assert len(catalogue.CATALOGUE) >= 122
    for i, (tex, words, _) in catalogue.CATALOGUE.items():
        assert i in registry.IDENTITIES, f"{i} is described but not registered"
        assert tex.count("$") % 2 == 0, f"{i}: unbalanced $ in {tex!r}"
        assert tex.count("{") == tex.count("}"), f"{i}: unbalanced braces"
        assert not re.match(r"^\s*00\d\b", words), f"{i}: source still a code: {words!r}"
        for k in catalogue.source_keys(i):
            assert k in keys, f"{i} cites {k}, which is not in references.bib"


def test_an_id_without_tex_falls_back_to_its_plain_statement(monkeypatch):
    monkeypatch.delitem(catalogue.CATALOGUE, "ou.kl_decay")
    assert catalogue.statement_tex("ou.kl_decay") == registry.get("ou.kl_decay").statement
    assert "\\(" not in catalogue.statement_html("ou.kl_decay")
    assert catalogue.source_keys("ou.kl_decay") == []


def test_pieces_split_prose_and_math():
    assert catalogue.pieces(r"costs \$5 and $x^2$") == [(False, "costs $5 and "), (True, "x^2")]
    rendered = catalogue.statement_html("conv.w2_vp")          # its TeX holds "0 < h <"
    assert "0 &lt; h &lt;" in rendered and "<span class=\"math\">\\(" in rendered


def test_a_precondition_is_not_a_check_of_an_identity(in_kernel, capsys):
    # it has no id, no JSON payload (the build's tables never see it), its own badge, and it
    # stays out of verify.history (which counts the checks of identities)
    n = len(verify.history)
    r = verify.precondition("the scheme's bias is below one standard error", [0.001, 0.002],
                            [0.004, 0.004])
    assert r.passed and r.id is None and len(verify.history) == n
    bundle = in_kernel[-1]
    assert bundle["text/plain"].startswith("[precondition ok] the scheme's bias")
    block = bundle["text/html"]
    assert "data-verdict" not in block and "verdict-pre" in block and "verdict-ok" not in block
    assert "precondition holds" in block and "appendix_identities" not in block
    with pytest.raises(AssertionError, match=r"\[precondition FAIL\]"):
        verify.precondition("a grid fine enough", 0.3, 0.2)
    assert "PRECONDITION FAILED" in in_kernel[-1]["text/html"]


def test_a_precondition_fails_on_nan_and_refuses_a_blank_reason():
    with pytest.raises(AssertionError):
        verify.precondition("bias below one standard error", float("nan"), 1.0)
    with pytest.raises(ValueError, match="what"):
        verify.precondition("  ", 0.1, 0.2)
    r = verify.precondition("within rounding", 1.0 + 1e-13, 1.0, atol=1e-12)
    assert r.passed and "lhs 1 <= rhs 1 + 1e-12" in r.line


def _chapter_calls(name):
    """(chapter, call) for every call verify.<name>(...) in the code cells of the book."""
    cells = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
    header = re.compile(r"\A(?:---\n.*?\n---\n|(?::[^\n]*\n)+)", re.S)
    for path in sorted((ROOT / "book").glob("*.md")):
        for src in cells.findall(path.read_text(encoding="utf-8")):
            src = header.sub("", src)        # the cell's options (:tags: or a YAML block)
            if src.lstrip().startswith("%"):
                continue                     # a cell magic, not Python
            tree = ast.parse(src)            # a chapter cell that is not Python fails here
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and ast.unparse(node.func) == f"verify.{name}":
                    yield path.name, node


def test_no_chapter_files_a_precondition_under_an_identity():
    # The fairness assertions (a discretisation bias below one standard error, a gap of five
    # standard errors to the wrong value) are preconditions of the experiment, not bounds of
    # the theory: no verify.leq compares with a standard error itself.
    calls = list(_chapter_calls("leq"))
    assert len(calls) > 50                                   # precondition: the reading works
    for chapter, call in calls:
        sides = [ast.unparse(a) for a in call.args[1:3]]
        names = {n for side in call.args[1:3] for n in re.findall(r"[A-Za-z_]\w*", ast.unparse(side))}
        assert not any(n == "se" or n.startswith("se_") or n.endswith("_se") for n in names), \
            f"{chapter}: verify.leq({', '.join(sides)}) compares with a standard error"
    assert len(list(_chapter_calls("precondition"))) >= 9
