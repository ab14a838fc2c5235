"""Probability-flow ODE flow maps and consistency models.

The probability-flow ODE of a forward SDE ``dX = -f(t) X dt + g(t) dB`` is

    dx/dt = -f(t) x - (1/2) g(t)^2 grad log p_t(x),

and its flow map ``F(t, s, y)`` carries the state at time ``s`` to the state at time ``t``
(forwards or backwards). For the book's targets this map is known exactly:

* Gaussian data ``N(mean, var I)``: the ODE is linear and ``x - m_t`` scales like ``sqrt(v_t)``,
  so ``F(t, s, y) = m_t + (y - m_s) sqrt(v_t / v_s)`` (:func:`gaussian_flow`);
* 1-D mixtures: a 1-D flow preserves order and pushes ``p_s`` to ``p_t``, so it is the monotone
  transport ``F(t, s, y) = Q_t(C_s(y))`` with ``C`` the CDF and ``Q`` the quantile function
  (:func:`flow_map_1d`).

Both are independent of the ODE solver :func:`solve_flow`, so the solver, the flow's group
property and the consistency function are checked against exact maps, not against themselves.

Consistency models (variance-exploding process with ``sigma(t) = t``, ``g = sqrt(2t)``) learn
``y -> F(eps0, t, y)``. :func:`consistency_pairs` draws the training pairs of consistency
distillation (an Euler step of the ODE with a score) and of consistency training (independent
or shared noise); :func:`cd_ct_w2_squared`, :func:`cd_loss_gaussian` and
:func:`ct_loss_gaussian` are the closed forms the chapter checks them against.
:func:`linear_consistency_slopes` is what training converges to for Gaussian data and the linear
class ``F(t, y) = k(t) y``, with each coupling and with or without a stop-gradient target.
"""
import numpy as np
from scipy import linalg, special
from scipy.integrate import solve_ivp

from . import rng
from ._validate import check_array, check_float, check_int, check_seed
from .sde import LinearSDE
from .targets import GaussianMixture

__all__ = ["gaussian_flow", "mixture_cdf", "mixture_quantile", "flow_map_1d", "pf_velocity",
           "solve_flow", "pf_ode", "ve_reparam_velocity", "cd_ct_w2_squared",
           "consistency_pairs", "ve_consistency_gaussian", "cd_loss_gaussian",
           "ct_loss_gaussian", "pair_moments_gaussian", "linear_consistency_slopes"]


def _check_sde(sde):
    if not isinstance(sde, LinearSDE):
        raise ValueError("sde must be a companion.sde.LinearSDE (OU, VP, VE, VELinear, ...)")
    return sde


def _check_mixture_1d(mixture):
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
        raise ValueError("mixture must be a 1-D GaussianMixture")
    if not mixture.has_density:
        raise ValueError("mixture must have a density (positive component variances)")
    return mixture


def gaussian_flow(sde, mean, var, t, s, y):
    """Exact probability-flow map ``F(t, s, y)`` for Gaussian data ``N(mean, var I)``.

    ``m_t = m(t) mean`` and ``v_t = m(t)^2 var + v(t)`` are the mean and variance of ``X_t``;
    the flow is ``m_t + (y - m_s) sqrt(v_t / v_s)``.

    Parameters
    ----------
    sde : LinearSDE
    mean : array_like, shape (d,)
    var : float, >= 0
    t, s : float, >= 0
        Target and starting times (``v_s`` must be positive).
    y : array_like, shape (n, d)

    Examples
    --------
    >>> from companion import sde as S
    >>> float(gaussian_flow(S.OU(), [0.0], 1.0, 2.0, 0.5, [[0.7]])[0, 0])   # N(0, 1) is stationary
    0.7
    """
    sde = _check_sde(sde)
    mu = check_array(mean, "mean", ndim=1)
    var = check_float(var, "var", low=0.0)
    t = check_float(t, "t", low=0.0)
    s = check_float(s, "s", low=0.0)
    y = check_array(y, "y", shape=(None, mu.shape[0]))
    ms, mt = float(sde.mean_coeff(s)), float(sde.mean_coeff(t))
    vs = ms * ms * var + float(sde.marginal_var(s))
    vt = mt * mt * var + float(sde.marginal_var(t))
    if vs <= 0:
        raise ValueError("s must be a time where X_s has positive variance")
    return mt * mu + (y - ms * mu) * np.sqrt(vt / vs)


def mixture_cdf(mixture, x):
    """CDF of a 1-D Gaussian mixture with a density, at the points ``x`` (any shape).

    Examples
    --------
    >>> from companion import gaussian
    >>> round(float(mixture_cdf(gaussian([0.0], [[4.0]]), 2.0)), 6)
    0.841345
    """
    mixture = _check_mixture_1d(mixture)
    x = check_array(x, "x")
    m = mixture.means[:, 0]
    sd = np.sqrt(mixture.covs[:, 0, 0])
    return special.ndtr((x[..., None] - m) / sd) @ mixture.weights


def mixture_quantile(mixture, u):
    """Quantile function of a 1-D Gaussian mixture: the ``x`` with ``mixture_cdf(x) = u``.

    Bisection to machine precision on a bracket of 40 component standard deviations; ``u`` must
    lie in (1e-300, 1 - 1e-16).

    Examples
    --------
    >>> from companion import targets
    >>> mu = targets.bimodal()
    >>> x = mixture_quantile(mu, [0.1, 0.5, 0.9])
    >>> bool(np.allclose(mixture_cdf(mu, x), [0.1, 0.5, 0.9], atol=1e-14))
    True
    """
    mixture = _check_mixture_1d(mixture)
    u = check_array(u, "u")
    if np.any(u <= 0) or np.any(u >= 1):
        raise ValueError("u must lie strictly between 0 and 1")
    m = mixture.means[:, 0]
    sd = np.sqrt(mixture.covs[:, 0, 0])
    lo = np.full(u.shape, float(np.min(m - 40 * sd)))
    hi = np.full(u.shape, float(np.max(m + 40 * sd)))
    for _ in range(200):                    # each pass halves the bracket
        mid = 0.5 * (lo + hi)
        below = mixture_cdf(mixture, mid) < u
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
        if np.all(hi - lo <= 4e-16 * np.maximum(1.0, np.abs(mid))):
            break
    return 0.5 * (lo + hi)


def flow_map_1d(sde, mixture, t, s, y):
    """Exact probability-flow map of a 1-D mixture: ``F(t, s, y) = Q_t(C_s(y))``.

    ``C_s`` is the CDF of ``X_s`` and ``Q_t`` the quantile function of ``X_t`` when
    ``X_0 ~ mixture`` (both mixtures, from ``sde.marginal``).

    Examples
    --------
    >>> from companion import sde as S, targets
    >>> mu = targets.bimodal()
    >>> y = np.array([[-1.0], [0.3]])
    >>> back = flow_map_1d(S.OU(), mu, 0.2, 1.0, flow_map_1d(S.OU(), mu, 1.0, 0.2, y))
    >>> bool(np.allclose(back, y, atol=1e-12))
    True
    """
    sde = _check_sde(sde)
    mixture = _check_mixture_1d(mixture)
    t = check_float(t, "t", low=0.0)
    s = check_float(s, "s", low=0.0)
    y = check_array(y, "y", shape=(None, 1))
    return mixture_quantile(sde.marginal(mixture, t), mixture_cdf(sde.marginal(mixture, s), y))


def pf_velocity(sde, mixture, t, x, score_coeff=0.5):
    """Velocity of the probability-flow ODE at time ``t``: ``-f(t) x - c g(t)^2 grad log p_t(x)``.

    ``score_coeff`` is ``c``: 1/2 for the probability-flow ODE; 1 gives the drift of the
    reverse SDE without its noise, which is *not* a flow with the right marginals.
    """
    sde = _check_sde(sde)
    t = check_float(t, "t", low=0.0)
    score_coeff = check_float(score_coeff, "score_coeff")
    x = check_array(x, "x", ndim=2)
    if not isinstance(mixture, GaussianMixture) or mixture.dim != x.shape[1]:
        raise ValueError("mixture must be a GaussianMixture of the dimension of x")
    return _pf_velocity(sde, mixture, t, x, score_coeff)


def _pf_velocity(sde, mixture, t, x, score_coeff):
    tt = np.array(t)
    m = float(sde.mean_coeff(tt))
    v = float(sde.marginal_var(tt))
    g2 = float(sde.g(tt)) ** 2
    q = mixture.channel(m, np.sqrt(v))
    return -float(sde.f(tt)) * x - score_coeff * g2 * q.score(x)


def solve_flow(velocity, y, s, t, rtol=1e-11, atol=1e-12, method="DOP853"):
    """Integrate ``dx/dt = velocity(t, x)`` from time ``s`` to time ``t`` (either direction).

    Parameters
    ----------
    velocity : callable
        ``velocity(t, x)`` with ``x`` of shape (n, d), returning shape (n, d).
    y : array_like, shape (n, d)
        The states at time ``s``.
    rtol, atol : float
        Tolerances of SciPy's ``solve_ivp`` (the particles share one adaptive step).
    method : str
        A ``solve_ivp`` method; "DOP853" (explicit, order 8) or "Radau"/"LSODA" where stiff.

    Returns
    -------
    ndarray, shape (n, d): the states at time ``t``.

    Examples
    --------
    >>> x = solve_flow(lambda t, x: -x, [[1.0]], 0.0, 1.0)
    >>> bool(abs(x[0, 0] - np.exp(-1.0)) < 1e-10)
    True
    """
    if not callable(velocity):
        raise ValueError("velocity must be a callable velocity(t, x)")
    y = check_array(y, "y", ndim=2)
    s = check_float(s, "s")
    t = check_float(t, "t")
    rtol = check_float(rtol, "rtol", low=0.0, low_open=True)
    atol = check_float(atol, "atol", low=0.0, low_open=True)
    if s == t:
        return y.copy()
    shape = y.shape

    def rhs(r, z):
        v = np.asarray(velocity(r, z.reshape(shape)), dtype=float)
        if v.shape != shape:
            raise ValueError(f"velocity must return an array of shape {shape}, got {v.shape}")
        return v.ravel()

    sol = solve_ivp(rhs, (s, t), y.ravel(), method=method, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"the ODE solver failed: {sol.message}")
    return sol.y[:, -1].reshape(shape)


def pf_ode(sde, mixture, y, s, t, score_coeff=0.5, rtol=1e-11, atol=1e-12, method="DOP853"):
    """Push ``y`` (states at time ``s``) through the probability-flow ODE of ``sde`` to time ``t``,
    with the exact score of the mixture's marginals.

    Examples
    --------
    >>> from companion import sde as S, targets
    >>> mu = targets.bimodal()
    >>> y = np.array([[-0.5], [1.5]])
    >>> bool(np.allclose(pf_ode(S.OU(), mu, y, 1.0, 0.3), flow_map_1d(S.OU(), mu, 0.3, 1.0, y),
    ...                  atol=1e-8))
    True
    """
    sde = _check_sde(sde)
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    check_float(s, "s", low=0.0)
    check_float(t, "t", low=0.0)
    score_coeff = check_float(score_coeff, "score_coeff")
    y = check_array(y, "y", shape=(None, mixture.dim))
    return solve_flow(lambda r, x: _pf_velocity(sde, mixture, r, x, score_coeff), y, s, t,
                      rtol=rtol, atol=atol, method=method)


def ve_reparam_velocity(sde, ve_score, t, x):
    """The probability-flow velocity of ``sde`` written through a variance-exploding score.

    With ``s(t) = m(t)`` (the mean coefficient) and ``sigma(t)^2 = v(t) / m(t)^2``, the marginal
    is ``p_t(x) = s^{-d} p^VE(sigma(t), x / s)``, where ``p^VE(sigma, .)`` is the data law
    convolved with ``N(0, sigma^2 I)``. The velocity is

        (s'/s) x - s(t) sigma'(t) sigma(t) grad log p^VE(sigma(t), x / s(t)),

    with one power of ``s`` because the score is evaluated at ``x / s`` (003 eq. 5.12 writes ``s^2``
    with the gradient of the composite ``x -> log p^VE(sigma, x / s)``, as Karras et al. do; the
    chain rule supplies the other ``1/s``). Here ``s'/s = -f`` and ``s sigma sigma' = g^2 / (2 s)``.

    Parameters
    ----------
    sde : LinearSDE
    ve_score : callable
        ``ve_score(sigma, y)``: the score of the data law convolved with N(0, sigma^2 I).
    t : float, > 0
    x : array_like, shape (n, d)
    """
    sde = _check_sde(sde)
    if not callable(ve_score):
        raise ValueError("ve_score must be a callable ve_score(sigma, y)")
    t = check_float(t, "t", low=0.0, low_open=True)
    x = check_array(x, "x", ndim=2)
    m = float(sde.mean_coeff(t))
    sigma = np.sqrt(float(sde.marginal_var(t))) / m
    coeff = float(sde.g(t)) ** 2 / (2.0 * m)          # s sigma sigma'
    return -float(sde.f(t)) * x - coeff * np.asarray(ve_score(sigma, x / m), dtype=float)


def cd_ct_w2_squared(t, delta, d=1):
    """Squared W_2 between the laws of consistency-distillation and independent-noise
    consistency-training pairs, for a point mass at 0 and the VE process with sigma(t) = t.

    ``2 d (t^2 + (t - delta)^2 - sqrt(t^4 + (t - delta)^4))``; it tends to
    ``2 (2 - sqrt 2) t^2 d`` as ``delta -> 0``.

    Examples
    --------
    >>> round(cd_ct_w2_squared(1.0, 0.1), 10)
    1.0462090217
    """
    t = check_float(t, "t", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=t)
    d = check_int(d, "d", low=1)
    a, b = t * t, (t - delta) ** 2
    return float(2.0 * d * (a + b - np.hypot(a, b)))


_KINDS = ("cd", "ct", "ct_shared")


def consistency_pairs(mixture, t, delta, n, seed, kind="cd", score=None):
    """Training pairs ``(Y_plus, Y_minus)`` of a consistency model (VE process, sigma(t) = t).

    ``x ~ mixture`` and ``Y_plus = x + t Z``. Then, by ``kind``:

    * ``"cd"`` (distillation): one Euler step of the probability-flow ODE
      ``dx/dt = -t grad log p(t, x)`` from ``t`` down to ``t - delta``:
      ``Y_minus = Y_plus + delta t score(t, Y_plus)``;
    * ``"ct"`` (training, independent noise, as 003 describes it):
      ``Y_minus = x + (t - delta) Z'`` with ``Z'`` independent of ``Z``;
    * ``"ct_shared"`` (training as implemented in practice): ``Y_minus = x + (t - delta) Z``.

    ``score(t, y)`` defaults to the exact score of ``mixture`` convolved with N(0, t^2 I).

    Returns
    -------
    y_plus, y_minus : ndarray, shape (n, d)

    Examples
    --------
    >>> from companion import discrete
    >>> yp, ym = consistency_pairs(discrete([[0.0]], [1.0]), 1.0, 0.1, 4, seed=0)
    >>> bool(np.allclose(ym, 0.9 * yp))
    True
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    t = check_float(t, "t", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=t, high_open=True)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    d = mixture.dim
    x = mixture.sample(n, seed)
    z = rng.normals(n, d, seed, step=1)
    y_plus = x + t * z
    if kind == "cd":
        if score is None:
            s = mixture.channel(1.0, t).score(y_plus)
        elif callable(score):
            s = np.asarray(score(t, y_plus), dtype=float)
        else:
            raise ValueError("score must be None or a callable score(t, y)")
        y_minus = y_plus + delta * t * s
    elif kind == "ct":
        y_minus = x + (t - delta) * rng.normals(n, d, seed, step=2)
    else:
        y_minus = x + (t - delta) * z
    return y_plus, y_minus


def _k(c, eps0, t):
    return np.sqrt((c + eps0 * eps0) / (c + t * t))


def ve_consistency_gaussian(c, eps0, t, y):
    """The consistency function of N(0, c I) data, VE with sigma(t) = t, flowing to time eps0:
    ``F(t, y) = y sqrt((c + eps0^2) / (c + t^2))``.

    Examples
    --------
    >>> round(float(ve_consistency_gaussian(1.0, 0.0, 1.0, np.array([2.0]))[0]), 12)   # 2/sqrt(2)
    1.414213562373
    """
    c = check_float(c, "c", low=0.0)
    eps0 = check_float(eps0, "eps0", low=0.0)
    t = check_float(t, "t", low=0.0)
    y = check_array(y, "y")
    return y * _k(c, eps0, t)


def cd_loss_gaussian(c, eps0, t, delta, d=1):
    """Exact consistency-distillation loss ``E||F(t, Y+) - F(t - delta, Y-)||^2`` for N(0, c I)
    data with the exact consistency function F and the exact score in the Euler step.

    ``Y- = Y+ (1 - delta t / (c + t^2))`` and ``E||Y+||^2 = d (c + t^2)``.
    """
    c = check_float(c, "c", low=0.0)
    eps0 = check_float(eps0, "eps0", low=0.0)
    t = check_float(t, "t", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=t)
    d = check_int(d, "d", low=1)
    shrink = 1.0 - delta * t / (c + t * t)
    gap = _k(c, eps0, t) - _k(c, eps0, t - delta) * shrink
    return float(d * (c + t * t) * gap * gap)


def ct_loss_gaussian(c, eps0, t, delta, d=1):
    """Exact consistency-training loss with independent noise for N(0, c I) data:
    ``d [c (k_t - k_{t-delta})^2 + k_t^2 t^2 + k_{t-delta}^2 (t - delta)^2]``, ``k`` the
    consistency slope; it tends to ``2 d t^2 (c + eps0^2) / (c + t^2)`` as ``delta -> 0``.
    """
    c = check_float(c, "c", low=0.0)
    eps0 = check_float(eps0, "eps0", low=0.0)
    t = check_float(t, "t", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=t)
    d = check_int(d, "d", low=1)
    k1, k0 = _k(c, eps0, t), _k(c, eps0, t - delta)
    return float(d * (c * (k1 - k0) ** 2 + (k1 * t) ** 2 + (k0 * (t - delta)) ** 2))


_TARGETS = ("stop_gradient", "joint")


def pair_moments_gaussian(c, t, delta, kind="cd"):
    """Per-coordinate second moments ``(E Y+^2, E Y+ Y-, E Y-^2)`` of the pairs of
    :func:`consistency_pairs` for N(0, c I) data (``kind="cd"`` with the exact score).

    ``E Y+^2 = c + t^2``; with ``r = 1 - delta t / (c + t^2)`` (the exact Euler step), CD has
    ``Y- = r Y+``; CT has ``Y- = x + (t - delta) Z'``, so ``E Y+ Y- = c`` with independent noise
    and ``c + t (t - delta)`` with shared noise, and ``E Y-^2 = c + (t - delta)^2``.

    Examples
    --------
    >>> pair_moments_gaussian(1.0, 1.0, 0.5, "ct_shared")
    (2.0, 1.5, 1.25)
    """
    c = check_float(c, "c", low=0.0)
    t = check_float(t, "t", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=t)
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    a = c + t * t
    if kind == "cd":
        r = 1.0 - delta * t / a
        return a, r * a, r * r * a
    tm = t - delta
    return a, (c if kind == "ct" else c + t * tm), c + tm * tm


def linear_consistency_slopes(c, grid, kind="ct_shared", target="stop_gradient"):
    """What consistency training converges to for N(0, c I) data and the class
    ``F(t, y) = k(t) y`` on a grid ``eps0 = t_0 < t_1 < ... < t_N``, with ``k_0 = 1``.

    The loss is ``sum_n E||k_n Y+ - k_{n-1} Y-||^2`` over the pairs of step ``n`` (from ``t_n``
    to ``t_{n-1}``, drawn as in :func:`consistency_pairs` with ``kind``), uniform weights.

    * ``target="stop_gradient"``: the target ``k_{n-1} Y-`` is frozen (an EMA or stop-gradient
      network at its fixed point), so each step is a regression of ``k_{n-1} Y-`` on ``Y+``:
      ``k_n = k_{n-1} E[Y+ Y-] / E[Y+^2]``.
    * ``target="joint"``: the squared loss is minimised in all ``k_1, ..., k_N`` at once; the
      minimiser solves a tridiagonal linear system.

    Returns
    -------
    ndarray, shape (N + 1,)
        ``k_0 = 1, k_1, ..., k_N``.

    Examples
    --------
    >>> g = np.linspace(0.0, 1.0, 2001)
    >>> round(float(linear_consistency_slopes(1.0, g)[-1]), 3)      # -> sqrt(1/2) as N grows
    0.707
    """
    c = check_float(c, "c", low=0.0, low_open=True)
    g = check_array(grid, "grid", ndim=1)
    if g.size < 2 or np.any(np.diff(g) <= 0) or g[0] < 0:
        raise ValueError("grid must be increasing, of length >= 2, starting at eps0 >= 0")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {_TARGETS}, got {target!r}")
    N = g.size - 1
    A, B, C = np.empty(N), np.empty(N), np.empty(N)
    for n in range(N):
        A[n], B[n], C[n] = pair_moments_gaussian(c, float(g[n + 1]), float(g[n + 1] - g[n]), kind)
    k = np.ones(N + 1)
    if target == "stop_gradient":
        k[1:] = np.cumprod(B / A)
        return k
    # d/dk_j of sum_n (k_n^2 A_n - 2 k_n k_{n-1} B_n + k_{n-1}^2 C_n) = 0 for j = 1..N
    # (A_n, B_n, C_n belong to step n = 1..N, stored at index n - 1):
    # (A_j + C_{j+1}) k_j - B_j k_{j-1} - B_{j+1} k_{j+1} = 0, with C_{N+1} = B_{N+1} = 0
    diag = A + np.append(C[1:], 0.0)
    off = -B[1:]
    ab = np.zeros((3, N))
    ab[0, 1:] = off
    ab[1] = diag
    ab[2, :-1] = off
    rhs = np.zeros(N)
    rhs[0] = B[0]
    k[1:] = linalg.solve_banded((1, 1), ab, rhs)
    return k
