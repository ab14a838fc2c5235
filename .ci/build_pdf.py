"""Build the printable book (PDF) from the notebooks the HTML build already executed.

    python .ci/build_pdf.py [--build _build] [--only STEM ...]

A temporary copy of the book replaces every chapter by its executed notebook from
``<build>/jupyter_execute`` and turns execution off, so the LaTeX build does not run the book a
second time; Jupyter Book's ``pdflatex`` builder then writes ``<build>/html/book.pdf`` (linked from
the instructors' page). ``--only`` keeps a subset of the table of contents (for a quick try).
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


GLUE_PREFIX = "application/papermill.record/"


def restore_glue(nb_path, glue_path, out_path):
    """Copy the executed notebook for the PDF: glued values put back, folded code left out.

    myst-nb takes the outputs of ``glue(...)`` out of the notebook it writes to
    ``jupyter_execute`` and keeps them in ``<name>.glue.json`` beside it; a build from that
    notebook alone (execution off) would print every ``{glue:text}`` as a blank. They go back
    as hidden outputs of the last code cell, exactly as ``glue(name, value, display=False)``
    writes them.
    """
    nb = json.loads(Path(nb_path).read_text())
    for cell in nb["cells"]:
        # a printed page has no toggles: code the website folds away is left out of the PDF
        tags = cell.get("metadata", {}).get("tags", [])
        if "hide-input" in tags:
            cell["metadata"]["tags"] = ["remove-input" if t == "hide-input" else t for t in tags]
    if Path(glue_path).exists():
        glue = json.loads(Path(glue_path).read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        present = {o.get("metadata", {}).get("scrapbook", {}).get("name")
                   for c in code for o in c.get("outputs", [])}
        for key, out in glue.items():
            if key in present:
                continue
            code[-1].setdefault("outputs", []).append({
                "output_type": "display_data",
                "metadata": {"scrapbook": {"name": key, "mime_prefix": GLUE_PREFIX}},
                "data": {GLUE_PREFIX + mime: v for mime, v in out["data"].items()},
            })
    Path(out_path).write_text(json.dumps(nb, indent=1))


def fix_proof_labels(tex_path):
    """sphinx-proof writes the LaTeX label of a numbered theorem, lemma, ... as
    ``\\label{None:<name>}`` (no document name), while every reference to it, from the text
    or from the proof index, asks for ``<document>:<name>``: each would print as "??". The
    document of each name is read off the proof index, which lists every such directive with
    its document, and the label the references ask for is added beside the broken one. Returns
    how many."""
    tex = Path(tex_path).read_text()
    docs = {name: doc for doc, name in re.findall(
        r"\\sphinxstyleindexpageref\{([^:{}]+):\\detokenize\{([^{}]+)\}\}", tex)}
    count = 0

    def add(m):
        nonlocal count
        name = m.group(1)
        if name not in docs:
            return m.group(0)
        count += 1
        return m.group(0) + r"\label{\detokenize{" + docs[name] + ":" + name + "}}"

    tex = re.sub(r"\\label\{None:([^{}]+)\}", add, tex)
    Path(tex_path).write_text(tex)
    return count


def prepare(tmp, build, only=None):
    shutil.copytree(ROOT / "book", tmp / "book")
    executed = Path(build) / "jupyter_execute" / "book"
    for nb in executed.glob("*.ipynb"):
        md = tmp / "book" / f"{nb.stem}.md"
        if md.exists():
            md.unlink()
            restore_glue(nb, nb.with_suffix(".glue.json"), tmp / "book" / nb.name)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"] = {"execute_notebooks": "off"}
    config.setdefault("latex", {})["latex_documents"] = {"targetname": "book.tex"}
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["latex_elements"] = {
        "preamble": r"\usepackage{amsmath,amssymb}",
        "printindex": "",
    }
    (tmp / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    if only:
        for part in toc["parts"]:
            part["chapters"] = [c for c in part["chapters"] if Path(c["file"]).stem in only]
        toc["parts"] = [part for part in toc["parts"] if part["chapters"]]
    (tmp / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=str(ROOT / "_build"))
    p.add_argument("--only", nargs="*")
    p.add_argument("--keep", help="keep the temporary book in this folder")
    args = p.parse_args(argv)
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="pdfbook-"))
    if tmp.exists() and args.keep:
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    prepare(tmp, args.build, args.only)
    # strict, as the HTML build: a warning (a glued value not found, say) fails the PDF
    subprocess.run(["jupyter-book", "build", str(tmp), "--builder", "latex", "-W",
                    "--keep-going"], check=True)
    latex = tmp / "_build" / "latex"
    fixed = fix_proof_labels(latex / "book.tex")
    print(f"proof labels given their document: {fixed}")
    subprocess.run(["make", "all-pdf"], cwd=latex, check=True)   # what --builder pdflatex runs
    log = (latex / "book.log").read_text(errors="replace")
    if "There were undefined references" in log:
        sys.exit("the PDF has undefined references (printed as ??): see " + str(latex / "book.log"))
    pdf = latex / "book.pdf"
    out = Path(args.build) / "html" / "book.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, out)
    print(f"PDF: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
