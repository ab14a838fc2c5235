"""The package on another processor: values meant to be exact are constructed exactly.

NumPy's vectorised ``exp`` and ``log`` (AVX-512 on some processors, AVX2 or plain libm on
others), Numba's loops and the C library may differ in the last bit. A value that the book
needs exactly (a grid that starts at 0 and ends at T) must therefore not come out of such
arithmetic: chapter 8 once failed on a processor with AVX-512 because
``geometric_grid(T, n, alpha)`` started at ``exp(-n la) - exp(-n la) = -4.15e-17``, the two
exponentials coming from NumPy and from ``math``.

This machine may not have the other processor, so the fixture below plays it: NumPy's
transcendental functions return a neighbour of the correctly rounded value (one unit in the
last place up or down), as a different SIMD implementation may; the special cases that every
implementation gets exactly (exp(0) = 1, log(1) = 0, ...) stay exact. Every grid constructor of
the package must still give exact ends, strictly increasing times, and a grid that the
package's own validators accept.
"""
import math

import numpy as np
import pytest

from companion import bbdd, girsanov, info, samplers, schedules

EXACT_AT = {"exp": 0.0, "expm1": 0.0, "log": 1.0, "log1p": 0.0, "power": None, "sin": 0.0,
            "cos": 0.0, "tanh": 0.0}


@pytest.fixture(params=["up", "down"])
def other_processor(request, monkeypatch):
    """NumPy's transcendental functions one unit in the last place off (direction: param)."""
    towards = np.inf if request.param == "up" else -np.inf
    for name, exact_at in EXACT_AT.items():
        real = getattr(np, name)

        def off(*args, _real=real, _exact_at=exact_at, **kwargs):
            out = _real(*args, **kwargs)
            moved = np.nextafter(out, towards)
            if _exact_at is None:     # power: x^0 = 1 and 0^y = 0 stay exact
                keep = (np.asarray(args[1]) == 0) | (np.asarray(args[0]) == 0)
            else:
                keep = np.asarray(args[0]) == _exact_at
            keep = keep | ~np.isfinite(out) | (out == 0)
            res = np.where(keep, out, moved)
            return res if np.ndim(res) else res.dtype.type(res)

        monkeypatch.setattr(np, name, off)
    return request.param


def test_the_fixture_moves_the_last_bit(other_processor):
    # precondition: the emulation does change values, and leaves the exact cases alone
    assert np.exp(0.3) != math.exp(0.3) and abs(np.exp(0.3) / math.exp(0.3) - 1) < 3e-16
    assert np.exp(0.0) == 1.0 and np.expm1(0.0) == 0.0 and np.log(1.0) == 0.0


GEOMETRIC = [(T, n, alpha) for T in (0.7, 4.0, 10.0, 37.0) for n in (1, 2, 3, 8, 25, 200)
             for alpha in (0.5, 0.9, 0.999999, 1.0, 1.000001, 1.2, 1.5, 2.0, 3.7)
             if n * abs(math.log(alpha)) < 20]     # the smallest step resolved in floating point


@pytest.mark.parametrize("T, n, alpha", GEOMETRIC)
def test_geometric_grid_has_exact_ends(T, n, alpha, other_processor):
    g = info.geometric_grid(T, n, alpha)
    assert g[0] == 0.0 and g[-1] == T and g.size == n + 1
    assert np.all(np.diff(g) > 0)
    info.check_grid(g)                                   # accepted by the package itself
    # and it is the grid of eq. 8: t_k = T (alpha^k - 1)/(alpha^n - 1), to rounding
    k = np.arange(n + 1)
    ref = T * k / n if alpha == 1.0 else \
        np.array([T * math.expm1(j * math.log(alpha)) / math.expm1(n * math.log(alpha)) for j in k])
    np.testing.assert_allclose(g, ref, rtol=1e-9, atol=1e-12 * T)


@pytest.mark.parametrize("T, delta, kappa", [(T, delta, kappa) for T in (1.0, 2.0, 3.0, 10.0)
                                             for delta in (1e-3, 1e-2, 0.05, 0.5)
                                             for kappa in (0.05, 0.1, 0.2, 0.5, 1.0)])
def test_bbdd23_schedule_has_exact_ends(T, delta, kappa, other_processor):
    g = schedules.bbdd23(T, delta, kappa)
    assert g[0] == 0.0 and g[-1] == T - delta and np.all(np.diff(g) > 0)
    samplers._check_grid(g, T)
    bbdd._check_grid(g, T)
    girsanov._check_reverse_grid(g, T, need_density=False)


@pytest.mark.parametrize("T, n, delta", [(2.0, 1, 0.0), (2.0, 12, 0.05), (7.3, 333, 1e-3)])
def test_uniform_schedule_has_exact_ends(T, n, delta, other_processor):
    g = schedules.uniform(T, n, delta=delta)
    assert g[0] == 0.0 and g[-1] == T - delta and np.all(np.diff(g) > 0)
    if delta > 0:
        samplers._check_grid(g, T)
