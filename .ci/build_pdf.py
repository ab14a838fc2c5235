"""Build the printable book (PDF) from the notebooks the HTML build already executed.

    python .ci/build_pdf.py [--build _build] [--only STEM ...]

A temporary copy of the book replaces every chapter by its executed notebook from
``<build>/jupyter_execute`` and turns execution off, so the LaTeX build does not run the book a
second time; Jupyter Book's ``pdflatex`` builder then writes ``<build>/html/book.pdf`` (linked from
the instructors' page). ``--only`` keeps a subset of the table of contents (for a quick try).
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def prepare(tmp, build, only=None):
    shutil.copytree(ROOT / "book", tmp / "book")
    executed = Path(build) / "jupyter_execute" / "book"
    for nb in executed.glob("*.ipynb"):
        md = tmp / "book" / f"{nb.stem}.md"
        if md.exists():
            md.unlink()
            shutil.copy(nb, tmp / "book" / nb.name)
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
    subprocess.run(["jupyter-book", "build", str(tmp), "--builder", "pdflatex"], check=True)
    pdf = tmp / "_build" / "latex" / "book.pdf"
    out = Path(args.build) / "html" / "book.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, out)
    print(f"PDF: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
