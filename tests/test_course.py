"""The course kit: student notebooks without solutions, autograders that grade with otter.

Structural tests run on every chapter with exercises; the grading tests (``otter run``) use
chapter 4, whose exercise slice executes in seconds.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from companion import course, exercises

STEMS = course.chapters()
GRADED = "04_girsanov"


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    rows = course.build(out=out, points=4)
    return out, dict(rows)


def _text(nb):
    return "\n".join(c.source for c in nb.cells)


def test_every_chapter_has_its_kit(kit):
    out, rows = kit
    assert GRADED in STEMS and set(rows) == set(STEMS)
    for stem in STEMS:
        for sub, ext in (("student", "ipynb"), ("instructor", "ipynb"), ("autograder", "zip")):
            assert (out / sub / f"{stem}.{ext}").exists(), (sub, stem)
        n = len(re.findall(r"^[`:]{3,}\{exercise\}", (course.ROOT / "book" / f"{stem}.md")
                           .read_text(), re.M))
        assert len(rows[stem]) == n > 0
    index = (out / "index.md").read_text()
    for stem, summary in rows.items():
        assert f"student/{stem}.ipynb" in index
        for s in summary:
            assert f"`{s['label']}`" in index and s["minutes"] > 0


@pytest.mark.parametrize("stem", STEMS)
def test_student_notebook_has_no_solution(kit, stem):
    out, _ = kit
    student = _text(nbformat.read(out / "student" / f"{stem}.ipynb", as_version=4))
    instructor = _text(nbformat.read(out / "instructor" / f"{stem}.ipynb", as_version=4))
    assert "BEGIN SOLUTION" not in student and "verify." not in student.split("## Exercises")[1]
    _, _, _, exs = course.parse_chapter(stem)
    section = student.split("## Exercises", 1)[1]      # (the chapter text may share a line)
    for ex in exs.values():
        assert ex.statement.split("\n")[0] in student           # the statement is there
        for md in ex.solution_md:                               # no line of any solution text
            for line in md.split("\n"):
                if len(line.strip()) >= 25:
                    assert line.strip() not in section, (ex.label, line)
                    assert line.strip() in instructor, (ex.label, line)
        code = "\n".join(c.source for c in ex.solution_code).split("\n")
        kept = code[:ex.entry.setup] if ex.entry else []
        for line in code:
            if len(line.strip()) >= 25 and line not in kept and "import" not in line:
                assert line.strip() not in section, (ex.label, line)
        if ex.entry:
            for name in ex.entry.answers:
                assert f"{name} = ..." in student
            assert f'grader.check("{ex.label}")' in student


def test_registry_matches_the_chapters():
    kinds = {}
    for stem in STEMS:
        kinds.update({k: v.kind for k, v in course.parse_chapter(stem)[3].items()})
    for label, e in exercises.EXERCISES.items():
        assert label in kinds, f"{label} is registered but no chapter in _toc.yml defines it"
        if e.reference is not None:
            assert kinds[label] == "code" and e.answers, label


def test_check_messages_do_not_reveal_the_reference():
    env = {"h": 0.2, "n": 200_000}
    V, se = 1 / (1 - 0.1), np.sqrt(2 / 200_000) / (1 - 0.1)
    with pytest.raises(AssertionError, match="not answered"):
        exercises.check("ex-ou-em-bias", "v", env)
    exercises.check("ex-ou-em-bias", "v", {**env, "v": V + 3 * se})        # within 5 se
    with pytest.raises(AssertionError, match=r"off by 2 times the tolerance") as err:
        exercises.check("ex-ou-em-bias", "v", {**env, "v": V + 10 * se})
    assert f"{V:.3g}" not in str(err.value) and f"{V + 10 * se:.3g}" not in str(err.value)
    with pytest.raises(AssertionError, match="should hold 1 number"):
        exercises.check("ex-ou-em-bias", "v", {**env, "v": [1.0, 2.0]})
    with pytest.raises(ValueError, match="label"):
        exercises.check("ex-nonexistent", "v", env)
    with pytest.raises(ValueError, match="name"):
        exercises.check("ex-ou-em-bias", "w", env)


def _grade(kit, nb, tmp_path, name):
    """``otter run`` on the exercise slice of ``nb``; the scores and messages per question."""
    out, _ = kit
    sub = tmp_path / name
    sub.mkdir()
    nbformat.write(course.exercise_slice(nb), sub / f"{GRADED}.ipynb")
    proc = subprocess.Popen([sys.executable, "-m", "otter", "run", "--no-logo", "-a",
                             str(out / "autograder" / f"{GRADED}.zip"), "-o", str(sub),
                             str(sub / f"{GRADED}.ipynb")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    return proc, sub


def _results(proc, sub):
    log = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, log
    tests = json.loads((sub / "results.json").read_text())["tests"]
    return {t["name"]: t for t in tests if t.get("max_score")}


def test_otter_grades_solutions_blank_and_wrong_answers(kit, tmp_path):
    out, _ = kit
    student = nbformat.read(out / "student" / f"{GRADED}.ipynb", as_version=4)
    instructor = nbformat.read(out / "instructor" / f"{GRADED}.ipynb", as_version=4)
    wrong = nbformat.from_dict(json.loads(json.dumps(student)))
    for c in wrong.cells:     # Talagrand: W2^2 right, KL off by a factor 2 (the slides' error)
        if "w2 = ..." in c.source:
            c.source = c.source.replace("w2 = ...", "w2 = float(m_ex @ m_ex)").replace(
                "kl = ...", "kl = 2 * cp.divergences.gaussian_kl(m_ex, np.eye(2) / alpha_ex, "
                "np.zeros(2), np.eye(2) / alpha_ex)")
    runs = [_grade(kit, nb, tmp_path, name) for nb, name in
            ((instructor, "solution"), (student, "blank"), (wrong, "wrong"))]
    solution, blank, partial = (_results(*r) for r in runs)
    assert solution and all(t["score"] == t["max_score"] for t in solution.values()), solution
    assert all(t["score"] == 0 for t in blank.values())
    assert all("not answered" in t["output"] for t in blank.values())
    t = partial["ex-gir-talagrand"]
    assert 0 < t["score"] < t["max_score"]
    assert re.search(r"`kl` is off by [0-9.e+]+ times the tolerance", t["output"])
    assert partial["ex-gir-constant"]["score"] == 0


def test_student_notebooks_run_top_to_bottom(kit, tmp_path):
    """The exercise slice of every student notebook (setup cell, the cells the exercises use,
    the exercise section) runs in one kernel without error, each check saying "not answered".

    Executing every chapter in full would execute the book a second time; the slice runs what
    the answer cells can depend on.
    """
    from nbclient import NotebookClient
    out, _ = kit
    cells = []
    for stem in STEMS:
        shutil.copy(out / "student" / f"{stem}.ipynb", tmp_path / f"{stem}.ipynb")
        cells += course.exercise_slice(
            nbformat.read(out / "student" / f"{stem}.ipynb", as_version=4)).cells
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    checks = [c for c in nb.cells if c.cell_type == "code" and "grader.check(" in c.source]
    assert checks
    for c in checks:
        text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                       for o in c.outputs)
        assert "not answered" in text and "passed!" not in text, (c.source, text)
