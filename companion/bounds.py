"""Closed-form right-hand sides of the book's bounds."""
import numpy as np

from ._validate import check_float, check_int
from .targets import GaussianMixture

__all__ = ["kl_decay_bound", "convexity_bound", "lemma33_bound", "lemma33_simple_bound"]


def kl_decay_bound(kl0, T):
    """e^{-2T} KL(q || N(0, I)): the exponential contraction of the OU semigroup."""
    kl0 = check_float(kl0, "kl0", low=0.0)
    T = np.asarray(T, dtype=float)
    if np.any(~np.isfinite(T)) or np.any(T < 0):
        raise ValueError("T must be finite and >= 0")
    return np.exp(-2.0 * T) * kl0


def convexity_bound(mixture, T):
    """E_{x_0 ~ q} KL(N(e^{-T} x_0, sigma_T^2 I) || N(0, I)) for any data law q (exact).

    Equal to (1/2)(e^{-2T} E|X_0|^2 + d sigma_T^2 - d - d log sigma_T^2).
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    T = check_float(T, "T", low=0.0, low_open=True)
    d = mixture.dim
    m2 = float(np.trace(mixture.cov()) + mixture.mean() @ mixture.mean())
    s2 = -np.expm1(-2.0 * T)
    return 0.5 * (np.exp(-2.0 * T) * m2 + d * s2 - d - d * np.log(s2))


def lemma33_bound(d, T):
    """-(d/2) log(1 - e^{-2T}): the convexity bound when E X_0 = 0 and Cov X_0 = I."""
    d = check_int(d, "d", low=1)
    T = np.asarray(T, dtype=float)
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("T must be finite and > 0")
    return -0.5 * d * np.log(-np.expm1(-2.0 * T))


def lemma33_simple_bound(d, T):
    """d e^{-2T}, which dominates lemma33_bound once e^{-2T} <= 0.79 (T >= 0.12)."""
    d = check_int(d, "d", low=1)
    T = np.asarray(T, dtype=float)
    if np.any(~np.isfinite(T)) or np.any(T < 0):
        raise ValueError("T must be finite and >= 0")
    return d * np.exp(-2.0 * T)
