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


# ---- chapter 6: the BBDD23 proof ----
__all__ += ["bbdd23_terms", "bbdd23_tuning", "inv_sigma4_integral", "eq24_bound",
            "hessian_energy_bound", "step_counts"]


def bbdd23_terms(d, N, kappa, T, eps):
    """The four terms eps^2, kappa^2 d N, kappa d T, d e^{-2T} of BBDD23's Theorem 1.

    Examples
    --------
    >>> bbdd23_terms(2, 10, 0.1, 1.0, 0.5).round(4).tolist()
    [0.25, 0.2, 0.2, 0.2707]
    """
    d = check_int(d, "d", low=1)
    N = check_int(N, "N", low=1)
    kappa = check_float(kappa, "kappa", low=0.0, low_open=True)
    T = check_float(T, "T", low=0.0, low_open=True)
    eps = check_float(eps, "eps", low=0.0)
    return np.array([eps * eps, kappa * kappa * d * N, kappa * d * T, d * np.exp(-2.0 * T)])


def bbdd23_tuning(d, eps, delta):
    """The tuning of BBDD23 §3.2: T = (1/2) log(d/eps^2), N = ceil(d (T + L)^2 / eps^2) with
    L = log(1/delta), kappa = (T + L)/N. Needs d/eps^2 >= e^2 so that T >= 1.

    Returns
    -------
    T, N, kappa : float, int, float

    Examples
    --------
    >>> T, N, kappa = bbdd23_tuning(4, 0.5, 1e-2)
    >>> round(T, 4), N, round(kappa * N, 4)
    (1.3863, 575, 5.9915)
    """
    d = check_int(d, "d", low=1)
    eps = check_float(eps, "eps", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    T = 0.5 * np.log(d / eps**2)
    if T < 1.0:
        raise ValueError(f"eps must satisfy d/eps^2 >= e^2 (T >= 1), got T = {T:.3g}")
    L = np.log(1.0 / delta)
    N = int(np.ceil(d * (T + L) ** 2 / eps**2))
    return float(T), N, float((T + L) / N)


def inv_sigma4_integral(u0, u1):
    """int_{u0}^{u1} sigma_u^{-4} du = F(u1) - F(u0), F(u) = (1/2)[log(e^{2u} - 1) - 1/(e^{2u} - 1)].

    Examples
    --------
    >>> round(float(inv_sigma4_integral(1.0, 1.0)), 12)
    0.0
    """
    u0 = np.asarray(u0, dtype=float)
    u1 = np.asarray(u1, dtype=float)
    if np.any(~np.isfinite(u0)) or np.any(u0 <= 0):
        raise ValueError("u0 must be finite and > 0")
    if np.any(~np.isfinite(u1)) or np.any(u1 <= 0):
        raise ValueError("u1 must be finite and > 0")

    def F(u):
        e = np.expm1(2.0 * u)
        return 0.5 * (np.log(e) - 1.0 / e)

    return F(u1) - F(u0)


def eq24_bound(d, T, tk, t, tr_cov_tk, tr_cov_t):
    """Right side of BBDD23 eq. 24 for E_{t_k, t}, reverse times t_k <= t < T:
    d sigma_{T-t_k}^{-2} (t - t_k) + 2 d int_{t_k}^t sigma_{T-r}^{-4} dr - [phi(t) - phi(t_k)],
    phi(r) = sigma_{T-r}^{-4} E tr Sigma_{T-r}; ``tr_cov_*`` are E tr Sigma at forward times
    T - t_k and T - t.
    """
    d = check_int(d, "d", low=1)
    T = check_float(T, "T", low=0.0, low_open=True)
    tk = np.asarray(tk, dtype=float)
    t = np.asarray(t, dtype=float)
    if np.any(tk < 0) or np.any(t < tk) or np.any(t >= T):
        raise ValueError("need 0 <= tk <= t < T")
    s2k = -np.expm1(-2.0 * (T - tk))
    s2t = -np.expm1(-2.0 * (T - t))
    phi = np.asarray(tr_cov_t) / s2t**2 - np.asarray(tr_cov_tk) / s2k**2
    return d * (t - tk) / s2k + 2.0 * d * inv_sigma4_integral(T - t, T - tk) - phi


def hessian_energy_bound(d, t, tr_cov, d_tr_cov):
    """d sigma_t^{-4} + (1/2) d/dt(sigma_t^{-4} E tr Sigma_t), given E tr Sigma_t and its derivative.

    Examples
    --------
    >>> bool(hessian_energy_bound(1, 1.0, 0.0, 0.0) == (1 - np.exp(-2.0)) ** -2)
    True
    """
    d = check_int(d, "d", low=1)
    t = check_float(t, "t", low=0.0, low_open=True)
    tr_cov = check_float(tr_cov, "tr_cov", low=0.0)
    d_tr_cov = check_float(d_tr_cov, "d_tr_cov")
    s2 = -np.expm1(-2.0 * t)
    ds2 = 2.0 * np.exp(-2.0 * t)                       # d/dt sigma^2; d/dt sigma^{-4} = -2 s2^{-3} ds2
    return d / s2**2 + 0.5 * (-2.0 * ds2 / s2**3 * tr_cov + d_tr_cov / s2**2)


def step_counts(d, eps, delta, L=1.0, R=1.0):
    """Step counts (log factors dropped) of the three analyses compared in 000 §3.4.

    ``ccl23_lipschitz`` = d L^2/eps^2 (CCL+23, L-Lipschitz scores), ``ccl23_support`` =
    d R^4/(eps^2 delta^4) (CCL+23, support in a ball of radius R, early stopping),
    ``cll23`` = d^2 log^2(1/delta)/eps^2 and ``bbdd23`` = d log^2(1/delta)/eps^2.

    Examples
    --------
    >>> c = step_counts(np.array([1.0, 10.0]), 0.1, 1e-2)
    >>> bool(np.allclose(c["cll23"] / c["bbdd23"], [1.0, 10.0]))
    True
    """
    d = np.asarray(d, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d < 1):
        raise ValueError("d must be finite and >= 1")
    eps = check_float(eps, "eps", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    L = check_float(L, "L", low=0.0, low_open=True)
    R = check_float(R, "R", low=0.0, low_open=True)
    log2 = np.log(1.0 / delta) ** 2
    return {"ccl23_lipschitz": d * L**2 / eps**2,
            "ccl23_support": d * R**4 / (eps**2 * delta**4),
            "cll23": d**2 * log2 / eps**2,
            "bbdd23": d * log2 / eps**2}
