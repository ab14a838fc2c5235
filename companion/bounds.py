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


# ---- chapter 7: guarantees in total variation and Wasserstein distance ----

__all__ += ["tv_score_bound", "vp_init_kl", "tv_vp_bound", "w2_coupling_bound",
            "w2_vp_init_bound", "w2_vp_gronwall_bound", "w2_vp_bound"]


def _nonneg(x, name, positive=False):
    x = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(x)) or np.any(x < 0) or (positive and np.any(x == 0)):
        raise ValueError(f"{name} must be finite and {'> 0' if positive else '>= 0'}")
    return x


def tv_score_bound(tv_init, eps, int_g2):
    """Corrected Theorem 6.2: TV(p_noise-start sampler, p_data) <= tv_init + (eps/2) sqrt(int g^2).

    ``tv_init`` = TV(p(T), p_noise), ``eps`` the L2 score error along the true reverse process,
    ``int_g2`` = int_0^T g(t)^2 dt (2T for the OU process dX = -X dt + sqrt 2 dB).

    Examples
    --------
    >>> round(float(tv_score_bound(0.0, 0.1, 2.0)), 12)
    0.070710678119
    """
    tv_init = _nonneg(tv_init, "tv_init")
    eps = _nonneg(eps, "eps")
    int_g2 = _nonneg(int_g2, "int_g2")
    return tv_init + 0.5 * eps * np.sqrt(int_g2)


def vp_init_kl(B, second_moment, d):
    """E_x KL(N(e^{-B/2} x, (1 - e^{-B}) I_d) || N(0, I_d)) exactly (Corollary 6.3, with its 1/2):

    (1/2) [e^{-B} E|x|^2 - d (e^{-B} + log(1 - e^{-B}))].

    Examples
    --------
    >>> bool(abs(vp_init_kl(np.log(2.0), 0.0, 1) - 0.5 * (np.log(2.0) - 0.5)) < 1e-15)
    True
    """
    B = _nonneg(B, "B", positive=True)
    second_moment = check_float(second_moment, "second_moment", low=0.0)
    d = check_int(d, "d", low=1)
    u = np.exp(-B)
    return 0.5 * (u * second_moment - d * (u + np.log1p(-u)))


def tv_vp_bound(B, second_moment, d, eps):
    """Corrected Corollary 6.3, valid for every B = int_0^T beta > 0:

    TV <= (1/2) e^{-B/2} (E|x|^2 + d e^{-B} / (2 (1 - e^{-B})))^{1/2} + (eps/2) sqrt(B).

    Examples
    --------
    >>> round(float(tv_vp_bound(1.0, 1.0, 1, 0.0)), 6)
    0.344575
    """
    B = _nonneg(B, "B", positive=True)
    second_moment = check_float(second_moment, "second_moment", low=0.0)
    d = check_int(d, "d", low=1)
    eps = _nonneg(eps, "eps")
    u = np.exp(-B)
    return 0.5 * np.sqrt(u * (second_moment + d * u / (2.0 * -np.expm1(-B)))) + 0.5 * eps * np.sqrt(B)


def w2_coupling_bound(B, rate, eps, h, w2_init_sq):
    """Theorem 6.5 (constant eps^2/(2h)) when the Gronwall rate is proportional to beta.

    For -2 r_f + (2L + 2h) g^2 = rate * beta(t) (VP: rate = 1 + 2L + 2h; CVP: -1 + 2L + 2h),
    u(T) - u(T - t) = rate B(t) and the bound
    e^{u(T)} W_2^2(p(T), p_noise) + (eps^2/(2h)) int_0^T g^2 e^{u(T) - u(T-t)} dt is
    e^{rate B} w2_init_sq + (eps^2/(2h)) (e^{rate B} - 1)/rate  (B at rate = 0).

    Examples
    --------
    >>> round(float(w2_coupling_bound(2.0, 0.0, 1.0, 0.5, 0.0)), 12)
    2.0
    """
    B = _nonneg(B, "B")
    rate = check_float(rate, "rate")
    eps = _nonneg(eps, "eps")
    h = check_float(h, "h", low=0.0, low_open=True)
    w2_init_sq = _nonneg(w2_init_sq, "w2_init_sq")
    growth = np.expm1(rate * B) / rate if rate != 0.0 else B
    return np.exp(rate * B) * w2_init_sq + eps ** 2 / (2.0 * h) * growth


def w2_vp_init_bound(B, second_moment, d):
    """W_2^2(p(T), N(0, I_d)) <= e^{-B} E|x|^2 + d (1 - sqrt(1 - e^{-B}))^2 (synchronous coupling).

    Examples
    --------
    >>> bool(abs(w2_vp_init_bound(np.log(2.0), 0.0, 4) - 4 * (1 - np.sqrt(0.5)) ** 2) < 1e-15)
    True
    """
    B = _nonneg(B, "B")
    second_moment = check_float(second_moment, "second_moment", low=0.0)
    d = check_int(d, "d", low=1)
    return np.exp(-B) * second_moment + d * (1.0 - np.sqrt(-np.expm1(-B))) ** 2


def _c_prime(kappa, h):
    kappa = check_float(kappa, "kappa", low=0.5, low_open=True)
    h = check_float(h, "h", low=0.0, low_open=True)
    c = 2.0 * min(kappa, 1.0) - 1.0 - 2.0 * h
    if c <= 0:
        raise ValueError(f"h must be < min(kappa, 1) - 1/2 = {min(kappa, 1.0) - 0.5:g}, got {h:g}")
    return kappa, h, c


def w2_vp_gronwall_bound(B, kappa, eps, h, w2_init_sq):
    """The Gronwall bound of Theorem 6.6 with the exact kappa_t of the VP marginals.

    With Phi(b) = (1 + 2h) b - 2 log(1 + kappa (e^b - 1)) (= int_0^b (1 + 2h - 2 kappa_s) dB_s):
    e^{Phi(B)} w2_init_sq + (eps^2/(2h)) int_0^B e^{Phi(b)} db, the integral by adaptive
    quadrature (relative tolerance 1e-12).

    Examples
    --------
    >>> b = w2_vp_gronwall_bound(10.0, 1.0, 1.0, 0.25, 0.0)     # kappa = 1: 4 (1 - e^{-B/2})
    >>> bool(abs(b - 4 * (1 - np.exp(-5.0))) < 1e-10)
    True
    """
    from scipy.integrate import quad

    B = check_float(B, "B", low=0.0)
    kappa, h, _ = _c_prime(kappa, h)
    eps = check_float(eps, "eps", low=0.0)
    w2_init_sq = check_float(w2_init_sq, "w2_init_sq", low=0.0)
    phi = lambda b: (1.0 + 2.0 * h) * b - 2.0 * np.log1p(kappa * np.expm1(b))
    integral = quad(lambda b: np.exp(phi(b)), 0.0, B, epsabs=0.0, epsrel=1e-12, limit=200)[0]
    return float(np.exp(phi(B)) * w2_init_sq + eps ** 2 / (2.0 * h) * integral)


def w2_vp_bound(B, kappa, eps, h, w2_init_sq, sharp=True):
    """Corrected Theorem 6.6: kappa > 1/2, 0 < h < min(kappa, 1) - 1/2, c' = 2 min(kappa,1) - 1 - 2h,

    W_2^2(p_data, Law Y_T) <= e^{-c' B} w2_init_sq + eps^2 (1 - e^{-c' B}) / (2 h c')
    (``sharp=False`` drops the factor 1 - e^{-c' B}). ``w2_init_sq`` is W_2^2(p(T), N(0, I)) or
    an upper bound of it (:func:`w2_vp_init_bound`).

    Examples
    --------
    >>> round(float(w2_vp_bound(10.0, 1.0, 1.0, 0.25, 0.0, sharp=False)), 12)
    4.0
    """
    B = _nonneg(B, "B")
    kappa, h, c = _c_prime(kappa, h)
    eps = _nonneg(eps, "eps")
    w2_init_sq = _nonneg(w2_init_sq, "w2_init_sq")
    factor = -np.expm1(-c * B) if sharp else 1.0
    return np.exp(-c * B) * w2_init_sq + eps ** 2 * factor / (2.0 * h * c)
