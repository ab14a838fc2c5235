"""Exact computations behind the convergence guarantees of chapter 7, for Gaussian data.

For data N(m, c) (per coordinate) and a forward process dX = -f(t) X dt + g(t) dB, the
marginal at time tau is N(a(tau) m, v(tau)) with v(tau) = a(tau)^2 c + marginal_var(tau), and
its score -(y - a m)/v is affine. The reverse process run with that score plus a constant
bias eps,

    dY_t = (f(T-t) Y_t + g(T-t)^2 (s(T-t, Y_t) + eps)) dt + g(T-t) dB_t,

therefore stays Gaussian, and its mean and variance solve two linear ODEs
(:func:`reverse_moments`). Two copies driven by the same Brownian motion (the synchronous
coupling of the Wasserstein proofs) form a Gaussian pair whose 2x2 covariance also solves a
linear ODE (:func:`coupling_moments`). Both are integrated by SciPy's DOP853 at relative
tolerance 1e-12. :class:`CVP` is the contractive variance-preserving design, and
:func:`vp_kappa` the strong log-concavity constant of a VP marginal.
"""
import numpy as np
from scipy.integrate import solve_ivp

from ._validate import check_float
from .sde import CVP as _sde_CVP
from .sde import LinearSDE

__all__ = ["CVP", "reverse_moments", "coupling_moments", "vp_kappa"]

_RTOL, _ATOL = 1e-12, 1e-14


# The contractive VP process is defined with the other forward SDEs; chapter 7 uses it here.
CVP = _sde_CVP


def _check_process(process):
    if not isinstance(process, LinearSDE):
        raise ValueError("process must be a companion.sde.LinearSDE (OU, VP, ...) or CVP")
    return process


def _generic_scalars(process):
    """(f, g^2, mean_coeff, marginal_var) at a forward time, through the public methods."""

    def at(tau):
        return (float(process.f(tau)), float(process.g(tau)) ** 2,
                float(process.mean_coeff(tau)), float(process.marginal_var(tau)))

    return at


def _fast_scalars(process):
    """The same four numbers in plain float arithmetic for the processes used in the book
    (the ODE right-hand side is called hundreds of times; the public methods validate arrays
    on every call). Falls back to :func:`_generic_scalars` for any other process."""
    from .sde import VP, ConstantLinear

    if type(process) in (VP, CVP):
        b0, b1, T0 = process.beta_min, process.beta_max, process.T
        sign = 1.0 if type(process) is VP else -1.0

        def at(tau):
            beta = b0 + tau / T0 * (b1 - b0)
            B = b0 * tau + 0.5 * tau * tau / T0 * (b1 - b0)
            var = -np.expm1(-B) if sign > 0 else np.expm1(B)
            return 0.5 * sign * beta, beta, np.exp(-0.5 * sign * B), var

        return at
    if isinstance(process, ConstantLinear):          # OU is dX = -X dt + sqrt(2) dB
        f, g2 = process.f_value, process.g_value ** 2

        def at(tau):
            var = g2 * tau if f == 0.0 else g2 * -np.expm1(-2.0 * f * tau) / (2.0 * f)
            return f, g2, np.exp(-f * tau), var

        return at
    return _generic_scalars(process)


def _coefficients(process, data_mean, data_var, T):
    """Reverse-time coefficients: lambda(t) (slope of the drift), the score's offset and g^2."""
    scalars = _fast_scalars(process)

    def coeffs(t):
        f, g2, a, mv = scalars(T - t)
        v = a * a * data_var + mv
        return f - g2 / v, g2 * a * data_mean / v, g2

    return coeffs


def _check_common(process, data_mean, data_var, T, eps):
    _check_process(process)
    data_mean = check_float(data_mean, "data_mean")
    data_var = check_float(data_var, "data_var", low=0.0, low_open=True)
    T = check_float(T, "T", low=0.0, low_open=True)
    eps = check_float(eps, "eps")
    return data_mean, data_var, T, eps


def _times(t_eval, T):
    if t_eval is None:
        return np.array([T]), True
    t = np.atleast_1d(np.asarray(t_eval, dtype=float))
    if t.ndim != 1 or np.any(~np.isfinite(t)) or np.any(t < 0) or np.any(t > T) \
            or np.any(np.diff(t) < 0):
        raise ValueError(f"t_eval must be a non-decreasing array of times in [0, T={T}]")
    return t, False


def reverse_moments(process, data_mean, data_var, T, eps=0.0, start=(0.0, 1.0), t_eval=None):
    """Mean and variance of the reverse process for Gaussian data, with a biased score.

    Parameters
    ----------
    process : LinearSDE
        The forward process (``sde.OU()``, ``sde.VP(...)``, :class:`CVP`, ...).
    data_mean, data_var : float
        The data law N(data_mean, data_var) of one coordinate.
    T : float
        Horizon: the reverse process runs over reverse times [0, T].
    eps : float
        Constant added to the exact score (an error of size |eps| under every law).
    start : (float, float)
        Mean and variance of Y_0 (default N(0, 1), the usual p_noise).
    t_eval : array_like, optional
        Reverse times at which to return the moments (default: only T).

    Returns
    -------
    mean, var : float, float (or arrays over ``t_eval``)
        With lambda(t) = f(T-t) - g(T-t)^2 / v(T-t), they solve
        mean' = lambda mean + g^2 (a m / v + eps) and var' = 2 lambda var + g^2.

    Examples
    --------
    >>> import companion as cp
    >>> m, v = reverse_moments(cp.sde.OU(), 0.0, 1.0, 1.0, eps=0.1)
    >>> bool(abs(m - 0.2 * (1 - np.exp(-1.0))) < 1e-10 and abs(v - 1.0) < 1e-10)
    True
    """
    data_mean, data_var, T, eps = _check_common(process, data_mean, data_var, T, eps)
    m0 = check_float(start[0], "start[0]")
    v0 = check_float(start[1], "start[1]", low=0.0)
    t, single = _times(t_eval, T)
    coeffs = _coefficients(process, data_mean, data_var, T)

    def rhs(s, y):
        lam, off, g2 = coeffs(s)
        return [lam * y[0] + off + g2 * eps, 2.0 * lam * y[1] + g2]

    sol = solve_ivp(rhs, (0.0, T), [m0, v0], method="DOP853", t_eval=t, rtol=_RTOL, atol=_ATOL)
    if not sol.success:     # pragma: no cover - the system is linear with smooth coefficients
        raise RuntimeError(sol.message)
    if single:
        return float(sol.y[0, -1]), float(sol.y[1, -1])
    return sol.y[0], sol.y[1]


def coupling_moments(process, data_mean, data_var, T, eps, start_u=None, start_v=(0.0, 1.0),
                     t_eval=None):
    """The synchronous coupling of the exact and the biased reverse processes, exactly.

    U runs the reverse SDE with the exact score, V with the score plus ``eps``; both use the
    same Brownian motion, and (U_0, V_0) is the comonotone (W_2-optimal) coupling of
    N(start_u) and N(start_v). The pair is Gaussian; its means solve the ODEs of
    :func:`reverse_moments` and its covariance C the 2x2 Lyapunov ODE
    C' = Lambda C + C Lambda^T + g^2 1 1^T with Lambda = diag(lambda, lambda).

    Parameters
    ----------
    start_u : (float, float), optional
        Mean and variance of U_0; default the exact p(T), so that U_t ~ p(T - t).
    start_v : (float, float)
        Mean and variance of V_0 (default N(0, 1)).

    Returns
    -------
    dict with ``msd`` (E|U - V|^2 per coordinate), ``mean_u``, ``var_u``, ``mean_v``,
    ``var_v``, ``cov_uv`` (floats, or arrays over ``t_eval``).

    Examples
    --------
    >>> import companion as cp
    >>> r = coupling_moments(cp.sde.OU(), 0.0, 1.0, 2.0, eps=0.1, start_v=(0.0, 1.0))
    >>> bool(abs(r["msd"] - (0.2 * (1 - np.exp(-2.0))) ** 2) < 1e-10)
    True
    """
    data_mean, data_var, T, eps = _check_common(process, data_mean, data_var, T, eps)
    if start_u is None:
        a = float(process.mean_coeff(T))
        start_u = (a * data_mean, a * a * data_var + float(process.marginal_var(T)))
    mu0 = check_float(start_u[0], "start_u[0]")
    vu0 = check_float(start_u[1], "start_u[1]", low=0.0)
    mv0 = check_float(start_v[0], "start_v[0]")
    vv0 = check_float(start_v[1], "start_v[1]", low=0.0)
    t, single = _times(t_eval, T)
    coeffs = _coefficients(process, data_mean, data_var, T)

    def rhs(s, y):
        lam, off, g2 = coeffs(s)
        mu, mv, cuu, cuv, cvv = y
        return [lam * mu + off, lam * mv + off + g2 * eps,
                2.0 * lam * cuu + g2, 2.0 * lam * cuv + g2, 2.0 * lam * cvv + g2]

    y0 = [mu0, mv0, vu0, np.sqrt(vu0 * vv0), vv0]
    sol = solve_ivp(rhs, (0.0, T), y0, method="DOP853", t_eval=t, rtol=_RTOL, atol=_ATOL)
    if not sol.success:     # pragma: no cover
        raise RuntimeError(sol.message)
    mu, mv, cuu, cuv, cvv = sol.y
    out = {"msd": (mu - mv) ** 2 + cuu + cvv - 2.0 * cuv, "mean_u": mu, "var_u": cuu,
           "mean_v": mv, "var_v": cvv, "cov_uv": cuv}
    if single:
        return {k: float(v[-1]) for k, v in out.items()}
    return out


def vp_kappa(kappa, B):
    """Strong log-concavity of the VP marginal p(t) when p_data is kappa-strongly log-concave.

    kappa_t = kappa / (e^{-B} + kappa (1 - e^{-B})) with B = B(t) = int_0^t beta; it moves
    monotonically from kappa (B = 0) to 1 (B -> infinity).

    Examples
    --------
    >>> float(vp_kappa(2.0, 0.0)), float(vp_kappa(1.0, 3.0))
    (2.0, 1.0)
    """
    kappa = check_float(kappa, "kappa", low=0.0, low_open=True)
    B = np.asarray(B, dtype=float)
    if np.any(~np.isfinite(B)) or np.any(B < 0):
        raise ValueError("B must be finite and >= 0")
    u = np.exp(-B)
    return kappa / (u + kappa * (1.0 - u))
