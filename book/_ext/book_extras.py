"""Sphinx extension for the book: the execution status page.

(The notebook downloads are made by the ``notebook_downloads`` extension.)

* The ``execution-status`` directive becomes a table, built at write time from what myst-nb
  recorded while executing each chapter: whether it ran, how long it took, and how many
  checks (``companion.verify`` verdicts) its outputs contain.
* The ``identity-registry`` directive is the registry appendix: every id of
  ``companion.registry`` as a card (statement typeset from ``companion.catalogue``, the source
  in words with its citation, a link to the place where this build checked it, the status).
* The ``bound-tightness`` directive is the "How tight are the bounds" table, built from every
  ``verify.leq`` verdict of this build (the rich verdict blocks carry their numbers as JSON).
* The ``book-tour`` directive lists the parts and chapters of ``_toc.yml`` that exist, and the
  chapters the registry still expects.
"""
import html
import json
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
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
    # the status, registry, bounds and tour pages describe the other pages: rebuild them
    # whenever the book is built
    return sorted(getattr(env, "book_status_docs", set()) - set(removed))


def _note_generated(directive):
    env = directive.env
    env.note_dependency(__file__)
    env.book_status_docs = getattr(env, "book_status_docs", set()) | {env.docname}


def _merge_info(app, env, docnames, other):
    env.book_status_docs = (getattr(env, "book_status_docs", set())
                            | getattr(other, "book_status_docs", set()))


def _purge_info(app, env, docname):
    docs = getattr(env, "book_status_docs", set())
    docs.discard(docname)


def _count_checks(doctree):
    """Passed checks of a page: its rich verdict blocks, plus plain ``[ok]`` lines printed as
    text. myst-nb keeps every representation of an output (the verdict block's text/plain
    twin too) until it writes the page: those twins are not counted twice."""
    ok = sum(1 for v in _verdicts(doctree) if v["passed"])
    for node in doctree.findall(nodes.literal_block):
        if node.parent is not None and node.parent.get("mime_type") == "text/plain" and any(
                c.get("mime_type") == "text/html" for c in node.parent.parent.children):
            continue
        ok += sum(1 for line in node.astext().splitlines() if line.startswith("[ok] "))
    return ok


# ----------------------------------------------------------------- verdicts of the build
_VERDICT = re.compile(r'<div class="verdict verdict-(?:ok|FAIL)[^"]*"(?: id="([^"]*)")? '
                      r'data-verdict="([^"]*)"')


def _section_title(node):
    while node is not None:
        if isinstance(node, nodes.section) and node.children and isinstance(node[0], nodes.title):
            return node[0].astext()
        node = node.parent
    return ""


def _verdicts(doctree):
    """Every rich verdict block of an executed page, in order: the JSON payload written by
    ``companion.verify`` plus its anchor and the title of the section it sits in."""
    found = []
    for node in doctree.findall(nodes.raw):
        if node.get("format") != "html" or "data-verdict" not in node.astext():
            continue
        for anchor, payload in _VERDICT.findall(node.astext()):
            try:
                data = json.loads(html.unescape(payload))
            except ValueError:
                continue
            data["anchor"] = anchor
            data["section"] = _section_title(node)
            found.append(data)
    return found


def _all_verdicts(env):
    """docname -> verdicts, for every executed page of the build (in book order)."""
    meta = getattr(env, "nb_metadata", {})
    out = {}
    for docname in sorted(meta, key=_order):
        if meta[docname].get("exec_data"):
            out[docname] = _verdicts(env.get_doctree(docname))
    return out


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


# ----------------------------------------------------------------- the registry appendix
class book_generated(nodes.General, nodes.Element):
    """Placeholder filled once every page has executed (kind: check, bounds, tour)."""


def _registry():
    from companion import catalogue, registry

    return registry, catalogue


def _parse_myst(directive, text, node):
    directive.state.nested_parse(StringList(text.splitlines(), source=directive.env.docname),
                                 directive.content_offset, node)
    return node


def _cite(keys):
    return f" {{cite:p}}`{','.join(keys)}`" if keys else ""


def _toc_stems(app):
    """(part caption, [chapter stems]) of _toc.yml, in book order."""
    import yaml

    toc = yaml.safe_load((Path(app.srcdir) / "_toc.yml").read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", []):
        parts.append((part.get("caption", ""), [Path(c["file"]).name for c in part["chapters"]]))
    return toc, parts


class IdentityRegistry(SphinxDirective):
    """Every registered identity as a card, grouped by chapter in book order."""

    has_content = False

    def run(self):
        _note_generated(self)
        registry, catalogue = _registry()
        self.env.note_dependency(registry.__file__)
        self.env.note_dependency(catalogue.__file__)
        out = []
        summary = book_generated(kind="registry-summary")
        out.append(summary)
        for stem, title in registry.CHAPTERS.items():
            ids = registry.ids_for_chapter(stem)
            if not ids:
                continue
            out.append(nodes.rubric(text=title, classes=["identity-chapter"]))
            for i in ids:
                card = nodes.container(classes=["identity-card"], ids=[f"reg-{i}"])
                head = nodes.paragraph(classes=["identity-head"])
                head += nodes.literal(text=i)
                head += book_generated(kind="badge", identity=i)
                card += head
                stmt = nodes.container(classes=["identity-statement"])
                card += _parse_myst(self, catalogue.statement_tex(i), stmt)
                src = nodes.container(classes=["identity-source"])
                words = catalogue.source_words(i)
                if not words.endswith("et al."):
                    words = words.rstrip(".")
                card += _parse_myst(self, f"**Source:** {words}{_cite(catalogue.source_keys(i))}.",
                                    src)
                card += book_generated(kind="checked-in", identity=i)
                out.append(card)
        return out


class BoundTightness(SphinxDirective):
    """The table of every ``verify.leq`` verdict of the build, sorted by ratio."""

    has_content = False

    def run(self):
        _note_generated(self)
        registry, catalogue = _registry()
        # the statements are typeset at read time (math nodes); the rows are chosen later
        holder = nodes.container(classes=["bound-statements"])
        for i in registry.IDENTITIES:
            box = nodes.container(classes=["bound-statement"], identity=i)
            holder += _parse_myst(self, catalogue.statement_tex(i), box)
        node = book_generated(kind="bounds")
        node += holder
        return [node]


class BookTour(SphinxDirective):
    """The parts and chapters of the book as they stand, and what is still to come."""

    has_content = False

    def run(self):
        _note_generated(self)
        return [book_generated(kind="tour")]


def _link(app, fromdoc, todoc, text, anchor=""):
    uri = app.builder.get_relative_uri(fromdoc, todoc) + (f"#{anchor}" if anchor else "")
    return nodes.reference("", text, internal=True, refuri=uri)


def _title(env, docname):
    return env.titles[docname].astext() if docname in env.titles else docname


def _checked_index(app):
    """id -> list of (docname, verdict) over the whole build."""
    index = {}
    for docname, verdicts in _all_verdicts(app.builder.env).items():
        for v in verdicts:
            index.setdefault(v.get("id"), []).append((docname, v))
    return index


def _fill_generated(app, doctree, fromdocname):
    todo = list(doctree.findall(book_generated))
    if not todo:
        return
    registry, _ = _registry()
    env = app.builder.env
    index = _checked_index(app)
    for node in todo:
        kind = node["kind"]
        if kind == "badge":
            # a page that built has no failing check except one caught on purpose (the
            # introduction shows a false statement failing): verified = some check passed
            runs = index.get(node["identity"], [])
            ok = any(v.get("passed") for _, v in runs)
            text = "verified" if ok else ("FAILED" if runs else "not yet verified")
            cls = "ok" if ok else ("fail" if runs else "todo")
            node.replace_self(nodes.inline(text=text, classes=["identity-badge", f"badge-{cls}"]))
        elif kind == "checked-in":
            runs = index.get(node["identity"], [])
            para = nodes.paragraph(classes=["identity-where"])
            if not runs:
                chapter = registry.IDENTITIES[node["identity"]].chapter
                para += nodes.strong(text="Checked in: ")
                para += nodes.Text(f"not yet verified; planned for "
                                   f"\u201c{registry.CHAPTERS.get(chapter, chapter)}\u201d.")
            else:
                para += nodes.strong(text="Checked in: ")
                seen = []
                for docname, v in runs:
                    key = (docname, v.get("section"))
                    if key in seen:
                        continue
                    seen.append(key)
                    if len(seen) > 1:
                        para += nodes.Text("; ")
                    label = _title(env, docname)
                    if v.get("section") and v["section"] != label:
                        label += f", \u00a7 {v['section']}"
                    para += _link(app, fromdocname, docname, label, v.get("anchor", ""))
                n_ok = sum(1 for _, v in runs if v.get("passed"))
                n_bad = len(runs) - n_ok
                note = f" ({n_ok} check{'s' if n_ok != 1 else ''} passed in this build"
                if n_bad:
                    note += (f"; {n_bad} check{'s' if n_bad != 1 else ''} of a false statement "
                             f"shown failing on purpose")
                para += nodes.Text(note + ").")
            node.replace_self(para)
        elif kind == "registry-summary":
            done = sum(1 for i in registry.IDENTITIES if index.get(i))
            node.replace_self(nodes.paragraph(
                text=f"{done} of {len(registry.IDENTITIES)} identities were checked in this "
                     f"build; the others belong to chapters not written yet."))
        elif kind == "bounds":
            node.replace_self(_bounds_table(app, fromdocname, node, index))
        elif kind == "tour":
            node.replace_self(_tour(app, fromdocname, index))


def _fmt(x):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{x:.3g}"


def _bounds_table(app, fromdocname, node, index):
    """One row per ``verify.leq`` verdict of the build, tightest first: the ratio with a bar on
    a log scale, the id (linked to the registry) and statement, both sides, and a link to the
    check. Rows are blocks laid out by CSS, so nothing is lost on a narrow screen."""
    import math
    import statistics

    env = app.builder.env
    statements = {c["identity"]: c for c in node.children[0].children}
    rows = []
    for i, runs in index.items():
        for docname, v in runs:
            if v.get("kind") == "leq" and v.get("passed"):   # not a false bound shown failing
                rows.append((i, docname, v))

    def ratio_of(v):
        # "inf" (a positive left side over a zero right side) sorts first; a bound with no
        # defined ratio (its right side is 0 wherever its left side is not positive, None in
        # the JSON) sorts last
        r = v.get("ratio")
        if r == "inf":
            return float("inf")
        return r if isinstance(r, (int, float)) and not math.isnan(r) else float("-inf")

    rows.sort(key=lambda row: -ratio_of(row[2]))
    if not rows:
        return [nodes.paragraph(text="No bound was checked in this build.")]
    ratios = [ratio_of(v) for _, _, v in rows if math.isfinite(ratio_of(v))]
    n_none = sum(ratio_of(v) == float("-inf") for _, _, v in rows)
    out = [nodes.paragraph(text=(
        f"This build checked {len(rows)} bounds on {len({r[0] for r in rows})} identities. "
        f"Median ratio {statistics.median(ratios):.3g}; {sum(r >= 0.5 for r in ratios)} within "
        f"a factor 2 of equality, {sum(r < 0.01 for r in ratios)} looser than a factor 100"
        + (f"; {n_none} with no ratio (listed last)." if n_none else ".")))]
    registry_uri = app.builder.get_relative_uri(fromdocname, "book/appendix_identities")
    listing = nodes.container(classes=["bound-list"])
    for rank, (i, docname, v) in enumerate(rows, 1):
        ratio = ratio_of(v)
        row = nodes.container(classes=["bound-row"])
        left = nodes.container(classes=["bound-ratio"])
        para = nodes.paragraph()
        para += nodes.strong(text=_fmt(v.get("ratio")) if ratio != float("-inf") else "no ratio")
        left += para
        if math.isfinite(ratio) and ratio > 0:
            level = max(0, min(8, round(2 * (4 + math.log10(min(ratio, 1.0))))))
            left += nodes.inline(text="", classes=["ratio-bar", f"ratio-{level}"])
        row += left
        body = nodes.container(classes=["bound-body"])
        head = nodes.paragraph(classes=["bound-id"])
        head += nodes.reference("", "", nodes.literal(text=i), internal=True,
                                refuri=f"{registry_uri}#reg-{i}")
        body += head
        if i in statements:
            body += statements[i].deepcopy()
        nums = nodes.paragraph(classes=["bound-numbers"])
        nums += nodes.Text("left side ")
        nums += nodes.strong(text=_fmt(v.get("lhs")))
        nums += nodes.Text(" \u2264 right side ")
        nums += nodes.strong(text=_fmt(v.get("rhs")))
        if v.get("n", 1) > 1:
            nums += nodes.Text(f" (tightest of {v['n']} points)" if ratio != float("-inf")
                               else f" (one of {v['n']} points)")
        if ratio == float("-inf"):
            nums += nodes.Text("; the left side is never positive where the right side is, so "
                               "no point measures how tight the bound is")
        if v.get("stderr"):
            nums += nodes.Text(f"; Monte Carlo, standard error {_fmt(v['stderr'])}")
        nums += nodes.Text(". Checked in ")
        label = _title(env, docname)
        if v.get("section") and v["section"] != label:
            label += f", \u00a7 {v['section']}"
        nums += _link(app, fromdocname, docname, label, v.get("anchor", ""))
        nums += nodes.Text(".")
        body += nums
        row += body
        listing += row
    out.append(listing)
    return out


def _tour(app, fromdocname, index):
    registry, _ = _registry()
    env = app.builder.env
    _, parts = _toc_stems(app)
    existing = {Path(d).name: d for d in env.found_docs}
    out = []
    listed = set()
    verdicts = _all_verdicts(env)
    for caption, stems in parts:
        items = nodes.bullet_list()
        for stem in stems:
            listed.add(stem)
            docname = existing.get(stem)
            if docname is None:
                continue
            item = nodes.list_item()
            para = nodes.paragraph()
            para += _link(app, fromdocname, docname, _title(env, docname))
            n = len({v.get("id") for v in verdicts.get(docname, [])})
            if n:
                para += nodes.Text(f": {n} identities checked on the page.")
            item += para
            items += item
        if len(items):
            block = nodes.paragraph()
            block += nodes.strong(text=caption)
            out += [block, items]
    todo = [(stem, title) for stem, title in registry.CHAPTERS.items()
            if stem not in listed and stem != "intro" and registry.ids_for_chapter(stem)]
    if todo:
        block = nodes.paragraph()
        block += nodes.strong(text="Still to come")
        block += nodes.Text(" (the registry already lists what these chapters will check):")
        items = nodes.bullet_list()
        for stem, title in todo:
            items += nodes.list_item("", nodes.paragraph(
                text=f"{title}: {len(registry.ids_for_chapter(stem))} identities."))
        out += [block, items]
    return out


# ----------------------------------------------------------------- figures on a phone
def _white_runs(png):
    """Runs [start, end) of pixel columns that are blank (background) from top to bottom."""
    import numpy as np

    a = np.asarray(png.convert("RGB"), dtype=np.int16)
    blank = (a > 240).all(axis=2).all(axis=0)
    runs, start = [], None
    for x, b in enumerate(blank):
        if b and start is None:
            start = x
        elif not b and start is not None:
            runs.append((start, x))
            start = None
    return [r for r in runs if r[0] > 0 and r[1] - r[0] >= 6]     # inner gaps only


def _panel_cuts(png, max_parts=4):
    """Where to cut a figure into its columns of panels: blank gaps that split the width into
    k nearly equal pieces (each within 25% of width/k), for the largest k <= max_parts that
    allows it (None if none does). Among the candidate gaps the widest win: the gap between
    two panels is wider than the one between an axis and its tick labels."""
    import itertools

    width = png.size[0]
    runs = _white_runs(png)
    for k in range(max_parts, 1, -1):
        near = []
        for j in range(1, k):
            aim = j * width / k
            near.append([r for r in runs if abs((r[0] + r[1]) / 2 - aim) < 0.12 * width])
        if not all(near):
            continue
        best, score = None, None
        for gaps in itertools.product(*near):
            cuts = [(a + b) // 2 for a, b in gaps]
            if cuts != sorted(set(cuts)):
                continue
            edges = [0, *cuts, width]
            widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
            uneven = max(abs(w - width / k) for w in widths) / (width / k)
            if uneven > 0.25:
                continue
            # the widest gaps separate panels (a gap inside a panel, between an axis and its
            # tick labels, is narrow); then the most even split
            key = (-min(b - a for a, b in gaps), uneven)
            if score is None or key < score:
                best, score = cuts, key
        if best is not None:
            return best
    return None


def narrow_variant(src, dest, max_parts=4):
    """Write the panels of a multi-panel figure stacked in one column (for a phone); returns
    False when the figure has no clean gap between its panels."""
    from PIL import Image

    png = Image.open(src)
    cuts = _panel_cuts(png, max_parts)
    if not cuts:
        return False
    edges = [0] + cuts + [png.size[0]]
    parts = [png.crop((a, 0, b, png.size[1])) for a, b in zip(edges[:-1], edges[1:])]
    width = max(p.size[0] for p in parts)
    out = Image.new("RGBA" if png.mode == "RGBA" else "RGB",
                    (width, sum(p.size[1] for p in parts)), "white")
    y = 0
    for p in parts:
        out.paste(p, ((width - p.size[0]) // 2, y))
        y += p.size[1]
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    out.save(dest)
    return True


def _describe_animations(app, doctree, fromdocname):
    """A JavaScript animation (matplotlib's ``to_jshtml``) shows its frames in an ``<img>``
    without alt text: inside a figure, give it the figure's caption as its description."""
    for fig in doctree.findall(nodes.figure):
        captions = [c.astext() for c in fig.findall(nodes.caption)]
        if not captions:
            continue
        alt = html.escape(captions[0], quote=True)
        for raw in list(fig.findall(nodes.raw)):
            text = raw.astext()
            if '<img id="_anim_img' in text:
                new = text.replace('<img id="_anim_img', f'<img alt="{alt}" id="_anim_img')
                raw.replace_self(nodes.raw("", new, format="html"))


def _stack_panels(app, doctree, fromdocname):
    """A figure marked ``multi-panel`` gets a second picture for narrow screens, its panels
    stacked; CSS shows one or the other."""
    import posixpath

    if app.builder.format != "html":
        return
    for fig in doctree.findall(nodes.figure):
        if "multi-panel" not in fig["classes"]:
            continue
        for img in list(fig.findall(nodes.image)):
            rel = img.get("candidates", {}).get("*") or img["uri"]
            src = Path(rel) if Path(rel).is_absolute() else Path(app.srcdir) / rel
            if src.suffix.lower() != ".png" or not src.exists():
                continue
            name = f"narrow-{src.stem}.png"
            if not narrow_variant(src, Path(app.outdir) / "_images" / name):
                continue
            uri = posixpath.relpath(f"_images/{name}", posixpath.dirname(fromdocname) or ".")
            # written straight to _images: "?" tells the builder not to look the file up
            narrow = nodes.image(uri=uri, alt=img.get("alt", ""), classes=["narrow-variant"],
                                 candidates={"?": uri})
            img["classes"].append("wide-variant")
            img.parent.insert(img.parent.index(img) + 1, narrow)


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
    app.add_node(book_generated)
    app.add_directive(STATUS_DIRECTIVE, ExecutionStatus)
    app.add_directive("identity-registry", IdentityRegistry)
    app.add_directive("bound-tightness", BoundTightness)
    app.add_directive("book-tour", BookTour)
    app.connect("env-get-outdated", _always_reread_status)
    app.connect("env-merge-info", _merge_info)
    app.connect("env-purge-doc", _purge_info)
    app.connect("doctree-resolved", _fill_status)
    app.connect("doctree-resolved", _fill_generated)
    app.connect("doctree-resolved", _stack_panels)
    app.connect("doctree-resolved", _describe_animations)
    app.connect("html-page-context", _clean_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
