"""Opening, running and saving a chapter in JupyterLab leaves its source byte-identical.

JupyterLab reads and writes a chapter (a MyST notebook, ``book/*.md``) through jupytext's
contents manager, with the repository's ``jupytext.toml``. Each notebook page of the book is
copied with that configuration into a temporary folder, read by the same contents manager
JupyterLab uses, changed as a JupyterLab session changes it (the running kernel's spec and
language info, outputs, execution counts, timing and view-state metadata), saved, and compared
byte for byte with the original. If this fails for a new chapter: its header must name the
kernel as ipykernel installs it (``display_name: Python 3 (ipykernel)``, what JupyterLab writes
back), and its body must be in jupytext's canonical form: normalise it once with
``jupytext --to myst book/<chapter>.md`` (which applies jupytext.toml) and check the diff.
"""
import asyncio
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"


def _is_notebook(path):
    head = path.read_text(encoding="utf-8")[:400]
    return head.startswith("---") and "jupytext:" in head and "kernelspec:" in head


NOTEBOOKS = sorted(p.name for p in BOOK.glob("*.md") if _is_notebook(p))


def _kernelspec():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    return {"display_name": spec.display_name, "language": spec.language, "name": "python3"}


def _as_jupyterlab_leaves_it(nb):
    """What a JupyterLab session writes into a notebook after 'Run All'."""
    import nbformat

    nb.metadata["kernelspec"] = _kernelspec()
    nb.metadata["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
        "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3", "version": "3.11.7"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for i, cell in enumerate(nb.cells):
        cell.metadata["jp-MarkdownHeadingCollapsed"] = True
        if cell.cell_type == "code":
            cell.execution_count = i + 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="[ok] x\n")]
            cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00.000Z",
                                          "shell.execute_reply": "2026-01-01T00:00:01.000Z"}
            cell.metadata["scrolled"] = True
            cell.metadata["trusted"] = True
    return nb


@pytest.fixture(scope="module")
def contents_manager(tmp_path_factory):
    pytest.importorskip("jupyter_server")
    from jupyter_server.services.contents.filemanager import AsyncFileContentsManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    root = tmp_path_factory.mktemp("repo")
    shutil.copy(ROOT / "jupytext.toml", root / "jupytext.toml")
    (root / "book").mkdir()
    for name in NOTEBOOKS:
        shutil.copy(BOOK / name, root / "book" / name)
    cm = build_async_jupytext_contents_manager_class(AsyncFileContentsManager)(root_dir=str(root))
    return root, cm


def test_every_notebook_page_is_checked():
    assert len(NOTEBOOKS) >= 3 and "01_forward_process.md" in NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_jupyterlab_save_is_the_identity(contents_manager, name):
    root, cm = contents_manager
    path = f"book/{name}"

    async def open_run_save():
        model = await cm.get(path)
        assert model["type"] == "notebook", f"{name} does not open as a notebook"
        nb = _as_jupyterlab_leaves_it(model["content"])
        await cm.save({"type": "notebook", "format": "json", "content": nb}, path)

    asyncio.run(open_run_save())
    before = (BOOK / name).read_bytes()
    after = (root / path).read_bytes()
    if before != after:
        import difflib

        diff = "\n".join(difflib.unified_diff(before.decode().splitlines(),
                                              after.decode().splitlines(), "source", "saved",
                                              lineterm="", n=1))
        pytest.fail(f"saving {name} from JupyterLab changes it (see this module's docstring "
                    f"for the fix):\n{diff[:3000]}")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_jupytext_read_write_is_the_identity(name):
    """The same with jupytext's Python API and the repository's configuration."""
    import jupytext
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(BOOK))
    assert config is not None, "jupytext.toml not found"
    text = (BOOK / name).read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="md:myst", config=config)
    assert jupytext.writes(nb, fmt="md:myst", config=config) == text


def test_the_check_catches_a_change(contents_manager):
    """Negative control: a source that is not in jupytext's canonical form is caught."""
    import jupytext
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(BOOK))
    text = (BOOK / "01_forward_process.md").read_text(encoding="utf-8")
    text = text.replace("display_name: Python 3 (ipykernel)", "display_name: Python 3", 1)
    text = text.replace(":tags: [remove-cell]\n\n", ":tags: [remove-cell]\n", 1)
    nb = jupytext.reads(text, fmt="md:myst", config=config)
    assert jupytext.writes(nb, fmt="md:myst", config=config) != text
