"""Sphinx extension for the book: the execution status page.

(The notebook downloads are made by the ``notebook_downloads`` extension.)

* The ``execution-status`` directive becomes a table, built at write time from what myst-nb
  recorded while executing each chapter: whether it ran, how long it took, and how many
  ``[ok]`` check lines (``companion.verify``) its outputs contain.
"""

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

STATUS_DIRECTIVE = "execution-status"


class execution_status(nodes.General, nodes.Element):
    """Placeholder replaced by the status table once every chapter has executed."""


class ExecutionStatus(SphinxDirective):
    has_content = False

    def run(self):
        self.env.note_dependency(__file__)
        self.env.book_status_docs = getattr(self.env, "book_status_docs", set()) | {self.env.docname}
        return [execution_status()]


def _always_reread_status(app, env, added, changed, removed):
    # the status page describes the other pages: rebuild it whenever the book is built
    return sorted(getattr(env, "book_status_docs", set()) - set(removed))


def _count_checks(doctree):
    ok = 0
    for node in doctree.findall(nodes.literal_block):
        ok += sum(1 for line in node.astext().splitlines() if line.startswith("[ok] "))
    return ok


def _order(docname):
    return (0 if docname.endswith("intro") else 1, docname)


def _fill_status(app, doctree, fromdocname):
    for placeholder in list(doctree.findall(execution_status)):
        env = app.builder.env
        meta = getattr(env, "nb_metadata", {})
        table = nodes.table(classes=["execution-status"])
        group = nodes.tgroup(cols=5)
        table += group
        for width in (40, 12, 16, 16, 16):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        row = nodes.row()
        for title in ("chapter", "status", "run time (s)", "checks passed", "executed (UTC)"):
            row += nodes.entry("", nodes.paragraph(text=title))
        head += row
        body = nodes.tbody()
        group += body
        total_checks, total_time = 0, 0.0
        for docname in sorted(meta, key=_order):
            data = meta[docname].get("exec_data")
            if not data:
                continue
            checks = _count_checks(env.get_doctree(docname))
            total_checks += checks
            total_time += data.get("runtime") or 0.0
            title = env.titles[docname].astext() if docname in env.titles else docname
            ref = nodes.reference("", title, internal=True,
                                  refuri=app.builder.get_relative_uri(fromdocname, docname))
            import datetime

            when = datetime.datetime.fromtimestamp(data["mtime"], datetime.timezone.utc)
            row = nodes.row()
            for cell in (nodes.paragraph("", "", ref),
                         nodes.paragraph(text="ran" if data.get("succeeded") else "FAILED"),
                         nodes.paragraph(text=f"{data.get('runtime') or 0.0:.1f}"),
                         nodes.paragraph(text=str(checks)),
                         nodes.paragraph(text=when.strftime("%Y-%m-%d %H:%M"))):
                row += nodes.entry("", cell)
            body += row
        summary = nodes.paragraph(text=f"In total {total_checks} checks passed in "
                                       f"{total_time:.1f} s of execution.")
        placeholder.replace_self([summary, table])


def _clean_scripts(app, pagename, templatename, context, doctree):
    """Drop Thebe (it would fetch its code from a CDN, and its setup is registered twice by
    the Jupyter Book stack, a console error) and any other script registered twice."""
    scripts, seen = [], set()
    for js in context.get("script_files", []):
        src = str(js)
        body = getattr(js, "attributes", {}).get("body", "")
        if "thebe" in src or "THEBE_JS_URL" in body:
            continue
        key = (src, body)
        if key in seen:
            continue
        seen.add(key)
        scripts.append(js)
    context["script_files"] = scripts


def setup(app):
    # sphinx-book-theme does not pass a default colour mode to the pydata theme, whose script
    # then logs a console error on a reader's first visit; give it one before it runs.
    app.add_js_file(None, body='document.documentElement.dataset.mode = '
                               'localStorage.getItem("mode") || "light";', priority=100)
    app.add_node(execution_status)
    app.add_directive(STATUS_DIRECTIVE, ExecutionStatus)
    app.connect("env-get-outdated", _always_reread_status)
    app.connect("doctree-resolved", _fill_status)
    app.connect("html-page-context", _clean_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
