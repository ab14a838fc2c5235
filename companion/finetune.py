"""Fine-tuning a pretrained score by continuous-time reinforcement learning: a linear-quadratic
example in which every quantity of 003 §7.3 is explicit.

Setting. The forward process is the book's OU process and the data law is N(0, c), so the
pretrained score is exact: ``s_pre(t, y) = grad log q_{T-t}(y) = -y / v(T - t)`` with
``v(tau) = c e^{-2 tau} + 1 - e^{-2 tau}``. The sampler runs in reverse time ``t in [0, T]``
from ``Y_0 ~ N(0, 1)`` with the dynamics ``dY = (Y + 2 a) dt + sqrt(2) dB`` (003 eq. 7.11 with
``f(x) = -x``, ``g = sqrt 2``) and Gaussian exploration ``a ~ N(mu_theta(t, Y), sigma_e^2)``,
``mu_theta = s_pre + theta``. The reward is ``R(y) = lam y`` at the end, and the penalty is the
running cost ``r(t, y, a) = -(beta / 2) g^2 |a - s_pre(t, y)|^2``.

Everything is linear in ``y``: with ``Phi(T, t) = exp(int_t^T (1 - 2/v(T-u)) du)
= c e^{T-t} / (e^{2(T-t)} + c - 1)`` and ``K = int_0^T Phi(T, t) dt``,

    E Y_T = 2 theta K,   Var Y_T = Phi(T, 0)^2 + 2 int_0^T Phi(T, t)^2 dt,
    J(theta) = 2 lam theta K - beta T (theta^2 + sigma_e^2),
    V(t, y) = lam (Phi(T, t) y + 2 theta int_t^T Phi(T, u) du) - beta (T - t)(theta^2 + sigma_e^2).

:func:`policy_gradient_mc` simulates the policy-gradient estimator of 003 Theorem 7.3 with a
counter-based Numba kernel (sampled actions on a time grid).
"""
import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_seed

__all__ = ["LQFineTuning", "policy_gradient_mc"]


class LQFineTuning:
    """The linear-quadratic fine-tuning problem (see the module docstring).

    Parameters
    ----------
    c : float, > 0
        Variance of the data law N(0, c).
    T : float, > 0
        Horizon.
    lam : float
        Slope of the terminal reward ``R(y) = lam y``.
    beta : float, >= 0
        Weight of the KL penalty.
    sigma_e : float, > 0
        Standard deviation of the Gaussian exploration.

    Examples
    --------
    >>> p = LQFineTuning(c=2.0, T=2.0, lam=1.0, beta=0.5, sigma_e=0.3)
    >>> round(p.dJ(0.3), 10)
    2.0035206721
    """

    def __init__(self, c=2.0, T=2.0, lam=1.0, beta=0.5, sigma_e=0.3):
        self.c = check_float(c, "c", low=0.0, low_open=True)
        self.T = check_float(T, "T", low=0.0, low_open=True)
        self.lam = check_float(lam, "lam")
        self.beta = check_float(beta, "beta", low=0.0)
        self.sigma_e = check_float(sigma_e, "sigma_e", low=0.0, low_open=True)

    def __repr__(self):
        return (f"LQFineTuning(c={self.c:g}, T={self.T:g}, lam={self.lam:g}, "
                f"beta={self.beta:g}, sigma_e={self.sigma_e:g})")

    def _times(self, t):
        t = check_array(t, "t")
        if np.any(t < 0) or np.any(t > self.T):
            raise ValueError(f"t must lie in [0, T] = [0, {self.T:g}]")
        return t

    # ------------------------------------------------------------- the pretrained model
    def v(self, tau):
        """Variance of the forward marginal q_tau: ``c e^{-2 tau} + 1 - e^{-2 tau}``."""
        tau = check_array(tau, "tau")
        return self.c * np.exp(-2 * tau) - np.expm1(-2 * tau)

    def s_pre(self, t, y):
        """The pretrained (exact) score in reverse time: ``-y / v(T - t)``."""
        t = self._times(t)
        return -check_array(y, "y") / self.v(self.T - t)

    def phi(self, t):
        """``Phi(T, t) = c e^{T-t} / (e^{2(T-t)} + c - 1)``: the factor by which the pretrained
        reverse dynamics carries ``Y_t`` to ``Y_T``."""
        tau = self.T - self._times(t)
        return self.c * np.exp(tau) / (np.exp(2 * tau) + self.c - 1)

    def phi_integral(self, t):
        """``int_t^T Phi(T, u) du`` in closed form."""
        tau = self.T - self._times(t)
        c = self.c
        if c > 1:
            r = np.sqrt(c - 1)
            return c / r * (np.arctan(np.exp(tau) / r) - np.arctan(1 / r))
        if c < 1:
            r = np.sqrt(1 - c)
            return c / (2 * r) * (np.log((np.exp(tau) - r) / (np.exp(tau) + r))
                                  - np.log((1 - r) / (1 + r)))
        return 1 - np.exp(-tau)

    @property
    def K(self):
        """``K = int_0^T Phi(T, t) dt``."""
        return float(self.phi_integral(0.0))

    @property
    def var_YT(self):
        """``Var Y_T = Phi(T, 0)^2 + 2 int_0^T Phi(T, t)^2 dt`` (the same for every theta)."""
        c, e = self.c, np.exp(2 * self.T)
        return float(self.phi(0.0) ** 2 + c - c * c / (e + c - 1))

    # ------------------------------------------------------------- objective and value
    def J(self, theta):
        """``J(theta) = E R(Y_T) + E int r dt = 2 lam theta K - beta T (theta^2 + sigma_e^2)``."""
        theta = check_array(theta, "theta")
        return 2 * self.lam * theta * self.K - self.beta * self.T * (theta**2 + self.sigma_e**2)

    def dJ(self, theta):
        """``dJ/dtheta = 2 lam K - 2 beta T theta`` (closed form)."""
        theta = check_float(theta, "theta")
        return float(2 * self.lam * self.K - 2 * self.beta * self.T * theta)

    def V(self, t, y, theta):
        """The value function of the exploratory policy at (t, y)."""
        t = self._times(t)
        theta = check_float(theta, "theta")
        return (self.lam * (self.phi(t) * check_array(y, "y") + 2 * theta * self.phi_integral(t))
                - self.beta * (self.T - t) * (theta**2 + self.sigma_e**2))

    def dV_dt(self, t, y, theta):
        """``d V / d t`` in closed form (``d Phi(T,t)/dt = -(1 - 2/v(T-t)) Phi(T,t)``)."""
        t = self._times(t)
        theta = check_float(theta, "theta")
        ph = self.phi(t)
        dph = -(1 - 2 / self.v(self.T - t)) * ph
        return (self.lam * (dph * check_array(y, "y") - 2 * theta * ph)
                + self.beta * (theta**2 + self.sigma_e**2))

    def dV_dy(self, t, theta):
        """``d V / d y = lam Phi(T, t)`` (V is linear in y, so its Laplacian is 0)."""
        return self.lam * self.phi(t)

    def q(self, t, y, a, theta, full=True):
        """The q-function at (t, y, a).

        ``full=True``: the continuous-time q-function (the Hamiltonian)
        ``dV/dt + (1/2) g^2 Lap V + (y + g^2 a) dV/dy + r``, whose mean under the policy is 0.
        ``full=False``: the version printed in 003 eq. 7.15, ``dV/dt + g^2 a dV/dy + r``.
        """
        t = self._times(t)
        y = check_array(y, "y")
        a = check_array(a, "a")
        theta = check_float(theta, "theta")
        r = -self.beta * (a - self.s_pre(t, y)) ** 2          # (beta/2) g^2 with g^2 = 2
        drift = (y + 2 * a) if full else 2 * a
        return self.dV_dt(t, y, theta) + drift * self.dV_dy(t, theta) + r

    def pg_integrand(self, t, theta):
        """``E_pi[grad_theta log pi(a) q(t, y, a)] = g^2 dV/dy + d/dmu E_a r
        = 2 lam Phi(T, t) - 2 beta theta`` (independent of y)."""
        theta = check_float(theta, "theta")
        return 2 * self.lam * self.phi(t) - 2 * self.beta * theta

    # ------------------------------------------------------------------- divergences
    def terminal_kl(self, theta):
        """``KL(p_theta(T) || p_pre(T))``: two Gaussians with equal variances, means
        ``2 theta K`` and 0."""
        theta = check_array(theta, "theta")
        return 2 * theta**2 * self.K**2 / self.var_YT

    def path_kl(self, theta):
        """Girsanov's path KL between the exploratory and pretrained dynamics from the same start:
        ``(1/2) int g^2 |mu_theta - s_pre|^2 dt = theta^2 T``."""
        theta = check_array(theta, "theta")
        return theta**2 * self.T


@njit(cache=True, parallel=True)
def _pg_kernel(c, T, lam, beta, sigma_e, theta, n_steps, full, seed, est, yT):
    n = est.shape[0]
    h = T / n_steps
    for p in prange(n):
        # scratch for the normal draws, one pair per path: allocated inside the loop, so that
        # no two threads ever write into the same buffer
        z = np.empty(2)
        z1 = np.empty(1)
        rng._fill_normals(seed, 0, p, z1)
        y = z1[0]
        acc = 0.0
        for k in range(n_steps):
            t = k * h
            tau = T - t
            v = c * np.exp(-2 * tau) - np.expm1(-2 * tau)
            s_pre = -y / v
            mu = s_pre + theta
            rng._fill_normals(seed, k + 1, p, z)
            a = mu + sigma_e * z[0]
            ph = c * np.exp(tau) / (np.exp(2 * tau) + c - 1)
            dv_dy = lam * ph
            dv_dt = lam * (-(1 - 2 / v) * ph * y - 2 * theta * ph) + beta * (theta * theta + sigma_e * sigma_e)
            r = -beta * (a - s_pre) * (a - s_pre)
            drift = y + 2 * a if full else 2 * a
            q = dv_dt + drift * dv_dy + r
            acc += (a - mu) / (sigma_e * sigma_e) * q * h
            y = y + (y + 2 * a) * h + np.sqrt(2 * h) * z[1]
        est[p] = acc
        yT[p] = y


def policy_gradient_mc(problem, theta, n_paths, n_steps, seed, full=False):
    """Monte Carlo policy gradient of 003 Theorem 7.3 on a uniform grid of ``n_steps`` steps.

    Each path starts at ``Y_0 ~ N(0, 1)``, draws an action ``a_k ~ N(mu_theta(t_k, Y_k),
    sigma_e^2)`` per step, moves by Euler-Maruyama with that action, and accumulates
    ``sum_k h (a_k - mu_k) / sigma_e^2 q(t_k, Y_k, a_k)`` (the score of the Gaussian policy in
    theta is ``(a - mu) / sigma_e^2``), with the exact value function inside q.

    Returns
    -------
    est : ndarray, shape (n_paths,)
        One estimate of ``dJ/dtheta`` per path (mean it; its standard error is ``sd/sqrt n``).
    y_T : ndarray, shape (n_paths,)
        The end points.

    Examples
    --------
    >>> p = LQFineTuning()
    >>> est, yT = policy_gradient_mc(p, 0.3, 2000, 50, seed=0)
    >>> bool(abs(est.mean() - p.dJ(0.3)) < 5 * est.std() / np.sqrt(est.size) + 0.05)
    True
    """
    if not isinstance(problem, LQFineTuning):
        raise ValueError("problem must be an LQFineTuning")
    theta = check_float(theta, "theta")
    n_paths = check_int(n_paths, "n_paths", low=2)
    n_steps = check_int(n_steps, "n_steps", low=1)
    seed = check_seed(seed)
    if not isinstance(full, (bool, np.bool_)):
        raise ValueError("full must be True or False")
    est = np.empty(n_paths)
    yT = np.empty(n_paths)
    _pg_kernel(problem.c, problem.T, problem.lam, problem.beta, problem.sigma_e, theta, n_steps,
               bool(full), np.uint64(seed), est, yT)
    return est, yT
