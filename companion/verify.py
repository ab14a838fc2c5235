"""Numerical verification of the book's identities.

Every check in a chapter is one call here. A call

* looks its id up in the registry (an unknown id is a ``ValueError``);
* decides with a stated tolerance: a multiple ``k`` of the Monte Carlo standard error, or
  an absolute/relative tolerance justified by the numerics;
* shows its verdict: outside a notebook it prints one line,
  ``[ok] id  statement  measured <= allowed`` (numbers to three significant figures, the whole
  statement); in a Jupyter kernel it displays a rich block (the id linked to the registry, the
  statement typeset as math, the numbers, the pass colour) whose plain-text form is that line;
* raises ``AssertionError`` carrying the same line when the check fails, so a notebook cell,
  the book build and the nbval run of the test suite all fail with it.

Every call is also appended to :data:`history`, so a build can count the checks a chapter ran.

:func:`precondition` is the odd one out: it asserts something about the experiment (a
discretisation bias below the Monte Carlo standard error, a test that can tell the right value
from the wrong one), not a statement of the theory. It fails like a check but has no identity
id, shows a verdict of its own kind, is not in :data:`history`, and never reaches the registry or
the bounds page.
"""
from collections import namedtuple

import numpy as np

from . import registry
from ._validate import check_float

__all__ = ["close", "leq", "slope", "ks", "precondition", "Result", "history", "verdict_html",
           "precondition_html"]

class Result(namedtuple("Result", "id passed line value")):
    """Outcome of one check. The verdict is shown when the check runs (the one-line text
    printed, or in a notebook a rich block), so the returned object displays nothing (tests
    read its fields)."""

    __slots__ = ()

    def _ipython_display_(self):
        pass

#: every Result produced in this process, in order
history = []

# how many verdicts each id has shown in this process: the n-th gets the anchor check-<id>-<n>
_anchors = {}


def _g(x):
    """A number to three significant figures (integers stay integers)."""
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3g}"


def _in_kernel():
    try:
        from IPython import get_ipython
    except ImportError:                       # pragma: no cover - IPython ships with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def verdict_html(identity_id, passed, detail, data, anchor=None):
    """The rich verdict block: the id linked to its registry entry, the statement typeset as
    math, what was measured against what was allowed, and the pass colour. ``data`` (the
    numbers of the check) is also stored as JSON in ``data-verdict``, for the book's build."""
    import html
    import json

    from . import catalogue

    status = "ok" if passed else "FAIL"
    clean = {k: _json_value(v) for k, v in dict(data or {}, id=identity_id,
                                                 passed=bool(passed)).items()}
    payload = html.escape(json.dumps(clean, allow_nan=False), quote=True)
    anchor = f' id="{html.escape(anchor)}"' if anchor else ""
    badge = "verified" if passed else "FAILED"
    return (f'<div class="verdict verdict-{status} mathjax_process"{anchor} '
            f'data-verdict="{payload}">'
            f'<div class="verdict-head"><span class="verdict-badge">{badge}</span> '
            f'<a class="verdict-id" href="appendix_identities.html#reg-{html.escape(identity_id)}" '
            f'title="this identity in the registry"><code>{html.escape(identity_id)}</code></a>'
            f'</div><div class="verdict-statement">{catalogue.statement_html(identity_id)}</div>'
            f'<div class="verdict-numbers">{detail}</div></div>')


def _json_value(v):
    """JSON has no NaN or infinity: NaN becomes null, an infinity the string "inf"/"-inf"."""
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    v = float(v)
    if v != v:
        return None
    if abs(v) == float("inf"):
        return "inf" if v > 0 else "-inf"
    return v


def _finish(identity_id, passed, detail, value, data=None, detail_html=None):
    statement = registry.get(identity_id).statement
    line = f"[{'ok' if passed else 'FAIL'}] {identity_id}  {statement}  {detail}"
    result = Result(identity_id, bool(passed), line, value)
    history.append(result)
    if _in_kernel():
        from IPython.display import display

        n = _anchors[identity_id] = _anchors.get(identity_id, 0) + 1
        anchor = f"check-{identity_id}" + (f"-{n}" if n > 1 else "")
        display({"text/plain": line,
                 "text/html": verdict_html(identity_id, passed, detail_html or _esc(detail),
                                           data, anchor)}, raw=True)
    else:
        print(line)
    if not passed:
        raise AssertionError(line)
    return result


def _esc(text):
    import html

    return html.escape(text)


def _arrays(lhs, rhs, stderr=None):
    try:
        a = np.asarray(lhs, dtype=float)
        b = np.asarray(rhs, dtype=float)
        a, b = np.broadcast_arrays(a, b)
    except (TypeError, ValueError):
        raise ValueError("lhs and rhs must be real arrays of broadcastable shapes") from None
    if a.size == 0:
        raise ValueError("lhs and rhs must not be empty")
    se = None
    if stderr is not None:
        se = np.broadcast_to(np.asarray(stderr, dtype=float), a.shape)
        if not np.all(np.isfinite(se)) or np.any(se < 0):
            raise ValueError("stderr must be finite and non-negative")
    return a, b, se


def close(identity_id, lhs, rhs, *, atol=0.0, rtol=0.0, stderr=None, k=5.0):
    """Check ``lhs == rhs`` elementwise.

    Allowed error per entry: ``k * stderr`` (Monte Carlo) plus ``atol + rtol * |rhs|``
    (numerics). At least one of them must be positive: a check without a tolerance is refused.
    A NaN anywhere fails the check.

    Examples
    --------
    >>> r = close("ou.ito_isometry", 0.8646, 1 - 2.718281828**-2, atol=1e-4)
    [ok] ou.ito_isometry  ...
    """
    registry.get(identity_id)
    a, b, se = _arrays(lhs, rhs, stderr)
    atol = check_float(atol, "atol", low=0.0)
    rtol = check_float(rtol, "rtol", low=0.0)
    k = check_float(k, "k", low=0.0, low_open=True)
    tol = atol + rtol * np.abs(b)
    if se is not None:
        tol = tol + k * se
    if not np.all(tol > 0):
        raise ValueError("close needs a positive tolerance: give stderr, atol or rtol")
    err = np.abs(a - b)
    ok = bool(np.all(err <= tol)) and bool(np.all(np.isfinite(err)))
    ratio = np.where(np.isfinite(err), err / tol, np.inf)
    j = int(np.argmax(ratio))
    rel = '<=' if ok else '>'
    detail = f"max error {_g(err.flat[j])} {rel} allowed {_g(tol.flat[j])}"
    html_detail = (f"measured error <b>{_g(err.flat[j])}</b> {'&le;' if ok else '&gt;'} "
                   f"allowed <b>{_g(tol.flat[j])}</b>")
    if se is not None:
        detail += f" ({k:g} se, se {_g(se.flat[j])})"
        html_detail += f" ({k:g} standard errors; standard error {_g(se.flat[j])})"
    if a.size > 1:
        html_detail += f", worst of {a.size} entries"
    data = {"kind": "close", "error": float(err.flat[j]), "allowed": float(tol.flat[j]),
            "stderr": None if se is None else float(se.flat[j]), "n": int(a.size)}
    return _finish(identity_id, ok, detail, float(err.flat[j]), data, html_detail)


def leq(identity_id, lhs, rhs, *, stderr=None, k=5.0, atol=0.0):
    """Check the bound ``lhs <= rhs`` elementwise and report how tight it is.

    With a Monte Carlo ``lhs``, the bound is refuted only when ``lhs`` exceeds ``rhs`` by
    more than ``k * stderr``; ``atol`` covers a stated deterministic error of ``lhs``.
    The printed ratio ``max lhs / rhs`` says how loose the bound is.
    """
    registry.get(identity_id)
    a, b, se = _arrays(lhs, rhs, stderr)
    atol = check_float(atol, "atol", low=0.0)
    k = check_float(k, "k", low=0.0, low_open=True)
    slack = atol + (k * se if se is not None else 0.0)
    excess = a - b - slack
    ok = bool(np.all(excess <= 0)) and bool(np.all(np.isfinite(a)) and np.all(np.isfinite(b)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # the ratio a/b measures tightness where 0 <= a and 0 < b. A positive left side over a
        # right side <= 0 is infinitely far off (a broken bound); a negative left side, or
        # 0 <= 0, says nothing about how tight the bound is, so such a point is left out
        # (NaN). If every point is 0 <= 0 the bound holds with equality (ratio 1); if no point
        # has a ratio, the ratio is NaN, which the bounds page lists last as "no ratio".
        ratio = np.where((a >= 0) & (b > 0), a / np.where(b > 0, b, 1.0),
                         np.where(a > 0, np.inf, np.nan))
        if np.all(np.isnan(ratio)) and np.all((a == 0) & (b == 0)):
            ratio = np.ones_like(ratio)
    if ok:       # report the tightest entry: the one whose ratio is largest
        j = int(np.nanargmax(ratio)) if np.any(~np.isnan(ratio)) else 0
    else:        # report the entry that breaks the bound most
        j = int(np.argmax(np.where(np.isfinite(excess), excess, np.inf)))
    top = float(np.nanmax(ratio)) if np.any(~np.isnan(ratio)) else float("nan")
    how = f" + {k:g} se" if se is not None else ""
    if atol:
        how += f" + {_g(atol)}"
    detail = (f"lhs {_g(a.flat[j])} {'<=' if ok else '>'} rhs {_g(b.flat[j])}{how}; "
              f"max lhs/rhs {_g(top)}")
    html_detail = (f"left side <b>{_g(a.flat[j])}</b> {'&le;' if ok else '&gt;'} "
                   f"right side <b>{_g(b.flat[j])}</b>")
    if se is not None:
        html_detail += f" (+ {k:g} standard errors, standard error {_g(se.flat[j])})"
    if atol:
        html_detail += f" (+ numerical error {_g(atol)})"
    html_detail += f"; ratio left/right <b>{_g(top)}</b>"
    if a.size > 1:
        html_detail += f" (largest of {a.size})"
    data = {"kind": "leq", "lhs": float(a.flat[j]), "rhs": float(b.flat[j]), "ratio": top,
            "n": int(a.size), "stderr": None if se is None else float(se.flat[j])}
    return _finish(identity_id, ok, detail, top, data, html_detail)


def slope(identity_id, x, y, expected, tol):
    """Fit ``log y = c + p log x`` by least squares and check ``|p - expected| <= tol``."""
    registry.get(identity_id)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ValueError("x and y must be 1-D arrays of the same length (at least 3 points)")
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("x must be finite and positive")
    expected = check_float(expected, "expected")
    tol = check_float(tol, "tol", low=0.0, low_open=True)
    if np.any(~np.isfinite(y)) or np.any(y <= 0):
        return _finish(identity_id, False, "y has non-positive or non-finite entries", np.nan,
                       {"kind": "slope"})
    p = float(np.polyfit(np.log(x), np.log(y), 1)[0])
    ok = abs(p - expected) <= tol
    detail = f"slope {_g(p)}, expected {expected:g} +- {tol:g}"
    html_detail = (f"fitted log-log slope <b>{_g(p)}</b>, expected <b>{expected:g}</b> "
                   f"&plusmn; {tol:g}, over x from {_g(x.min())} to {_g(x.max())} "
                   f"({x.size} points)")
    data = {"kind": "slope", "slope": p, "expected": expected, "tol": tol,
            "xmin": float(x.min()), "xmax": float(x.max()), "n": int(x.size)}
    return _finish(identity_id, ok, detail, p, data, html_detail)


def ks(identity_id, sample, cdf, *, alpha=1e-4):
    """Kolmogorov-Smirnov test of a 1-D sample against the exact ``cdf``.

    Passes when the statistic D is below the critical value of level ``alpha``: with a
    fixed seed the check is deterministic, and ``alpha`` is the chance it would fail on a
    fresh seed if the law were right.
    """
    from scipy import stats

    registry.get(identity_id)
    x = np.asarray(sample, dtype=float)
    if x.ndim != 1 or x.size < 10 or not np.all(np.isfinite(x)):
        raise ValueError("sample must be a finite 1-D array with at least 10 entries")
    alpha = check_float(alpha, "alpha", low=0.0, high=0.5, low_open=True)
    n = x.size
    D = float(stats.kstest(x, cdf).statistic)
    crit = float(stats.kstwo.isf(alpha, n))
    ok = D <= crit
    detail = f"KS D {_g(D)} {'<=' if ok else '>'} {_g(crit)} (level {alpha:g}, n={n})"
    html_detail = (f"Kolmogorov-Smirnov distance <b>{_g(D)}</b> {'&le;' if ok else '&gt;'} "
                   f"critical value <b>{_g(crit)}</b> (level {alpha:g}, {n} points)")
    data = {"kind": "ks", "D": D, "critical": crit, "alpha": alpha, "n": int(n)}
    return _finish(identity_id, ok, detail, D, data, html_detail)


def precondition_html(what, passed, detail):
    """The verdict block of a precondition: no identity id, no ``data-verdict`` payload (the
    build's tables of identities and bounds never see it), its own badge."""
    import html

    from . import catalogue

    status = "ok" if passed else "FAIL"
    badge = "precondition holds" if passed else "PRECONDITION FAILED"
    # $...$ typeset the way the statements are (MathJax here reads \( \), not dollars)
    words = "".join(f'<span class="math">\\({html.escape(t)}\\)</span>' if is_math
                    else html.escape(t, quote=False) for is_math, t in catalogue.pieces(what))
    return (f'<div class="verdict verdict-pre verdict-pre-{status} mathjax_process">'
            f'<div class="verdict-head"><span class="verdict-badge">{badge}</span> '
            f'<span class="verdict-what">{words}</span></div>'
            f'<div class="verdict-numbers">{detail}</div></div>')


def precondition(what, lhs, rhs, *, atol=0.0):
    """Assert a condition of the experiment, ``lhs <= rhs + atol`` elementwise.

    For what makes a check that follows fair, not for the theory: "the Euler-Maruyama bias of
    the mean is below one standard error" (so that the Monte Carlo check is not decided by the
    scheme's bias), "the gap to the wrong value is over five standard errors" (so that the check
    can tell the right statement from the wrong one). ``what`` says it in words (``$...$`` is
    typeset). A failed precondition raises ``AssertionError`` like a failed check: the
    experiment, not the theory, needs changing (more samples, a finer grid).

    Examples
    --------
    >>> r = precondition("the scheme's bias is below one standard error", 0.001, 0.004)
    [precondition ok] the scheme's bias is below one standard error  lhs 0.001 <= rhs 0.004
    """
    if not isinstance(what, str) or not what.strip():
        raise ValueError("what must be a sentence saying what the experiment needs")
    a, b, _ = _arrays(lhs, rhs)
    atol = check_float(atol, "atol", low=0.0)
    excess = a - b - atol
    ok = bool(np.all(excess <= 0)) and bool(np.all(np.isfinite(a)) and np.all(np.isfinite(b)))
    j = int(np.argmax(np.where(np.isfinite(excess), excess, np.inf)))
    rel = "<=" if ok else ">"
    how = f" + {_g(atol)}" if atol else ""
    detail = f"lhs {_g(a.flat[j])} {rel} rhs {_g(b.flat[j])}{how}"
    html_detail = (f"left side <b>{_g(a.flat[j])}</b> {'&le;' if ok else '&gt;'} right side "
                   f"<b>{_g(b.flat[j])}</b>{how}" + (f" (closest of {a.size})" if a.size > 1 else ""))
    line = f"[precondition {'ok' if ok else 'FAIL'}] {what}  {detail}"
    if _in_kernel():
        from IPython.display import display

        display({"text/plain": line, "text/html": precondition_html(what, ok, html_detail)},
                raw=True)
    else:
        print(line)
    if not ok:
        raise AssertionError(line)
    return Result(None, ok, line, float(excess.flat[j]))
