"""Clocks: OU time t, signal-to-noise time s, and the coefficients alpha_t, sigma_t.

The OU marginal is X_t = alpha_t X_0 + sigma_t G with alpha_t = e^{-t} and
sigma_t^2 = 1 - e^{-2t}. Dividing by alpha_t gives X_0 + N / sqrt(s) with
s = alpha_t^2 / sigma_t^2 = 1 / (e^{2t} - 1): the same information about X_0 at
signal-to-noise ratio s, and t = (1/2) log(1 + 1/s).
"""
import numpy as np

from ._validate import check_array

__all__ = ["alpha", "sigma", "sigma2", "snr", "ou_time", "dsigma_dt"]


def _times(t, name="t", positive=False):
    a = check_array(t, name)
    if np.any(a < 0) or (positive and np.any(a == 0)):
        raise ValueError(f"{name} must be {'>' if positive else '>='} 0")
    return a


def _ret(a):
    return float(a) if a.ndim == 0 else a


def alpha(t):
    """alpha_t = e^{-t}.

    Examples
    --------
    >>> alpha(0.0)
    1.0
    """
    return _ret(np.exp(-_times(t)))


def sigma2(t):
    """sigma_t^2 = 1 - e^{-2t}, computed with expm1 so that small t keeps its digits."""
    return _ret(-np.expm1(-2.0 * _times(t)))


def sigma(t):
    """sigma_t = sqrt(1 - e^{-2t}).

    Examples
    --------
    >>> round(sigma(1e-8) ** 2 / 2e-8, 6)
    1.0
    """
    return _ret(np.sqrt(-np.expm1(-2.0 * _times(t))))


def dsigma_dt(t):
    """Time derivative of sigma_t: e^{-2t} / sigma_t (t > 0)."""
    a = _times(t, positive=True)
    return _ret(np.exp(-2.0 * a) / np.sqrt(-np.expm1(-2.0 * a)))


def snr(t):
    """Signal-to-noise time s = alpha_t^2 / sigma_t^2 = 1 / (e^{2t} - 1), for t > 0.

    Examples
    --------
    >>> round(snr(ou_time(3.0)), 12)
    3.0
    """
    return _ret(1.0 / np.expm1(2.0 * _times(t, positive=True)))


def ou_time(s):
    """OU time t = (1/2) log(1 + 1/s) of signal-to-noise time s > 0."""
    return _ret(0.5 * np.log1p(1.0 / _times(s, "s", positive=True)))
