"""Target laws: every target is a Gaussian mixture.

A Gaussian is a mixture with one component; a discrete law is a mixture whose components have
zero covariance. Mixtures are closed under the Gaussian channel ``Y = a X + sigma N``, so the
noised law, its score and Hessian, and the posterior of ``X`` given ``Y`` are all available in
closed form. That is the oracle every chapter checks its identities against.

Responsibilities, log-densities and posteriors are computed with a log-sum-exp over
components, in parallel Numba kernels over points; none of them depends on the number of
threads.
"""
import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_points, check_seed

__all__ = [
    "GaussianMixture", "gaussian", "discrete", "bimodal", "ring", "lopsided", "rademacher", "standardise",
]

_LOG_2PI = np.log(2.0 * np.pi)


# --------------------------------------------------------------------------------- kernels
@njit(cache=True, inline="always")
def _log_resp(x, log_w, centers, prec, logdet, lk, pdiff):
    """log p(x) for one point; fills lk with log responsibilities and pdiff[k] = P_k (x - c_k)."""
    K, d = centers.shape
    for k in range(K):
        quad = 0.0
        for a in range(d):
            acc = 0.0
            for b in range(d):
                acc += prec[k, a, b] * (x[b] - centers[k, b])
            pdiff[k, a] = acc
            quad += acc * (x[a] - centers[k, a])
        lk[k] = log_w[k] - 0.5 * (quad + logdet[k] + d * _LOG_2PI)
    top = -np.inf
    for k in range(K):
        if lk[k] > top:
            top = lk[k]
    acc = 0.0
    for k in range(K):
        acc += np.exp(lk[k] - top)
    logp = top + np.log(acc)
    for k in range(K):
        lk[k] = lk[k] - logp
    return logp


@njit(cache=True, inline="always")
def _mixture_score(x, log_w, centers, prec, logdet, lk, pdiff, out):
    """grad log q(x) into ``out``: -sum_k r_k(x) P_k (x - m_k), with the responsibilities of
    :func:`_log_resp` (``lk`` and ``pdiff`` are its scratch). For the sampler-like kernels that
    need the score of one point per step."""
    _log_resp(x, log_w, centers, prec, logdet, lk, pdiff)
    for a in range(out.shape[0]):
        s = 0.0
        for c in range(lk.shape[0]):
            s -= np.exp(lk[c]) * pdiff[c, a]
        out[a] = s


@njit(cache=True, parallel=True)
def _eval_kernel(x, log_w, centers, prec, logdet, order, logp_out, score_out, hess_out):
    # order 0: log-density; 1: + score; 2: + Hessian.
    n, d = x.shape
    K = centers.shape[0]
    for i in prange(n):
        lk = np.empty(K)
        pdiff = np.empty((K, d))
        logp_out[i] = _log_resp(x[i], log_w, centers, prec, logdet, lk, pdiff)
        if order >= 1:
            for a in range(d):
                score_out[i, a] = 0.0
            for k in range(K):
                r = np.exp(lk[k])
                for a in range(d):
                    score_out[i, a] -= r * pdiff[k, a]
        if order >= 2:
            for a in range(d):
                for b in range(d):
                    hess_out[i, a, b] = -score_out[i, a] * score_out[i, b]
            for k in range(K):
                r = np.exp(lk[k])
                for a in range(d):
                    for b in range(d):
                        hess_out[i, a, b] += r * (pdiff[k, a] * pdiff[k, b] - prec[k, a, b])


@njit(cache=True, parallel=True)
def _posterior_kernel(y, log_w, centers, prec, logdet, means, gain, pcov, want_cov,
                      mean_out, cov_out):
    n, d = y.shape
    K = centers.shape[0]
    for i in prange(n):
        lk = np.empty(K)
        pdiff = np.empty((K, d))
        mk = np.empty((K, d))
        _log_resp(y[i], log_w, centers, prec, logdet, lk, pdiff)
        for a in range(d):
            mean_out[i, a] = 0.0
        for k in range(K):
            r = np.exp(lk[k])
            for a in range(d):
                acc = means[k, a]
                for b in range(d):
                    acc += gain[k, a, b] * (y[i, b] - centers[k, b])
                mk[k, a] = acc
                mean_out[i, a] += r * acc
        if want_cov:
            for a in range(d):
                for b in range(d):
                    cov_out[i, a, b] = 0.0
            for k in range(K):
                r = np.exp(lk[k])
                for a in range(d):
                    da = mk[k, a] - mean_out[i, a]
                    for b in range(d):
                        cov_out[i, a, b] += r * (pcov[k, a, b] + da * (mk[k, b] - mean_out[i, b]))


@njit(cache=True, parallel=True)
def _sample_kernel(cum_w, means, roots, seed, out):
    n, d = out.shape
    K = means.shape[0]
    for i in prange(n):
        u = rng._uniform(seed, 0, i)
        k = 0
        while k < K - 1 and u > cum_w[k]:
            k += 1
        z = np.empty(d)
        rng._fill_normals(seed, 0, i, z)
        for a in range(d):
            acc = means[k, a]
            for b in range(d):
                acc += roots[k, a, b] * z[b]
            out[i, a] = acc


# ------------------------------------------------------------------------------ the class
def _psd_root(c):
    """Symmetric square root of a PSD matrix (works for singular ones)."""
    lam, vec = np.linalg.eigh(c)
    return (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T


def _gaussian_params(covs):
    """Precisions and log-determinants; None where a covariance is singular."""
    K, d, _ = covs.shape
    prec = np.empty_like(covs)
    logdet = np.empty(K)
    for k in range(K):
        try:
            L = np.linalg.cholesky(covs[k])
        except np.linalg.LinAlgError:
            return None
        diag = np.diag(L)
        if np.min(diag) <= 1e-150:
            return None
        Linv = np.linalg.solve(L, np.eye(d))
        prec[k] = Linv.T @ Linv
        logdet[k] = 2.0 * np.sum(np.log(diag))
    return prec, logdet


class GaussianMixture:
    """The law ``sum_k w_k N(m_k, C_k)`` on R^d, with full (possibly zero) covariances.

    Parameters
    ----------
    weights : array_like, shape (K,)
        Non-negative, summing to one (to 1e-10).
    means : array_like, shape (K, d)
    covs : array_like, shape (K, d, d)
        Symmetric positive semi-definite; zero is allowed (a point mass).

    Examples
    --------
    >>> mu = GaussianMixture([0.5, 0.5], [[-1.0], [1.0]], [[[0.2]], [[0.2]]])
    >>> mu.dim, mu.n_components
    (1, 2)
    >>> float(mu.cov()[0, 0])
    1.2
    """

    def __init__(self, weights, means, covs):
        w = check_array(weights, "weights", ndim=1)
        K = w.shape[0]
        if K == 0:
            raise ValueError("weights must have at least one entry")
        if np.any(w < 0):
            raise ValueError("weights must be non-negative")
        if abs(w.sum() - 1.0) > 1e-10:
            raise ValueError(f"weights must sum to one, got {w.sum()!r}")
        m = check_array(means, "means", ndim=2)
        if m.shape[0] != K:
            raise ValueError(f"means must have shape ({K}, d) to match weights, got {m.shape}")
        d = m.shape[1]
        if d == 0:
            raise ValueError("means must have at least one column (d >= 1)")
        c = check_array(covs, "covs", shape=(K, d, d))
        if not np.allclose(c, np.swapaxes(c, 1, 2), rtol=0, atol=1e-12 * (1 + np.abs(c).max())):
            raise ValueError("covs must be symmetric")
        c = 0.5 * (c + np.swapaxes(c, 1, 2))
        for k in range(K):
            lam = np.linalg.eigvalsh(c[k])
            if lam.min() < -1e-10 * max(1.0, lam.max()):
                raise ValueError(f"covs[{k}] must be positive semi-definite "
                                 f"(smallest eigenvalue {lam.min():.3g})")
        self.weights = w / w.sum()
        self.means = m
        self.covs = c
        for a in (self.weights, self.means, self.covs):
            a.setflags(write=False)
        self._params = None
        self._roots = None

    # -------------------------------------------------------------------- basic facts
    @property
    def dim(self):
        """Dimension d of the space."""
        return self.means.shape[1]

    @property
    def n_components(self):
        """Number K of components."""
        return self.weights.shape[0]

    def mean(self):
        """Mean vector, shape (d,)."""
        return self.weights @ self.means

    def cov(self):
        """Covariance matrix, shape (d, d): within-component plus between-component parts."""
        mu = self.mean()
        dev = self.means - mu
        return (np.einsum("k,kab->ab", self.weights, self.covs)
                + np.einsum("k,ka,kb->ab", self.weights, dev, dev))

    @property
    def has_density(self):
        """True when every covariance is positive definite (so logpdf and score exist)."""
        return self._density_params() is not None

    def __repr__(self):
        return f"GaussianMixture(K={self.n_components}, d={self.dim})"

    # ---------------------------------------------------------------- closed operations
    def channel(self, a, sigma):
        """Law of ``a X + sigma N`` with N ~ N(0, I) independent of X: again a mixture.

        Examples
        --------
        >>> mu = gaussian([1.0], [[2.0]])
        >>> nu = mu.channel(0.5, 1.0)
        >>> float(nu.means[0, 0]), float(nu.covs[0, 0, 0])
        (0.5, 1.5)
        """
        a = check_float(a, "a")
        sigma = check_float(sigma, "sigma", low=0.0)
        covs = a * a * self.covs + sigma * sigma * np.eye(self.dim)
        return GaussianMixture(self.weights, a * self.means, covs)

    def at(self, t):
        """The OU marginal q_t: law of ``e^{-t} X_0 + sqrt(1 - e^{-2t}) G``.

        Examples
        --------
        >>> q = rademacher(1).at(1.0)
        >>> bool(abs(q.cov()[0, 0] - 1.0) < 1e-12)
        True
        """
        t = check_float(t, "t", low=0.0)
        return self.channel(np.exp(-t), np.sqrt(-np.expm1(-2.0 * t)))

    def affine(self, A, b=None):
        """Law of ``A X + b`` for a (d', d) matrix A and a vector b of length d'."""
        A = check_array(A, "A", ndim=2)
        if A.shape[1] != self.dim:
            raise ValueError(f"A must have {self.dim} columns, got shape {A.shape}")
        b = np.zeros(A.shape[0]) if b is None else check_array(b, "b", shape=(A.shape[0],))
        covs = np.einsum("ia,kab,jb->kij", A, self.covs, A)
        return GaussianMixture(self.weights, self.means @ A.T + b, covs)

    def standardised(self):
        """The same mixture moved to mean 0 and covariance I (by C^{-1/2} (x - m))."""
        return standardise(self)

    # ------------------------------------------------------------------------ sampling
    def sample(self, n, seed):
        """``n`` independent draws, shape (n, d), from the counter-based generator.

        Examples
        --------
        >>> x = ring().sample(5, seed=0)
        >>> x.shape
        (5, 2)
        """
        n = check_int(n, "n", low=1)
        seed = check_seed(seed)
        if self._roots is None:
            self._roots = np.array([_psd_root(c) for c in self.covs])
        cum = np.cumsum(self.weights)
        out = np.empty((n, self.dim))
        _sample_kernel(cum, self.means, self._roots, np.uint64(seed), out)
        return out

    # ----------------------------------------------------------------- density and score
    def _density_params(self):
        if self._params is None:
            p = _gaussian_params(self.covs)
            self._params = False if p is None else p
        return None if self._params is False else self._params

    def _eval(self, x, order):
        params = self._density_params()
        if params is None:
            raise ValueError("this mixture has a singular covariance and no density; "
                             "smooth it first, e.g. with channel(a, sigma) or at(t)")
        pts, single = check_points(x, self.dim)
        n, d = pts.shape
        logp = np.empty(n)
        score = np.empty((n, d)) if order >= 1 else np.empty((1, 1))
        hess = np.empty((n, d, d)) if order >= 2 else np.empty((1, 1, 1))
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        _eval_kernel(pts, log_w, self.means, params[0], params[1], order, logp, score, hess)
        out = (logp, score, hess)[order]
        return out[0] if single else out

    def logpdf(self, x):
        """log density at x of shape (d,) or (n, d).

        Examples
        --------
        >>> import numpy as np
        >>> v = gaussian([0.0], [[1.0]]).logpdf([0.0])
        >>> bool(np.isclose(v, -0.5 * np.log(2 * np.pi)))
        True
        """
        return self._eval(x, 0)

    def pdf(self, x):
        """Density at x (exp of logpdf)."""
        return np.exp(self.logpdf(x))

    def score(self, x):
        """grad log p at x of shape (d,) or (n, d).

        Examples
        --------
        >>> gaussian([0.0, 0.0], [[2.0, 0.0], [0.0, 2.0]]).score([1.0, -1.0])
        array([-0.5,  0.5])
        """
        return self._eval(x, 1)

    def hessian(self, x):
        """Hessian of log p at x: shape (d, d) or (n, d, d)."""
        return self._eval(x, 2)

    # ---------------------------------------------------------------------- posterior
    def _posterior(self, y, a, sigma, want_cov):
        a = check_float(a, "a")
        sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
        pts, single = check_points(y, self.dim, "y")
        d = self.dim
        S = a * a * self.covs + sigma * sigma * np.eye(d)
        params = _gaussian_params(S)
        if params is None:  # cannot happen for sigma > 0 unless sigma underflows
            raise ValueError(f"sigma={sigma!r} is too small for the covariances")
        prec, logdet = params
        gain = np.einsum("kab,kbc->kac", self.covs, prec) * a          # a C S^{-1}
        pcov = self.covs - a * np.einsum("kab,kbc->kac", gain, self.covs)
        pcov = 0.5 * (pcov + np.swapaxes(pcov, 1, 2))
        n = pts.shape[0]
        mean = np.empty((n, d))
        cov = np.empty((n, d, d)) if want_cov else np.empty((1, 1, 1))
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        _posterior_kernel(pts, log_w, a * self.means, prec, logdet, self.means, gain, pcov,
                          want_cov, mean, cov)
        if single:
            mean, cov = mean[0], cov[0]
        return (mean, cov) if want_cov else mean

    def posterior(self, y, a, sigma):
        """Posterior mean and covariance of X given ``a X + sigma N = y``.

        Parameters
        ----------
        y : array_like, shape (d,) or (n, d)
        a : float
        sigma : float, > 0

        Returns
        -------
        mean : ndarray, shape (d,) or (n, d)
        cov : ndarray, shape (d, d) or (n, d, d)

        Examples
        --------
        >>> m, c = gaussian([0.0], [[1.0]]).posterior([2.0], a=1.0, sigma=1.0)
        >>> round(float(m[0]), 12), round(float(c[0, 0]), 12)
        (1.0, 0.5)
        """
        return self._posterior(y, a, sigma, True)

    def posterior_mean(self, y, a, sigma):
        """Posterior mean only (cheaper than :meth:`posterior`)."""
        return self._posterior(y, a, sigma, False)


# --------------------------------------------------------------------------- constructors
def gaussian(mean, cov):
    """The Gaussian N(mean, cov) as a one-component mixture.

    Examples
    --------
    >>> gaussian([0.0, 1.0], [[1.0, 0.5], [0.5, 1.0]]).dim
    2
    """
    m = check_array(mean, "mean", ndim=1)
    c = check_array(cov, "cov", shape=(m.shape[0], m.shape[0]))
    return GaussianMixture([1.0], m[None, :], c[None, :, :])


def discrete(atoms, weights):
    """The discrete law ``sum_k w_k delta_{atoms[k]}`` (zero-covariance components).

    Examples
    --------
    >>> nu = discrete([[-1.0], [1.0]], [0.5, 0.5])
    >>> nu.has_density
    False
    """
    x = check_array(atoms, "atoms", ndim=2)
    w = check_array(weights, "weights", ndim=1)
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"weights must have {x.shape[0]} entries, one per atom, got {w.shape[0]}")
    return GaussianMixture(w, x, np.zeros((x.shape[0], x.shape[1], x.shape[1])))


def bimodal(separation=2.0, var=0.25, weight=0.3):
    """1-D preset: ``weight N(-separation, var) + (1 - weight) N(separation, var)``."""
    separation = check_float(separation, "separation", low=0.0)
    var = check_float(var, "var", low=0.0)
    weight = check_float(weight, "weight", low=0.0, high=1.0)
    return GaussianMixture([weight, 1.0 - weight], [[-separation], [separation]],
                           [[[var]], [[var]]])


def ring(d=2, k=8, radius=2.0, radial_var=0.02, tangential_var=0.12):
    """Preset: ``k`` equal components on a circle of the first two coordinates.

    Each component is stretched along the circle (a full covariance: ``tangential_var``
    along the tangent, ``radial_var`` across it); further coordinates, when ``d > 2``, are
    independent with variance ``radial_var``.
    """
    d = check_int(d, "d", low=2)
    k = check_int(k, "k", low=1)
    radius = check_float(radius, "radius", low=0.0)
    radial_var = check_float(radial_var, "radial_var", low=0.0)
    tangential_var = check_float(tangential_var, "tangential_var", low=0.0)
    angles = 2.0 * np.pi * np.arange(k) / k
    means = np.zeros((k, d))
    means[:, 0] = radius * np.cos(angles)
    means[:, 1] = radius * np.sin(angles)
    covs = np.zeros((k, d, d))
    for j, th in enumerate(angles):
        u = np.array([np.cos(th), np.sin(th)])     # radial direction
        v = np.array([-np.sin(th), np.cos(th)])    # tangent
        covs[j, :2, :2] = radial_var * np.outer(u, u) + tangential_var * np.outer(v, v)
        covs[j, 2:, 2:] = radial_var * np.eye(d - 2)
    return GaussianMixture(np.full(k, 1.0 / k), means, covs)


def lopsided(d=1):
    """Preset with components of different sizes, hence different determinants:
    ``0.5 N(-1.5 e1, 0.09 A) + 0.3 N(0.5 e1, 0.6 A) + 0.2 N(2.5 e1, 0.25 A)`` with
    ``A = 0.6 I + 0.4 J / d`` (J the all-ones matrix; A = 1 when d = 1).

    A check run on it sees the normalising factor det(C_k)^{-1/2} of every component, which
    cancels from the responsibilities of a mixture whose components share one determinant.

    Examples
    --------
    >>> q = lopsided()
    >>> q.covs[:, 0, 0].tolist()
    [0.09, 0.6, 0.25]
    """
    d = check_int(d, "d", low=1)
    A = 0.6 * np.eye(d) + 0.4 * np.ones((d, d)) / d
    means = np.zeros((3, d))
    means[:, 0] = [-1.5, 0.5, 2.5]
    return GaussianMixture([0.5, 0.3, 0.2], means, [v * A for v in (0.09, 0.6, 0.25)])


def rademacher(d=1):
    """Uniform law on the corners {-1, 1}^d (2^d atoms; d <= 12)."""
    d = check_int(d, "d", low=1, high=12)
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * d, indexing="ij")).reshape(d, -1).T
    return discrete(corners, np.full(corners.shape[0], 1.0 / corners.shape[0]))


def standardise(mixture):
    """Return the mixture moved to mean 0 and covariance I by ``x -> C^{-1/2} (x - m)``.

    Examples
    --------
    >>> import numpy as np
    >>> mu = standardise(ring())
    >>> bool(np.allclose(mu.cov(), np.eye(2)) and np.allclose(mu.mean(), 0))
    True
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    c = mixture.cov()
    lam, vec = np.linalg.eigh(c)
    if lam.min() <= 1e-12 * max(1.0, lam.max()):
        raise ValueError("mixture must have a non-singular covariance to be standardised")
    W = (vec / np.sqrt(lam)) @ vec.T
    return mixture.affine(W, -W @ mixture.mean())
