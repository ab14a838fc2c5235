"""Numerical verification of the book's identities.

Every check in a chapter is one call here. A call

* looks its id up in the registry (an unknown id is a ``ValueError``);
* decides with a stated tolerance: a multiple ``k`` of the Monte Carlo standard error, or
  an absolute/relative tolerance justified by the numerics;
* prints one line, ``[ok] id  statement  measured <= allowed``;
* raises ``AssertionError`` carrying the same line when the check fails, so a notebook cell,
  the book build and the nbval run of the test suite all fail with it.

Every call is also appended to :data:`history`, so a build can count the checks a chapter ran.
"""
from collections import namedtuple

import numpy as np

from . import registry
from ._validate import check_float

__all__ = ["close", "leq", "slope", "ks", "Result", "history"]

class Result(namedtuple("Result", "id passed line value")):
    """Outcome of one check. The verdict line is printed when the check runs, so in a
    notebook the returned object displays nothing (tests read its fields)."""

    __slots__ = ()

    def _ipython_display_(self):
        pass

#: every Result produced in this process, in order
history = []


def _short(identity_id, width=56):
    s = registry.get(identity_id).statement
    return s if len(s) <= width else s[: width - 3].rstrip() + "..."


def _finish(identity_id, passed, detail, value):
    line = f"[{'ok' if passed else 'FAIL'}] {identity_id}  {_short(identity_id)}  {detail}"
    result = Result(identity_id, bool(passed), line, value)
    history.append(result)
    print(line)
    if not passed:
        raise AssertionError(line)
    return result


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
    how = f" ({k:g} se)" if se is not None else ""
    detail = f"max err {err.flat[j]:.2e} {'<=' if ok else '>'} {tol.flat[j]:.2e}{how}"
    if se is not None:
        detail += f", se {se.flat[j]:.1e}"
    return _finish(identity_id, ok, detail, float(err.flat[j]))


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
        ratio = np.where(b != 0, a / b, np.inf)
    j = int(np.argmax(np.where(np.isfinite(excess), excess, np.inf)))
    how = f" + {k:g} se" if se is not None else ""
    detail = (f"lhs {a.flat[j]:.3e} {'<=' if ok else '>'} rhs {b.flat[j]:.3e}{how}; "
              f"max lhs/rhs {np.nanmax(ratio):.3g}")
    return _finish(identity_id, ok, detail, float(np.nanmax(ratio)))


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
        return _finish(identity_id, False, "y has non-positive or non-finite entries", np.nan)
    p = float(np.polyfit(np.log(x), np.log(y), 1)[0])
    ok = abs(p - expected) <= tol
    detail = f"slope {p:.3f}, expected {expected:g} +- {tol:g}"
    return _finish(identity_id, ok, detail, p)


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
    detail = f"KS D {D:.2e} {'<=' if ok else '>'} {crit:.2e} (level {alpha:g}, n={n})"
    return _finish(identity_id, ok, detail, D)
