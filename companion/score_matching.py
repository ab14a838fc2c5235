"""Tweedie's formula and score matching: objectives, estimators and the models they fit.

The score of a noised law is an affine function of a posterior mean (Tweedie), so every
identity of chapter 2 can be checked against the mixture oracle of :mod:`companion.targets`.
This module holds what the oracle does not:

* the right-hand sides of Tweedie's formula and of its OU form (score and Hessian through the
  posterior mean and covariance);
* the score-matching objectives (explicit, implicit, sliced, denoising, noise prediction) as
  per-sample terms, so that a chapter can average them and attach a standard error;
* two score models that are *linear in their parameters*, so that every objective is a
  quadratic in ``theta`` and its minimiser is a closed-form least-squares solution:
  :class:`RBFScoreModel` (Gaussian bumps in any dimension) and :class:`PolynomialExpFamily`
  (the score of the 1-D exponential family ``p_theta ~ exp(sum_j theta_j x^k_j)``, whose
  score-matching estimator and sandwich covariance are explicit);
* Monte Carlo tools: Hutchinson's trace estimator, a sliced (directional finite-difference)
  divergence and finite-difference Jacobians (the generic statistics helpers, binned
  regression and covariance estimates with standard errors, live in :mod:`companion.stats`).

A linear score model is ``s_theta(x) = Phi(x) theta`` with ``Phi(x)`` a (d, p) matrix of
feature fields; its divergence is ``div s_theta(x) = sum_j theta_j div phi_j(x)``. Fits
accumulate the normal equations over chunks of points, so memory stays bounded for any n.

Random numbers come only from :mod:`companion.rng` (explicit ``seed``), never from NumPy's
global state.
"""
import numpy as np
from numba import njit

from . import rng
from ._validate import check_array, check_float, check_int, check_points, check_seed
from .targets import GaussianMixture

__all__ = [
    "tweedie_mean", "tweedie_noise", "ou_score_from_mean", "ou_hessian_from_cov",
    "RBFScoreModel", "PolynomialExpFamily",
    "esm_terms", "ism_terms", "sliced_terms", "dsm_terms", "dsm_terms_over_time",
    "noise_prediction_terms",
    "normal_equations", "fit_least_squares", "fit_esm", "fit_ism", "fit_dsm",
    "fit_noise_prediction",
    "sandwich_ism", "sandwich_least_squares",
    "hutchinson_divergence", "sliced_divergence", "fd_jacobian", "dsm_population", "esm_excess",
    "fit_dsm_replicates",
]

_CHUNK = 8192


# ----------------------------------------------------------------------------- Tweedie
def _check_mixture(mixture):
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    return mixture


def tweedie_mean(mixture, y, a=1.0, sigma=1.0):
    """Posterior mean of X given ``a X + sigma N = y``, computed from the score alone.

    Tweedie's formula: ``E[X | Y = y] = (y + sigma^2 grad log p_Y(y)) / a``, where ``p_Y`` is
    the law of ``a X + sigma N``. Only the score of the noised law is used, never the
    posterior; :meth:`GaussianMixture.posterior_mean` is the independent reference.

    Parameters
    ----------
    mixture : GaussianMixture
        The law of X (it may be discrete: only the noised law needs a density).
    y : array_like, shape (d,) or (n, d)
    a : float, non-zero
    sigma : float, > 0

    Returns
    -------
    ndarray, the shape of ``y``

    Examples
    --------
    >>> import numpy as np
    >>> from companion.targets import gaussian
    >>> mu = gaussian([0.0], [[1.0]])          # X ~ N(0, 1), Y = X + N: E[X | y] = y / 2
    >>> tweedie_mean(mu, [[2.0]], a=1.0, sigma=1.0)
    array([[1.]])
    """
    _check_mixture(mixture)
    a = check_float(a, "a")
    if a == 0.0:
        raise ValueError("a must be non-zero (with a = 0, Y carries no information on X)")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    pts, single = check_points(y, mixture.dim, "y")
    out = (pts + sigma * sigma * mixture.channel(a, sigma).score(pts)) / a
    return out[0] if single else out


def tweedie_noise(mixture, y, a=1.0, sigma=1.0):
    """Bayes predictor of the noise ``e = sigma N`` given ``Y = a X + e = y``.

    It is ``E[e | Y = y] = -sigma^2 grad log p_Y(y)`` (Tweedie's formula).

    Examples
    --------
    >>> from companion.targets import gaussian
    >>> tweedie_noise(gaussian([0.0], [[1.0]]), [[2.0]], sigma=1.0)   # E[e | y] = y / 2
    array([[1.]])
    """
    _check_mixture(mixture)
    a = check_float(a, "a")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    pts, single = check_points(y, mixture.dim, "y")
    out = -sigma * sigma * mixture.channel(a, sigma).score(pts)
    return out[0] if single else out


def _ou_coefficients(t):
    t = check_float(t, "t", low=0.0, low_open=True)
    s2 = -np.expm1(-2.0 * t)
    return np.exp(-t), s2


def ou_score_from_mean(x, m, t):
    """The OU score through the posterior mean: ``(-x + e^{-t} m_t(x)) / sigma_t^2``.

    Parameters
    ----------
    x : array_like, shape (n, d) or (d,)
        Points.
    m : array_like, same shape as ``x``
        Posterior means ``m_t(x) = E[X_0 | X_t = x]``.
    t : float, > 0

    Examples
    --------
    >>> import numpy as np
    >>> from companion.targets import gaussian
    >>> mu, t = gaussian([1.0], [[0.5]]), 0.7
    >>> x = np.array([[0.3], [-1.2]])
    >>> m = mu.posterior_mean(x, np.exp(-t), np.sqrt(1 - np.exp(-2 * t)))
    >>> bool(np.allclose(ou_score_from_mean(x, m, t), mu.at(t).score(x)))
    True
    """
    x = check_array(x, "x")
    m = check_array(m, "m", shape=x.shape)
    alpha, s2 = _ou_coefficients(t)
    return (alpha * m - x) / s2


def ou_hessian_from_cov(cov, t):
    """The OU Hessian of log q_t through the posterior covariance.

    ``-sigma_t^{-2} I + e^{-2t} sigma_t^{-4} Sigma_t(x)``.

    Parameters
    ----------
    cov : array_like, shape (n, d, d) or (d, d)
        Posterior covariances ``Sigma_t(x) = Cov(X_0 | X_t = x)``.
    t : float, > 0

    Examples
    --------
    >>> import numpy as np
    >>> ou_hessian_from_cov(np.zeros((1, 1)), np.log(2.0))   # point-mass data: -1/sigma_t^2
    array([[-1.33333333]])
    """
    c = check_array(cov, "cov")
    if c.ndim not in (2, 3) or c.shape[-1] != c.shape[-2]:
        raise ValueError(f"cov must have shape (d, d) or (n, d, d), got {c.shape}")
    alpha, s2 = _ou_coefficients(t)
    eye = np.eye(c.shape[-1])
    return -eye / s2 + (alpha * alpha / (s2 * s2)) * c


# ------------------------------------------------------------------------ linear models
class _LinearScoreModel:
    """Common machinery of score models ``s_theta(x) = Phi(x) theta``.

    Subclasses define ``dim``, ``n_params`` and ``_chunk(x, theta)``: for a (m, d) block of
    points, the features ``Phi`` (m, d, p) and their divergences (m, p) when ``theta`` is
    None, or the field, its divergence and its Jacobian (m, d), (m,), (m, d, d) otherwise.
    """

    dim = None
    n_params = None

    def _points(self, x, name="x"):
        return check_points(x, self.dim, name)

    def _theta(self, theta):
        return check_array(theta, "theta", shape=(self.n_params,))

    def features(self, x):
        """Feature matrix ``Phi(x)``, shape (n, d, p), and feature divergences, shape (n, p)."""
        pts, _ = self._points(x)
        return self._chunk(pts, None)

    def jacobian_features(self, x):
        """Jacobians of the feature fields, shape (n, d, d, p).

        Entry ``[i, a, b, j]`` is ``d_b phi_j^a(x_i)``.
        """
        pts, _ = self._points(x)
        return self._jac_features(pts)

    def _field(self, theta, x):
        theta = self._theta(theta)
        pts, single = self._points(x)
        n, d = pts.shape
        s = np.empty((n, d))
        div = np.empty(n)
        jac = np.empty((n, d, d))
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            s[lo:hi], div[lo:hi], jac[lo:hi] = self._chunk(pts[lo:hi], theta)
        return s, div, jac, single

    def score(self, theta, x):
        """The model field ``s_theta(x)``, shape (n, d) (or (d,) for one point)."""
        s, _, _, single = self._field(theta, x)
        return s[0] if single else s

    def divergence(self, theta, x):
        """``div s_theta(x)``, shape (n,) (or a float for one point)."""
        _, div, _, single = self._field(theta, x)
        return float(div[0]) if single else div

    def jacobian(self, theta, x):
        """Jacobian ``[i, a, b] = d_b s_theta^a(x_i)``, shape (n, d, d)."""
        _, _, jac, single = self._field(theta, x)
        return jac[0] if single else jac


@njit(cache=True)
def _rbf_kernel(x, centers, width, affine, theta, want_field, phi, dphi, s, div, jac):
    # Parameter order: [e_1..e_d, x] when affine, then psi_k e_a for k (slow) and a (fast).
    n, d = x.shape
    K = centers.shape[0]
    off = d + 1 if affine else 0
    inv_w2 = 1.0 / (width * width)
    for i in range(n):
        if want_field:
            for a in range(d):
                s[i, a] = 0.0
                for b in range(d):
                    jac[i, a, b] = 0.0
            div[i] = 0.0
            if affine:
                for a in range(d):
                    s[i, a] += theta[a] + theta[d] * x[i, a]
                    jac[i, a, a] += theta[d]
                div[i] += d * theta[d]
        else:
            for a in range(d):
                for j in range(phi.shape[2]):
                    phi[i, a, j] = 0.0
            for j in range(dphi.shape[1]):
                dphi[i, j] = 0.0
            if affine:
                for a in range(d):
                    phi[i, a, a] = 1.0
                    phi[i, a, d] = x[i, a]
                dphi[i, d] = d
        for k in range(K):
            r2 = 0.0
            for a in range(d):
                u = x[i, a] - centers[k, a]
                r2 += u * u
            psi = np.exp(-0.5 * r2 * inv_w2)
            for a in range(d):
                j = off + k * d + a
                grad_a = -(x[i, a] - centers[k, a]) * inv_w2 * psi   # d_a psi_k
                if want_field:
                    s[i, a] += theta[j] * psi
                    div[i] += theta[j] * grad_a
                    for b in range(d):
                        jac[i, a, b] += theta[j] * (-(x[i, b] - centers[k, b]) * inv_w2 * psi)
                else:
                    phi[i, a, j] = psi
                    dphi[i, j] = grad_a


class RBFScoreModel(_LinearScoreModel):
    """Score model linear in Gaussian-bump features, in any dimension d.

    ``s_theta(x) = w_0 + beta x + sum_k psi_k(x) w_k`` with
    ``psi_k(x) = exp(-|x - c_k|^2 / (2 ell^2))`` (the symbols of chapter 2); the parameter
    vector is ``theta = (w_{0,1}..w_{0,d}, beta, w_{1,1}, .., w_{1,d}, w_{2,1}, ..)`` when
    ``affine`` is true (``p = d + 1 + K d``), and the bump weights alone otherwise
    (``p = K d``). The field is not constrained to be a gradient, like a neural-network score.

    Parameters
    ----------
    centers : array_like, shape (K, d)
    width : float, > 0
        The common length scale ``ell`` of the bumps.
    affine : bool
        Include a constant field and a multiple of the identity field ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> model = RBFScoreModel([[0.0, 0.0]], width=1.0)
    >>> model.n_params
    5
    >>> theta = np.array([0.0, 0.0, -1.0, 0.0, 0.0])      # s(x) = -x: the N(0, I) score
    >>> model.score(theta, [1.0, 2.0]), model.divergence(theta, [1.0, 2.0])
    (array([-1., -2.]), -2.0)
    """

    def __init__(self, centers, width, affine=True):
        c = check_array(centers, "centers", ndim=2)
        if c.shape[0] == 0 or c.shape[1] == 0:
            raise ValueError(f"centers must have shape (K, d) with K, d >= 1, got {c.shape}")
        self.centers = c
        self.width = check_float(width, "width", low=0.0, low_open=True)
        if not isinstance(affine, (bool, np.bool_)):
            raise ValueError(f"affine must be True or False, got {affine!r}")
        self.affine = bool(affine)
        self.dim = c.shape[1]
        self.n_params = (self.dim + 1 if self.affine else 0) + c.shape[0] * self.dim

    @classmethod
    def on_grid(cls, k, half_width, d=2, width=None, affine=True):
        """Bumps centred on the ``k^d`` points of a regular grid of ``[-half_width, half_width]^d``.

        ``width`` defaults to the grid spacing ``2 half_width / (k - 1)``.

        Examples
        --------
        >>> m = RBFScoreModel.on_grid(3, 1.0)
        >>> m.centers.shape, m.width, m.n_params
        ((9, 2), 1.0, 21)
        """
        k = check_int(k, "k", low=2)
        half_width = check_float(half_width, "half_width", low=0.0, low_open=True)
        d = check_int(d, "d", low=1, high=6)
        axis = np.linspace(-half_width, half_width, k)
        centers = np.stack(np.meshgrid(*[axis] * d, indexing="ij"), axis=-1).reshape(-1, d)
        return cls(centers, axis[1] - axis[0] if width is None else width, affine)

    def __repr__(self):
        return (f"RBFScoreModel(K={self.centers.shape[0]}, d={self.dim}, width={self.width}, "
                f"affine={self.affine})")

    def _chunk(self, x, theta):
        n, d = x.shape
        p = self.n_params
        if theta is None:
            phi = np.empty((n, d, p))
            dphi = np.empty((n, p))
            _rbf_kernel(x, self.centers, self.width, self.affine, np.zeros(p), False, phi, dphi,
                        np.empty((1, 1)), np.empty(1), np.empty((1, 1, 1)))
            return phi, dphi
        s, div, jac = np.empty((n, d)), np.empty(n), np.empty((n, d, d))
        _rbf_kernel(x, self.centers, self.width, self.affine, theta, True, np.empty((1, 1, 1)),
                    np.empty((1, 1)), s, div, jac)
        return s, div, jac

    def _jac_features(self, x):
        n, d = x.shape
        K = self.centers.shape[0]
        out = np.zeros((n, d, d, self.n_params))
        off = 0
        if self.affine:
            for a in range(d):
                out[:, a, a, d] = 1.0
            off = d + 1
        diff = x[:, None, :] - self.centers[None, :, :]                       # (n, K, d)
        psi = np.exp(-0.5 * np.sum(diff**2, axis=2) / self.width**2)          # (n, K)
        grad = -diff / self.width**2 * psi[:, :, None]                        # (n, K, d)
        for k in range(K):
            for a in range(d):
                out[:, a, :, off + k * d + a] = grad[:, k, :]
        return out


class PolynomialExpFamily(_LinearScoreModel):
    """The 1-D exponential family ``p_theta(x) = exp(sum_j theta_j x^{k_j}) / Z(theta)``.

    Its score ``sum_j theta_j k_j x^{k_j - 1}`` is linear in ``theta`` with features
    ``Phi(x) = grad F(x)^T``, ``F(x) = (x^{k_1}, .., x^{k_p})``, and feature divergences
    ``Delta F(x) = (k_j (k_j - 1) x^{k_j - 2})_j``. The implicit score-matching estimator is
    therefore explicit, ``theta_hat = -A_n^{-1} b_n`` with ``A_n`` the empirical mean of
    ``grad F grad F^T`` and ``b_n`` that of ``Delta F``, and its asymptotic covariance is the
    sandwich ``Gamma_SM = A^{-1} Cov(Z) A^{-1}``, ``Z = grad F grad F^T theta + Delta F``
    (:meth:`sandwich`). Expectations under ``p_theta`` are computed by the trapezoid rule on a
    fine grid (spectrally accurate for these smooth, super-exponentially decaying densities);
    sampling inverts the distribution function tabulated on the same grid.

    Parameters
    ----------
    powers : sequence of int
        Distinct exponents ``k_j >= 1``. The largest must be even: a density needs
        ``theta_j < 0`` for it.
    support : (float, float)
        The interval of the quadrature grid; the density must be negligible (relative
        1e-20) at its ends for the parameters used.
    n_grid : int
        Number of grid points.

    Examples
    --------
    >>> import numpy as np
    >>> fam = PolynomialExpFamily([1, 2])              # the Gaussian family
    >>> theta = np.array([1.0, -1.0])                  # exp(x - x^2): N(1/2, 1/2)
    >>> np.round(fam.mean(theta), 10)                  # E X, E X^2
    array([0.5 , 0.75])
    >>> round(float(fam.cov(theta)[0, 0]), 10)         # Var X
    0.5
    """

    dim = 1

    def __init__(self, powers, support=(-10.0, 10.0), n_grid=2**15 + 1):
        try:
            k = np.array([check_int(v, "powers", low=1) for v in powers], dtype=np.int64)
        except TypeError:
            raise ValueError("powers must be a sequence of integers") from None
        if k.size == 0 or len(set(k.tolist())) != k.size:
            raise ValueError("powers must be a non-empty list of distinct integers, "
                             f"got {powers!r}")
        if k.max() % 2:
            raise ValueError(f"powers must have an even largest exponent, got {k.max()}")
        try:
            lo, hi = support
        except (TypeError, ValueError):
            raise ValueError("support must be a pair (lo, hi)") from None
        lo = check_float(lo, "support[0]")
        hi = check_float(hi, "support[1]")
        if not hi > lo:
            raise ValueError("support must satisfy support[0] < support[1]")
        self.powers = k
        self.n_params = k.size
        self.grid = np.linspace(lo, hi, check_int(n_grid, "n_grid", low=101))
        self._cache = {}

    def __repr__(self):
        return f"PolynomialExpFamily(powers={self.powers.tolist()})"

    # ------------------------------------------------------------------ the statistics
    def statistics(self, x):
        """Sufficient statistics ``F(x) = (x^{k_j})_j``, shape (n, p), for x of shape (n,)."""
        x = check_array(x, "x", ndim=1)
        return x[:, None] ** self.powers

    def _chunk(self, x, theta):
        u = x[:, 0:1]
        k = self.powers
        phi = (k * u ** np.maximum(k - 1, 0))[:, None, :]                     # (n, 1, p)
        dphi = k * (k - 1) * u ** np.maximum(k - 2, 0)                          # (n, p)
        if theta is None:
            return phi, dphi
        jac = (k * (k - 1) * u ** np.maximum(k - 2, 0)) @ theta
        return phi[:, :, :] @ theta, dphi @ theta, jac[:, None, None]

    def _jac_features(self, x):
        k = self.powers
        return (k * (k - 1) * x[:, 0:1] ** np.maximum(k - 2, 0))[:, None, None, :]

    # ------------------------------------------------------------------- the density
    def _density(self, theta):
        theta = self._theta(theta)
        key = theta.tobytes()
        if key not in self._cache:
            top = int(np.argmax(self.powers))
            if theta[top] >= 0:
                raise ValueError("theta must be negative on the largest power for p_theta "
                                 "to be a probability density")
            g = self.grid
            lp = (g[:, None] ** self.powers) @ theta
            peak = lp.max()
            if max(lp[0], lp[-1]) > peak - np.log(1e20):
                raise ValueError("theta puts mass near the ends of the support: widen support")
            u = np.exp(lp - peak)
            h = g[1] - g[0]
            w = np.full(g.size, h)
            w[0] = w[-1] = h / 2
            z = np.sum(w * u)
            dens = u / z
            cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * h)])
            cdf /= cdf[-1]
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = (w * dens, cdf, peak + np.log(z))
        return self._cache[key]

    def logpdf(self, theta, x):
        """Normalised log density at x (array of any shape)."""
        _, _, log_z = self._density(theta)
        x = check_array(x, "x")
        theta = self._theta(theta)
        return (x[..., None] ** self.powers) @ theta - log_z

    def expect(self, theta, values):
        """``E_theta[f(X)]`` for ``values = f(grid)`` (n_grid rows), by the trapezoid rule."""
        w, _, _ = self._density(theta)
        v = check_array(values, "values")
        if v.shape[0] != self.grid.size:
            raise ValueError(f"values must have {self.grid.size} rows (one per grid point)")
        return np.tensordot(w, v, axes=(0, 0))

    def mean(self, theta):
        """``E_theta F(X)``, shape (p,)."""
        return self.expect(theta, self.grid[:, None] ** self.powers)

    def cov(self, theta):
        """``Cov_theta F(X)``, the Fisher information of the family at theta, shape (p, p)."""
        f = self.grid[:, None] ** self.powers
        m = self.expect(theta, f)
        c = f - m
        return self.expect(theta, c[:, :, None] * c[:, None, :])

    def sample(self, theta, n, seed):
        """n draws from ``p_theta``, shape (n, 1), by inverting the tabulated distribution function.

        The uniforms come from :func:`companion.rng.uniforms`; linear interpolation of the
        inverse on the fine grid changes the law by far less than any Monte Carlo error.
        """
        n = check_int(n, "n", low=1)
        seed = check_seed(seed)
        _, cdf, _ = self._density(theta)
        u = rng.uniforms(n, seed)
        return np.interp(u, cdf, self.grid)[:, None]

    # ---------------------------------------------------------- score-matching theory
    def ism_parameters(self, theta):
        """Population ``A = E grad F grad F^T`` and ``b = E Delta F`` under ``p_theta``."""
        phi, dphi = self._chunk(self.grid[:, None], None)
        phi = phi[:, 0, :]
        A = self.expect(theta, phi[:, :, None] * phi[:, None, :])
        b = self.expect(theta, dphi)
        return A, b

    def sandwich(self, theta):
        """The asymptotic covariance ``Gamma_SM`` of ``sqrt(n) (theta_hat - theta)`` at ``p_theta``.

        ``Gamma_SM = A^{-1} E[Z Z^T] A^{-1}`` with ``Z = grad F grad F^T theta + Delta F``
        (``E Z = 0`` at the true parameter, so ``E[Z Z^T] = Cov Z``).
        """
        theta = self._theta(theta)
        phi, dphi = self._chunk(self.grid[:, None], None)
        phi = phi[:, 0, :]
        A, _ = self.ism_parameters(theta)
        z = phi * (phi @ theta)[:, None] + dphi
        meat = self.expect(theta, z[:, :, None] * z[:, None, :])
        Ai = np.linalg.inv(A)
        return Ai @ meat @ Ai

    def sm_estimates(self, samples):
        """The score-matching estimator of every row of ``samples`` (shape (R, n)): (R, p).

        Row by row, ``theta_hat = -A_n^{-1} b_n`` from the empirical moments (the minimiser of
        the empirical implicit objective, :func:`fit_ism`).
        """
        x = check_array(samples, "samples", ndim=2)
        R, n = x.shape
        k = self.powers
        p = k.size
        A = np.empty((R, p, p))
        b = np.empty((R, p))
        rows = max(1, (1 << 20) // n)          # blocks of rows: bounded temporaries for any R
        for lo in range(0, R, rows):
            blk = x[lo:lo + rows]
            for i in range(p):
                b[lo:lo + rows, i] = k[i] * (k[i] - 1) * np.mean(blk ** max(k[i] - 2, 0), axis=1)
                for j in range(i, p):
                    A[lo:lo + rows, i, j] = A[lo:lo + rows, j, i] = (
                        k[i] * k[j] * np.mean(blk ** (k[i] + k[j] - 2), axis=1))
        return -np.linalg.solve(A, b[:, :, None])[:, :, 0]


def _check_model(model):
    if not isinstance(model, _LinearScoreModel):
        raise ValueError("model must be an RBFScoreModel or a PolynomialExpFamily")
    return model


# ---------------------------------------------------------------------- the objectives
def esm_terms(model, theta, x, score):
    """Per-sample explicit score-matching terms ``|s_theta(x_i) - grad log p(x_i)|^2``.

    Their mean over ``x_i ~ p`` estimates ``J_ESM(theta)``, which needs the true score.

    Examples
    --------
    >>> import numpy as np
    >>> m = RBFScoreModel([[0.0]], 1.0)
    >>> esm_terms(m, [0.0, -1.0, 0.0], [[2.0]], [[-2.0]])   # the model is the exact score here
    array([0.])
    """
    _check_model(model)
    s = model.score(theta, x)
    target = check_array(score, "score", shape=np.shape(s))
    return np.sum((np.atleast_2d(s) - np.atleast_2d(target)) ** 2, axis=1)


def ism_terms(model, theta, x):
    """Per-sample implicit score-matching terms ``|s_theta(x_i)|^2 + 2 div s_theta(x_i)``.

    Their mean estimates ``J_ISM(theta) = J_ESM(theta) - E|grad log p|^2`` (Hyvarinen):
    no true score is needed.

    Examples
    --------
    >>> m = RBFScoreModel([[0.0]], 1.0)
    >>> ism_terms(m, [0.0, -1.0, 0.0], [[2.0]])      # |-2|^2 + 2 (-1)
    array([2.])
    """
    _check_model(model)
    s, div, _, _ = model._field(theta, x)
    return np.sum(s * s, axis=1) + 2.0 * div


def _probes(n, d, seed, step, kind):
    if kind == "gaussian":
        return rng.normals(n, d, seed, step)
    if kind == "rademacher":
        return np.where(rng.uniforms(n * d, seed, step).reshape(n, d) < 0.5, -1.0, 1.0)
    raise ValueError(f"probes must be 'gaussian' or 'rademacher', got {kind!r}")


def sliced_terms(model, theta, x, seed, n_probes=1):
    """Per-sample sliced score-matching terms ``|s_theta|^2 + 2 v^T grad s_theta v``.

    For each point, the divergence of :func:`ism_terms` is replaced by its Hutchinson
    estimate ``v^T (grad s_theta) v`` averaged over ``n_probes`` probes ``v ~ N(0, I)``
    (probe ``j`` of point ``i`` is ``rng.normals(n, d, seed, step=j)[i]``). The mean of the
    terms estimates ``J_SSM(theta) = J_ISM(theta)``.

    Examples
    --------
    >>> m = RBFScoreModel([[0.0]], 1.0)
    >>> sliced_terms(m, [0.0, -1.0, 0.0], [[2.0]], seed=0, n_probes=3).shape
    (1,)
    """
    _check_model(model)
    s, _, jac, _ = model._field(theta, x)
    seed = check_seed(seed)
    n_probes = check_int(n_probes, "n_probes", low=1)
    n, d = s.shape
    quad = np.zeros(n)
    for j in range(n_probes):
        v = rng.normals(n, d, seed, j)
        quad += np.einsum("na,nab,nb->n", v, jac, v)
    return np.sum(s * s, axis=1) + 2.0 * quad / n_probes


def _dsm_target(xt, x0, alpha, sigma):
    alpha = check_float(alpha, "alpha")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    xt = check_array(xt, "xt", ndim=2)
    x0 = check_array(x0, "x0", shape=xt.shape)
    return xt, -(xt - alpha * x0) / (sigma * sigma)


def dsm_terms(model, theta, xt, x0, alpha, sigma):
    """Per-sample denoising score-matching terms ``|s_theta(x_t) - grad log p(x_t | x_0)|^2``.

    For ``x_t = alpha x_0 + sigma g`` the conditional score is ``-(x_t - alpha x_0)/sigma^2
    = -g/sigma``. The mean estimates ``J_DSM(theta) = J_ESM(theta) + C`` (Vincent) with
    ``C = d/sigma^2 - E|grad log p_t|^2 >= 0``.

    Examples
    --------
    >>> m = RBFScoreModel([[0.0]], 1.0)
    >>> dsm_terms(m, [0.0, 0.0, 0.0], [[1.0]], [[0.0]], alpha=1.0, sigma=0.5)   # |0 + 1/0.25|^2
    array([16.])
    """
    _check_model(model)
    xt, target = _dsm_target(xt, x0, alpha, sigma)
    s = model.score(theta, xt)
    return np.sum((s - target) ** 2, axis=1)


def dsm_terms_over_time(data, scores, times, n, seed, sde=None):
    """Per-sample denoising terms at several times, for score fields that depend on time.

    At the ``j``-th time ``t`` draw ``n`` pairs: ``x_0 = data.sample(n, seed + 2 j)`` and
    ``g = rng.normals(n, d, seed + 2 j + 1)``; form ``x_t = m(t) x_0 + sqrt(v(t)) g`` (the OU
    process, ``m = e^{-t}``, ``v = 1 - e^{-2t}``, unless ``sde`` gives ``mean_coeff`` and
    ``marginal_var``) and return ``|s(t, x_t) - grad log p(x_t | x_0)|^2`` for every field
    ``s`` of ``scores``. The same pairs serve every field, so differences between fields are
    paired. A quadrature rule in ``t`` applied to the means gives a time-integrated
    denoising objective ``int lambda(t) J_DSM(t) dt``.

    Parameters
    ----------
    data : GaussianMixture
        The law of ``x_0``.
    scores : sequence of callables
        Each ``s(t, x)`` maps a time and points of shape (n, d) to vectors of shape (n, d).
    times : array_like, shape (k,)
        Positive times.
    n : int
        Pairs per time.
    seed : int
    sde : object with ``mean_coeff(t)`` and ``marginal_var(t)``, optional
        A linear SDE of :mod:`companion.sde`; the OU process by default.

    Returns
    -------
    ndarray, shape (len(scores), k, n)

    Examples
    --------
    >>> import companion as cp
    >>> exact = lambda t, x: cp.gaussian([0.0], [[1.0]]).at(t).score(x)
    >>> terms = dsm_terms_over_time(cp.gaussian([0.0], [[1.0]]), [exact], [0.5], n=4, seed=0)
    >>> terms.shape
    (1, 1, 4)
    """
    if not isinstance(data, GaussianMixture):
        raise ValueError("data must be a GaussianMixture")
    if not isinstance(scores, (list, tuple)) or not scores or not all(callable(s) for s in scores):
        raise ValueError("scores must be a non-empty list of callables s(t, x)")
    times = check_array(times, "times", ndim=1)
    if np.any(times <= 0):
        raise ValueError("times must be > 0")
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    if sde is not None and not (hasattr(sde, "mean_coeff") and hasattr(sde, "marginal_var")):
        raise ValueError("sde must have mean_coeff and marginal_var (a companion.sde process)")
    d = data.dim
    out = np.empty((len(scores), times.size, n))
    for j, t in enumerate(times):
        if sde is None:
            m, v = np.exp(-t), -np.expm1(-2.0 * t)
        else:
            m, v = float(sde.mean_coeff(t)), float(sde.marginal_var(t))
        x0 = data.sample(n, seed=seed + 2 * j)
        xt = m * x0 + np.sqrt(v) * rng.normals(n, d, seed + 2 * j + 1)
        xt, target = _dsm_target(xt, x0, m, np.sqrt(v))
        for i, s in enumerate(scores):
            field = np.asarray(s(float(t), xt), dtype=float)
            if field.shape != xt.shape:
                raise ValueError(f"scores[{i}] returned shape {field.shape}, expected {xt.shape}")
            out[i, j] = np.sum((field - target) ** 2, axis=1)
    return out


def noise_prediction_terms(model, theta, xt, noise, sigma):
    """Song-Ermon noise-prediction terms ``|sigma s_theta(x_t) + g|^2``.

    The predictor of the standard noise ``g`` is ``eps_theta(x) = -sigma s_theta(x)``; since
    the conditional score is ``-g/sigma``, each term is exactly ``sigma^2`` times the
    corresponding :func:`dsm_terms` term.

    Examples
    --------
    >>> m = RBFScoreModel([[0.0]], 1.0)
    >>> noise_prediction_terms(m, [0.0, 0.0, 0.0], [[1.0]], [[2.0]], sigma=0.5)
    array([4.])
    """
    _check_model(model)
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    xt = check_array(xt, "xt", ndim=2)
    g = check_array(noise, "noise", shape=xt.shape)
    s = model.score(theta, xt)
    return np.sum((sigma * s + g) ** 2, axis=1)


# ------------------------------------------------------------------------------ fits
def normal_equations(model, x, y=None, weights=None):
    """Averages ``A = mean Phi^T Phi``, ``c = mean Phi^T y`` and ``g = mean div Phi``.

    Accumulated over chunks of points. ``c`` is None when ``y`` is None. With ``weights``
    (non-negative, one per point) the averages are weighted sums instead: pass quadrature
    weights ``p(x_i) * cell volume`` on a grid to get the population quantities.

    Returns
    -------
    A : ndarray, shape (p, p)
    c : ndarray, shape (p,) or None
    g : ndarray, shape (p,)

    Examples
    --------
    >>> import numpy as np
    >>> A, c, g = normal_equations(RBFScoreModel([[0.0]], 1.0, affine=False), [[0.0], [1.0]])
    >>> bool(np.isclose(A[0, 0], (1 + np.exp(-1)) / 2)), c, g
    (True, None, array([-0.30326533]))
    """
    _check_model(model)
    pts, _ = model._points(x)
    n, d = pts.shape
    if y is not None:
        y = check_array(y, "y", shape=(n, d))
    if weights is None:
        w = None
    else:
        w = check_array(weights, "weights", shape=(n,))
        if np.any(w < 0):
            raise ValueError("weights must be non-negative")
    p = model.n_params
    A = np.zeros((p, p))
    c = np.zeros(p)
    g = np.zeros(p)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        phi, dphi = model._chunk(pts[lo:hi], None)
        if w is not None:
            root = np.sqrt(w[lo:hi])
            phi_w = phi * root[:, None, None]
            P = phi_w.reshape(-1, p)
            g += w[lo:hi] @ dphi
            if y is not None:
                c += P.T @ (y[lo:hi] * root[:, None]).reshape(-1)
        else:
            P = phi.reshape(-1, p)
            g += dphi.sum(axis=0)
            if y is not None:
                c += P.T @ y[lo:hi].reshape(-1)
        A += P.T @ P
    if w is not None:
        return A, (None if y is None else c), g
    return A / n, (None if y is None else c / n), g / n


def _solve(A, rhs, ridge):
    ridge = check_float(ridge, "ridge", low=0.0)
    M = A + ridge * np.eye(A.shape[0])
    try:
        L = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        raise ValueError("the Gram matrix of the features is singular on these points: use "
                         "more points, fewer features or ridge > 0") from None
    return np.linalg.solve(L.T, np.linalg.solve(L, rhs))


def fit_least_squares(model, x, y, ridge=0.0, weights=None):
    """Least-squares fit of the model field to targets: minimises ``mean |s_theta(x_i) - y_i|^2``.

    The minimiser is ``A_n^{-1} mean Phi^T y`` (plus ``ridge`` on the diagonal of ``A_n``);
    with quadrature ``weights`` the means become weighted sums (:func:`normal_equations`).
    Every score-matching fit below with a target (explicit, denoising) is one of these.

    Examples
    --------
    >>> import numpy as np
    >>> model = RBFScoreModel([[0.0]], 1.0)
    >>> x = np.array([[-1.0], [0.0], [2.0], [3.0]])
    >>> bool(np.allclose(fit_least_squares(model, x, 1.0 - 2.0 * x), [1.0, -2.0, 0.0]))
    True
    """
    A, c, _ = normal_equations(model, x, y, weights)
    return _solve(A, c, ridge)


def fit_esm(model, x, score, ridge=0.0, weights=None):
    """Minimiser of the empirical explicit objective: least squares of the true score on Phi.

    With ``ridge = 0`` this is ``A_n^{-1} mean Phi^T grad log p``; for large n it tends to the
    best L2(p) approximation of the score in the model, which quadrature ``weights`` on a grid
    (see :func:`normal_equations`) give directly.

    Examples
    --------
    >>> import numpy as np
    >>> from companion.targets import gaussian
    >>> mu = gaussian([0.0], [[0.25]])
    >>> x = mu.sample(200, seed=0)
    >>> theta = fit_esm(RBFScoreModel([[0.0]], 1.0), x, mu.score(x))
    >>> bool(np.allclose(theta, [0.0, -4.0, 0.0]))      # the exact score -4 x is in the model
    True
    """
    return fit_least_squares(model, x, score, ridge, weights)


def fit_ism(model, x, ridge=0.0):
    """Minimiser of the empirical implicit objective ``mean |s_theta|^2 + 2 div s_theta``.

    The objective is ``theta^T A_n theta + 2 theta^T g_n``; its minimiser is ``-A_n^{-1} g_n``.

    Examples
    --------
    >>> import numpy as np
    >>> from companion.targets import gaussian
    >>> x = gaussian([0.0], [[0.25]]).sample(50_000, seed=0)
    >>> theta = fit_ism(RBFScoreModel([[0.0]], 1.0), x)
    >>> bool(abs(theta[1] + 4.0) < 0.1)                 # close to the exact -4
    True
    """
    A, _, g = normal_equations(model, x)
    return _solve(A, -g, ridge)


def fit_dsm(model, xt, x0, alpha, sigma, ridge=0.0):
    """Minimiser of the empirical denoising objective.

    This is the least-squares fit of the model to the conditional score
    ``-(x_t - alpha x_0) / sigma^2``.

    Examples
    --------
    >>> import numpy as np
    >>> from companion.targets import gaussian
    >>> from companion import rng
    >>> x0 = gaussian([0.0], [[1.0]]).sample(100_000, seed=1)
    >>> xt = 0.6 * x0 + 0.8 * rng.normals(100_000, 1, seed=2)      # p_t = N(0, 1): score -x
    >>> theta = fit_dsm(RBFScoreModel([[0.0]], 1.0), xt, x0, 0.6, 0.8)
    >>> bool(abs(theta[1] + 1.0) < 0.05)
    True
    """
    xt, target = _dsm_target(xt, x0, alpha, sigma)
    A, c, _ = normal_equations(model, xt, target)
    return _solve(A, c, ridge)


def fit_noise_prediction(model, xt, noise, sigma, ridge=0.0):
    """Minimiser of the empirical noise-prediction objective ``mean |sigma s_theta(x_t) + g|^2``.

    Solved as its own least-squares problem (features ``sigma Phi``, target ``-g``); for
    ``x_t = alpha x_0 + sigma g`` it equals :func:`fit_dsm` (with ``ridge`` scaled by
    ``sigma^2``).
    """
    _check_model(model)
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    xt = check_array(xt, "xt", ndim=2)
    g = check_array(noise, "noise", shape=xt.shape)
    A, c, _ = normal_equations(model, xt, -g)
    return _solve(sigma * sigma * A, sigma * c, ridge)


def _estimating_cov(model, x, z_of_chunk):
    pts, _ = model._points(x)
    n = pts.shape[0]
    if n < 2:
        raise ValueError("x must hold at least 2 points")
    p = model.n_params
    A = np.zeros((p, p))
    zs = np.zeros(p)
    zz = np.zeros((p, p))
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        phi, dphi = model._chunk(pts[lo:hi], None)
        P = phi.reshape(-1, p)
        A += P.T @ P
        z = z_of_chunk(lo, hi, phi, dphi)
        zs += z.sum(axis=0)
        zz += z.T @ z
    A /= n
    zbar = zs / n
    meat = (zz - n * np.outer(zbar, zbar)) / (n - 1)
    Ai = np.linalg.inv(A)
    return Ai @ meat @ Ai


def sandwich_ism(model, theta, x):
    """Plug-in sandwich ``A_n^{-1} Cov_n(Z) A_n^{-1}`` for the implicit score-matching estimator.

    ``Z_i = Phi_i^T Phi_i theta + div Phi_i`` is the estimating function at ``theta``. The
    result estimates the asymptotic covariance of ``sqrt(n) (theta_hat - theta)``.
    """
    _check_model(model)
    theta = model._theta(theta)
    return _estimating_cov(
        model, x, lambda lo, hi, phi, dphi: np.einsum("nap,na->np", phi, phi @ theta) + dphi)


def sandwich_least_squares(model, x, residual):
    """Plug-in sandwich ``A_n^{-1} Cov_n(Phi_i^T r_i) A_n^{-1}`` for a least-squares fit.

    ``residual`` (n, d) holds ``r_i``. For two least-squares fits on the same points with
    targets ``y`` and ``y'``, ``theta_hat - theta_hat' = A_n^{-1} mean Phi^T (y - y')``, whose
    covariance is this matrix (with ``r = y - y'``) divided by n.
    """
    _check_model(model)
    pts, _ = model._points(x)
    r = check_array(residual, "residual", shape=pts.shape)
    return _estimating_cov(model, pts, lambda lo, hi, phi, dphi:
                           np.einsum("nap,na->np", phi, r[lo:hi]))


# ------------------------------------------------------------------ Monte Carlo tools
def hutchinson_divergence(jac, n_probes, seed, probes="gaussian"):
    """Hutchinson's estimate of the trace of each Jacobian, with its standard error.

    ``tr J = E[v^T J v]`` for any probe with ``E v v^T = I``. Probe ``j`` of matrix ``i`` is
    row ``i`` of ``rng.normals(n, d, seed, step=j)`` (Gaussian) or of a sign pattern drawn
    from ``rng.uniforms`` (Rademacher).

    Parameters
    ----------
    jac : array_like, shape (n, d, d)
    n_probes : int, >= 2
    seed : int
    probes : {'gaussian', 'rademacher'}

    Returns
    -------
    estimate, stderr : ndarray, shape (n,)
        Probe average and its standard error (sample standard deviation / sqrt(n_probes)).

    Examples
    --------
    >>> import numpy as np
    >>> est, se = hutchinson_divergence(np.eye(3)[None], n_probes=400, seed=0)
    >>> bool(abs(est[0] - 3.0) < 5 * se[0])
    True
    """
    J = check_array(jac, "jac", ndim=3)
    n, d, d2 = J.shape
    if d != d2 or n == 0:
        raise ValueError(f"jac must have shape (n, d, d) with n >= 1, got {J.shape}")
    n_probes = check_int(n_probes, "n_probes", low=2)
    seed = check_seed(seed)
    if probes not in ("gaussian", "rademacher"):
        raise ValueError(f"probes must be 'gaussian' or 'rademacher', got {probes!r}")
    vals = np.empty((n_probes, n))
    for j in range(n_probes):
        v = _probes(n, d, seed, j, probes)
        vals[j] = np.einsum("na,nab,nb->n", v, J, v)
    return vals.mean(axis=0), vals.std(axis=0, ddof=1) / np.sqrt(n_probes)


def sliced_divergence(field, x, n_probes, seed, h=1e-4):
    """Divergence of a vector field from directional derivatives only (sliced score matching).

    ``div f(x) = E_v[v^T (grad f) v]``, and ``v^T (grad f) v`` is the derivative of
    ``t -> v . f(x + t v)`` at 0, here a central difference of step ``h`` (error O(h^2)): one
    directional derivative per probe instead of d partial derivatives.

    Parameters
    ----------
    field : callable
        Maps an (n, d) array to an (n, d) array.
    x : array_like, shape (n, d)
    n_probes : int, >= 2
    seed : int
    h : float, > 0

    Returns
    -------
    estimate, stderr : ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> est, se = sliced_divergence(lambda y: -y, np.zeros((1, 4)), n_probes=200, seed=1)
    >>> bool(abs(est[0] + 4.0) < 5 * se[0])
    True
    """
    if not callable(field):
        raise ValueError("field must be a callable mapping (n, d) arrays to (n, d) arrays")
    x = check_array(x, "x", ndim=2)
    n, d = x.shape
    n_probes = check_int(n_probes, "n_probes", low=2)
    seed = check_seed(seed)
    h = check_float(h, "h", low=0.0, low_open=True)
    vals = np.empty((n_probes, n))
    block = max(1, _CHUNK // n)            # probes per call of the field: few, large calls
    for j0 in range(0, n_probes, block):
        j1 = min(n_probes, j0 + block)
        v = np.stack([rng.normals(n, d, seed, j) for j in range(j0, j1)])      # (b, n, d)
        pts = np.concatenate([(x + h * v).reshape(-1, d), (x - h * v).reshape(-1, d)])
        f = np.asarray(field(pts), dtype=float)
        m = (j1 - j0) * n
        if f.shape != (2 * m, d):
            raise ValueError(f"field must return an array of shape (n, {d}) for n points")
        diff = (f[:m] - f[m:]).reshape(j1 - j0, n, d)
        vals[j0:j1] = np.sum(v * diff, axis=2) / (2.0 * h)
    return vals.mean(axis=0), vals.std(axis=0, ddof=1) / np.sqrt(n_probes)


def fd_jacobian(field, x, h):
    """Central-difference Jacobian ``[i, a, b] ~ d_b f^a(x_i)`` of a vector field (error O(h^2)).

    Examples
    --------
    >>> import numpy as np
    >>> J = fd_jacobian(lambda y: y**3, np.array([[1.0, 2.0]]), 1e-3)
    >>> bool(np.allclose(J[0], np.diag([3.0, 12.0]), atol=1e-5))
    True
    """
    if not callable(field):
        raise ValueError("field must be a callable mapping (n, d) arrays to (n, d) arrays")
    x = check_array(x, "x", ndim=2)
    h = check_float(h, "h", low=0.0, low_open=True)
    n, d = x.shape
    J = np.empty((n, d, d))
    for b in range(d):
        e = np.zeros(d)
        e[b] = h
        fp = np.asarray(field(x + e), dtype=float)
        fm = np.asarray(field(x - e), dtype=float)
        if fp.shape != (n, d):
            raise ValueError(f"field must return an array of shape ({n}, {d})")
        J[:, :, b] = (fp - fm) / (2.0 * h)
    return J


# ------------------------------------------------- the error decomposition of a linear class
def dsm_population(model, mixture, alpha, sigma, n_grid=6001, width=12.0):
    """Population quantities of denoising score matching with a linear model, for a 1-D mixture.

    The data law is ``mixture`` and ``x_t = alpha x_0 + sigma g``, with law ``q = mixture.channel
    (alpha, sigma)``. With features ``Phi`` (``s_theta = Phi theta``), the quantities of the
    misspecified least-squares problem are computed by the trapezoid rule on a grid of
    ``width`` standard deviations around every component (spectrally accurate for these smooth,
    Gaussian-tailed integrands):

    * ``G = E Phi^T Phi`` and ``b = E Phi^T grad log q``, so the best model in the class is
      ``theta_star = G^{-1} b``;
    * the approximation error ``A = min_theta J_ESM(theta) = E|grad log q|^2 - b^T theta_star``;
    * ``Omega = E[Phi^T Phi r^2]`` with ``r`` the DSM residual at ``theta_star``:
      ``E[r^2 | x_t] = (s_star - grad log q)^2 + alpha^2 Var(x_0 | x_t) / sigma^4``;
    * ``excess_coeff = tr(G^{-1} Omega)``: the expected excess ``J_ESM(theta_hat_n) - A`` of the
      DSM fit on n pairs is ``excess_coeff / n (1 + O(1/n))``.

    Returns
    -------
    dict with keys ``G``, ``b``, ``theta_star``, ``approx_error``, ``omega``, ``excess_coeff``.

    Examples
    --------
    >>> from companion import gaussian
    >>> pop = dsm_population(RBFScoreModel([[0.0]], 1.0), gaussian([0.0], [[1.0]]), 0.5, 0.8)
    >>> bool(pop["approx_error"] < 1e-12)          # the N(0, v) score -x/v is in the class
    True
    """
    _check_model(model)
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1 or model.dim != 1:
        raise ValueError("mixture and model must be 1-D")
    alpha = check_float(alpha, "alpha")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    n_grid = check_int(n_grid, "n_grid", low=101)
    width = check_float(width, "width", low=1.0)
    q = mixture.channel(alpha, sigma)
    sd = np.sqrt(q.covs[:, 0, 0])
    x = np.linspace((q.means[:, 0] - width * sd).min(), (q.means[:, 0] + width * sd).max(), n_grid)
    pts = x[:, None]
    w = q.pdf(pts) * (x[1] - x[0])
    w[0] *= 0.5
    w[-1] *= 0.5
    score = q.score(pts)
    G, b, _ = normal_equations(model, pts, score, weights=w)
    theta_star = _solve(G, b, 0.0)
    approx = float(w @ score[:, 0] ** 2 - b @ theta_star)
    _, post_cov = mixture.posterior(pts, a=alpha, sigma=sigma)
    r2 = (model.score(theta_star, pts)[:, 0] - score[:, 0]) ** 2 \
        + alpha * alpha * post_cov[:, 0, 0] / sigma**4
    omega, _, _ = normal_equations(model, pts, None, weights=w * r2)
    return {"G": G, "b": b, "theta_star": theta_star, "approx_error": max(approx, 0.0),
            "omega": omega, "excess_coeff": float(np.trace(np.linalg.solve(G, omega)))}


def esm_excess(model, theta, population):
    """``J_ESM(theta) - A = (theta - theta_star)^T G (theta - theta_star)`` for a linear model
    (exact: the ESM objective is a quadratic with Hessian G). ``theta`` may be (R, p)."""
    _check_model(model)
    th = check_array(theta, "theta")
    if th.shape[-1] != model.n_params:
        raise ValueError(f"theta must have {model.n_params} entries in its last axis")
    diff = th - population["theta_star"]
    return np.einsum("...i,ij,...j->...", diff, population["G"], diff)


def fit_dsm_replicates(model, xt, x0, alpha, sigma):
    """Denoising score-matching fits of R independent data sets at once.

    ``xt`` and ``x0`` have shape (R, n, d): replicate r is the fit :func:`fit_dsm` would return
    on ``xt[r], x0[r]`` (the features are computed once for all points). Returns (R, p).

    Examples
    --------
    >>> import numpy as np
    >>> m = RBFScoreModel([[0.0]], 1.0)
    >>> x0 = np.random.default_rng(0).normal(size=(3, 50, 1))
    >>> xt = 0.8 * x0 + 0.6 * np.random.default_rng(1).normal(size=(3, 50, 1))
    >>> th = fit_dsm_replicates(m, xt, x0, 0.8, 0.6)
    >>> bool(np.allclose(th[1], fit_dsm(m, xt[1], x0[1], 0.8, 0.6)))
    True
    """
    _check_model(model)
    xt = check_array(xt, "xt", ndim=3)
    x0 = check_array(x0, "x0", shape=xt.shape)
    R, n, d = xt.shape
    if d != model.dim:
        raise ValueError(f"xt must have {model.dim} coordinates in its last axis")
    _, target = _dsm_target(xt.reshape(-1, d), x0.reshape(-1, d), alpha, sigma)
    p = model.n_params
    out = np.empty((R, p))
    for r in range(R):
        phi, _ = model._chunk(xt[r], None)                       # (n, d, p)
        P = phi.reshape(-1, p)
        out[r] = _solve(P.T @ P / n, P.T @ target[r * n:(r + 1) * n].reshape(-1) / n, 0.0)
    return out
