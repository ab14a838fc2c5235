"""No data race in a parallel kernel: a static reading of every ``parallel=True`` kernel.

A race in a ``prange`` loop shows up at random (a thread overwrites another's scratch between a
write and a read), so a run-time test sees it only with some probability. This reading sees it
every time. Inside a ``prange`` loop, an array that the loop did not allocate itself (a kernel
argument, or an array allocated before the loop) may be written only at an index that depends on
the loop variable, and may be passed to a function that writes into it only as such a slice. A
function "writes into" an argument when it stores into it, or passes it on to a function that
does: the package's own functions are read to find out, to a fixed point.

The run-time counterpart is ``tests/test_thread_invariance.py``: every kernel found here is run
there with one and with two threads, and must give the same bits.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "companion"
def _functions():
    """Every function of the package: name -> list of (module, FunctionDef)."""
    out = {}
    for f in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                out.setdefault(node.name, []).append((f.stem, node))
    return out


def _callee(call):
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id != "np":
        return f.attr                       # rng._fill_normals, samplers._LANES ...
    return None


def _base(expr):
    """The name an expression writes through: x, x[i], x[i][j], (a if c else b) -> names."""
    if isinstance(expr, ast.Name):
        return [expr.id]
    if isinstance(expr, ast.Subscript):
        return _base(expr.value)
    if isinstance(expr, ast.IfExp):
        return _base(expr.body) + _base(expr.orelse)
    return []


def _written_params(functions):
    """name -> set of positions of the arguments that the function (or any of its
    definitions) writes into, directly or through a callee."""
    written = {name: set() for name in functions}
    changed = True
    while changed:
        changed = False
        for name, defs in functions.items():
            for _, fn in defs:
                params = [a.arg for a in fn.args.args]
                hit = set()
                for node in ast.walk(fn):
                    targets = []
                    if isinstance(node, (ast.Assign, ast.AugAssign)):
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        targets = [t for t in targets if isinstance(t, ast.Subscript)]
                    for t in targets:
                        hit.update(n for n in _base(t) if n in params)
                    if isinstance(node, ast.Call) and _callee(node) in written:
                        for j in written[_callee(node)]:
                            if j < len(node.args):
                                hit.update(n for n in _base(node.args[j]) if n in params)
                pos = {params.index(n) for n in hit}
                if not pos <= written[name]:
                    written[name] |= pos
                    changed = True
    return written


def _names(expr):
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _first_index(sub):
    s = sub.slice
    return s.elts[0] if isinstance(s, ast.Tuple) else s


def _races(fn, written):
    """The writes inside each prange loop of ``fn`` that two threads can make to one place."""
    found = []
    for loop in ast.walk(fn):
        if not (isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call)
                and _callee(loop.iter) == "prange"):
            continue
        var = loop.target.id
        body = ast.Module(body=loop.body, type_ignores=[])
        # names bound inside the loop belong to one iteration (one thread): its own scratch
        private = {var}
        for node in ast.walk(body):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(t, ast.Name):
                        private.add(t.id)
                    elif isinstance(t, ast.Tuple):
                        private.update(e.id for e in t.elts if isinstance(e, ast.Name))
            elif isinstance(node, ast.For):
                private.update(_names(node.target))
        # names whose value depends on the loop variable (an index owned by this iteration)
        own = {var}
        changed = True
        while changed:
            changed = False
            for node in ast.walk(body):
                if isinstance(node, ast.Assign) and _names(node.value) & own:
                    for t in node.targets:
                        new = _names(t) - own if isinstance(t, (ast.Name, ast.Tuple)) else set()
                        if new:
                            own |= new
                            changed = True

        def shared_write(expr, line, how):
            if isinstance(expr, ast.IfExp):
                shared_write(expr.body, line, how)
                shared_write(expr.orelse, line, how)
                return
            base = _base(expr)
            if not base or base[0] in private:
                return
            if isinstance(expr, ast.Subscript) and _names(_first_index(expr)) & own:
                return
            found.append(f"{fn.name}, line {line}: '{base[0]}' {how} inside the prange loop "
                         f"over {var} at an index that does not depend on {var}")

        for node in ast.walk(body):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(t, ast.Subscript):
                        shared_write(t, node.lineno, "is written")
            if isinstance(node, ast.Call) and _callee(node) in written:
                for j in written[_callee(node)]:
                    if j < len(node.args):
                        shared_write(node.args[j], node.lineno,
                                     f"is written by {_callee(node)}")
    return found


def parallel_kernels():
    """(module, name, FunctionDef) of every kernel compiled with parallel=True."""
    out = []
    for name, defs in _functions().items():
        for module, fn in defs:
            if any("parallel=True" in ast.unparse(d) for d in fn.decorator_list):
                out.append((module, name, fn))
    return sorted(out, key=lambda m: (m[0], m[1]))


FUNCTIONS = _functions()
WRITTEN = _written_params(FUNCTIONS)
KERNELS = parallel_kernels()


def test_the_reading_finds_the_kernels():
    # precondition: the package has parallel kernels and the reading sees them
    assert len(KERNELS) >= 20
    assert 3 in WRITTEN["_fill_normals"]          # rng._fill_normals(seed, step, stream, out)
    assert WRITTEN["_log_resp"] == {5, 6}         # lk and pdiff, never the mixture's tables


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: f"{k[0]}.{k[1]}")
def test_no_shared_scratch_written_inside_prange(kernel):
    module, name, fn = kernel
    races = _races(fn, WRITTEN)
    assert not races, f"{module}.py: " + "; ".join(races)


RACY = '''
@njit(cache=True, parallel=True)
def _pg_kernel(c, n_steps, seed, est):
    n = est.shape[0]
    z = np.empty(2)
    for p in prange(n):
        acc = 0.0
        for k in range(n_steps):
            rng._fill_normals(seed, k + 1, p, z)
            acc += z[0] * z[1]
        est[p] = acc
'''


@pytest.mark.parametrize("snippet, expect", [
    (RACY, "'z' is written by _fill_normals"),                      # the old finetune kernel
    (RACY.replace("est[p] = acc", "est[0] += acc"), "'est' is written"),
    (RACY.replace("acc += z[0] * z[1]", "acc += z[0] * z[1]\n            z[0] = acc"),
     "'z' is written inside"),
])
def test_the_reading_sees_a_race(snippet, expect):
    fn = ast.parse(snippet).body[0]
    races = _races(fn, WRITTEN)
    assert any(expect in r for r in races), races


def test_the_reading_accepts_private_scratch_and_own_rows():
    fixed = RACY.replace("    z = np.empty(2)\n", "").replace(
        "        acc = 0.0\n", "        acc = 0.0\n        z = np.empty(2)\n")
    assert _races(ast.parse(fixed).body[0], WRITTEN) == []
    rows = RACY.replace("    z = np.empty(2)\n", "    z = np.empty((est.shape[0], 2))\n").replace(
        "z)\n", "z[p])\n")
    assert _races(ast.parse(rows).body[0], WRITTEN) == []
