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
    >>> bool(abs(hessian_energy_bound(1, 1.0, 0.0, 0.0) * (1 - np.exp(-2.0)) ** 2 - 1) < 1e-14)
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
