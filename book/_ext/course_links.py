"""Sphinx extension for the course kit: the kit on the website and a link from every chapter.

* At the end of an HTML build, ``companion.course`` writes the kit (student and instructor
  notebooks, otter autograders, index) into ``<html>/course/``.
* Every chapter that has an ``## Exercises`` section gets, right under that heading, a line
  linking its student notebook and the kit's index.
* ``book.pdf`` (the printable book, built by ``.ci/run`` after the HTML build) is linked from the
  instructors' page when it exists; see ``book/instructors.md``.
"""
import re
from pathlib import Path

_H2 = re.compile(r'(<section id="exercises">\s*<h2>.*?</h2>)', re.S)


def _stems(app):
    if not hasattr(app, "_course_stems"):
        from companion import course
        app._course_stems = set(course.chapters(Path(app.srcdir)))
    return app._course_stems


def _link(app, pagename, templatename, context, doctree):
    stem = pagename.rsplit("/", 1)[-1]
    if doctree is None or "body" not in context or stem not in _stems(app):
        return
    up = "../" * pagename.count("/")
    note = (f'<p class="course-links">For a class: <a href="{up}course/student/{stem}.ipynb" '
            f'download>student notebook of these exercises</a> (answers checked in the notebook, '
            f'no solutions) · <a href="{up}course/index.html">course kit</a> · '
            f'<a href="{up}book/instructors.html">for instructors</a></p>')
    body, n = _H2.subn(lambda m: m.group(1) + "\n" + note, context["body"], count=1)
    context["body"] = body if n else context["body"] + note


def _write_kit(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from companion import course
    course.build(out=Path(app.outdir) / "course", root=Path(app.srcdir))


def setup(app):
    app.connect("html-page-context", _link)
    app.connect("build-finished", _write_kit)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
