"""The check helpers: they pass on true statements, fail on false ones, refuse bad calls."""
import numpy as np
import pytest

from companion import verify


def test_close_passes_and_fails():
    r = verify.close("ou.ito_isometry", 1.0, 1.0 + 1e-9, atol=1e-8)
    assert r.passed and r.line.startswith("[ok] ou.ito_isometry")
    with pytest.raises(AssertionError, match=r"\[FAIL\] ou.ito_isometry"):
        verify.close("ou.ito_isometry", 1.0, 1.1, atol=1e-3)


def test_close_with_stderr_uses_k_se():
    verify.close("ou.closed_form", 0.0, 0.049, stderr=0.01)          # 4.9 se < 5 se
    with pytest.raises(AssertionError):
        verify.close("ou.closed_form", 0.0, 0.051, stderr=0.01)
    with pytest.raises(AssertionError):
        verify.close("ou.closed_form", 0.0, 0.041, stderr=0.01, k=4)


def test_close_nan_fails():
    with pytest.raises(AssertionError):
        verify.close("ou.closed_form", np.nan, 0.0, atol=1.0)


def test_close_needs_a_tolerance():
    with pytest.raises(ValueError, match="tolerance"):
        verify.close("ou.closed_form", 1.0, 1.0)


def test_unknown_id_refused():
    with pytest.raises(ValueError, match="unknown identity"):
        verify.close("no.such_id", 1.0, 1.0, atol=1)
    with pytest.raises(ValueError, match="unknown identity"):
        verify.leq("no.such_id", 1.0, 2.0)


def test_leq():
    r = verify.leq("ou.kl_decay", [0.1, 0.2], [0.2, 0.4])
    assert r.passed and abs(r.value - 0.5) < 1e-12
    with pytest.raises(AssertionError):
        verify.leq("ou.kl_decay", [0.1, 0.5], [0.2, 0.4])
    verify.leq("ou.kl_decay", 0.41, 0.4, stderr=0.01)                # within 5 se
    with pytest.raises(AssertionError):
        verify.leq("ou.kl_decay", 0.46, 0.4, stderr=0.01)


def test_leq_ratio_at_a_zero_right_side():
    # a point with right side 0 has no ratio unless its left side is positive (then the bound
    # is broken and the ratio infinite); 0 <= 0 everywhere is equality
    r = verify.leq("ou.kl_decay", [0.0, 0.1], [0.0, 0.4])
    assert abs(r.value - 0.25) < 1e-15
    r = verify.leq("ou.kl_decay", [-0.2, 0.1], [0.0, 0.4])
    assert abs(r.value - 0.25) < 1e-15
    assert np.isnan(verify.leq("ou.kl_decay", -0.2, 0.0).value)
    assert np.isnan(verify.leq("ou.kl_decay", -0.2, 0.5).value)     # a negative left side
    assert verify.leq("ou.kl_decay", [-0.2, 0.0], [0.5, 0.5]).value == 0.0
    assert verify.leq("ou.kl_decay", [0.0, 0.0], [0.0, 0.0]).value == 1.0
    with pytest.raises(AssertionError, match="inf"):
        verify.leq("ou.kl_decay", [0.1, 0.1], [0.0, 0.4])


def test_slope():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    verify.slope("ou.fokker_planck", x, 3 * x**2, expected=2, tol=0.01)
    with pytest.raises(AssertionError):
        verify.slope("ou.fokker_planck", x, 3 * x, expected=2, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("ou.fokker_planck", x, np.array([1.0, 0.0, 1.0, 1.0]), expected=2, tol=0.1)
    with pytest.raises(ValueError, match="x"):
        verify.slope("ou.fokker_planck", [1.0, 2.0], [1.0, 2.0], expected=1, tol=0.1)


def test_ks():
    from scipy import stats
    x = stats.norm.ppf((np.arange(1000) + 0.5) / 1000)
    verify.ks("ou.closed_form", x, stats.norm.cdf)
    with pytest.raises(AssertionError):
        verify.ks("ou.closed_form", x + 0.3, stats.norm.cdf)
    with pytest.raises(ValueError, match="sample"):
        verify.ks("ou.closed_form", [1.0, 2.0], stats.norm.cdf)


def test_history_records_checks():
    n = len(verify.history)
    verify.close("ou.closed_form", 1.0, 1.0, atol=1e-9)
    assert len(verify.history) == n + 1 and verify.history[-1].id == "ou.closed_form"


def test_precondition_html_typesets_dollar_math():
    # the page's MathJax reads \( \) only: a precondition's $h$ must not reach the reader raw
    out = verify.precondition_html("the bias at $h = 0.01$ is below <one> se", True, "x")
    assert "$" not in out and r"\(h = 0.01\)" in out and "&lt;one&gt;" in out
