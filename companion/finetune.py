"""Fine-tuning a pretrained score by continuous-time reinforcement learning: a linear-quadratic
example in which every quantity of 003 §7.3 is explicit.

Setting. The forward process is the book's OU process and the data law is N(0, c), so the
pretrained score is exact: ``s_pre(t, y) = grad log q_{T-t}(y) = -y / v(T - t)`` with
``v(tau) = c e^{-2 tau} + 1 - e^{-2 tau}``. The sampler runs in reverse time ``t in [0, T]``
from ``Y_0 ~ N(0, 1)`` with the dynamics ``dY = (Y + 2 a) dt + sqrt(2) dB`` (003 eq. 7.11 with
``f(x) = -x``, ``g = sqrt 2``) and Gaussian exploration ``a ~ N(mu_theta(t, Y), sigma_e^2)``,
``mu_theta = s_pre + theta``. The reward is quadratic, ``R(y) = -lam (y - y_star)^2`` at the
end, and the penalty is the running cost ``r(t, y, a) = -(beta / 2) g^2 |a - s_pre(t, y)|^2``.

The dynamics are linear in ``y``: with ``Phi(T, t) = exp(int_t^T (1 - 2/v(T-u)) du)
= c e^{T-t} / (e^{2(T-t)} + c - 1)``, ``I(t) = int_t^T Phi(T, u) du``, ``K = I(0)`` and
``S(t) = 2 int_t^T Phi(T, u)^2 du = c - c^2 / (e^{2(T-t)} + c - 1)``, given ``Y_t = y`` the end
point is Gaussian with mean ``Phi(T, t) y + 2 theta I(t)`` and variance ``S(t)``. Hence

    E Y_T = 2 theta K,   Var Y_T = Phi(T, 0)^2 + S(0),
    J(theta) = -lam ((2 theta K - y_star)^2 + Var Y_T) - beta T (theta^2 + sigma_e^2),
    V(t, y) = -lam ((Phi(T, t) y + 2 theta I(t) - y_star)^2 + S(t)) - beta (T - t)(theta^2 + sigma_e^2),

and V is quadratic in ``y``: its Laplacian ``-2 lam Phi(T, t)^2`` is the term of the q-function
that 003 eq. 7.15 drops.

:func:`policy_gradient_mc` simulates the policy-gradient estimator of 003 Theorem 7.3 with a
counter-based Numba kernel (sampled actions on a time grid); :meth:`LQFineTuning.grid_gradient`
is its exact expectation on that grid, and :func:`policy_gradient_ascent` runs stochastic
gradient ascent on ``theta`` with it.
"""
import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_seed

__all__ = ["LQFineTuning", "policy_gradient_mc", "policy_gradient_ascent"]


class LQFineTuning:
    """The linear-quadratic fine-tuning problem (see the module docstring).

    Parameters
    ----------
    c : float, > 0
        Variance of the data law N(0, c).
    T : float, > 0
        Horizon.
    lam : float, >= 0
        Weight of the terminal reward ``R(y) = -lam (y - y_star)^2``.
    y_star : float
        Where the reward wants the output.
    beta : float, >= 0
        Weight of the KL penalty.
    sigma_e : float, > 0
        Standard deviation of the Gaussian exploration.

    Examples
    --------
    >>> p = LQFineTuning()
    >>> round(p.dJ(0.2), 10)
    0.3256886831
    """

    def __init__(self, c=2.0, T=2.0, lam=0.25, y_star=2.0, beta=2.0, sigma_e=0.3):
        self.c = check_float(c, "c", low=0.0, low_open=True)
        self.T = check_float(T, "T", low=0.0, low_open=True)
        self.lam = check_float(lam, "lam", low=0.0)
        self.y_star = check_float(y_star, "y_star")
        self.beta = check_float(beta, "beta", low=0.0)
        self.sigma_e = check_float(sigma_e, "sigma_e", low=0.0, low_open=True)

    def __repr__(self):
        return (f"LQFineTuning(c={self.c:g}, T={self.T:g}, lam={self.lam:g}, "
                f"y_star={self.y_star:g}, beta={self.beta:g}, sigma_e={self.sigma_e:g})")

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

    def dphi_dt(self, t):
        """``d Phi(T, t) / dt = -(1 - 2 / v(T - t)) Phi(T, t)``."""
        t = self._times(t)
        return -(1 - 2 / self.v(self.T - t)) * self.phi(t)

    def phi_integral(self, t):
        """``I(t) = int_t^T Phi(T, u) du`` in closed form."""
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

    def noise_var(self, t):
        """``S(t) = 2 int_t^T Phi(T, u)^2 du = c - c^2 / (e^{2(T-t)} + c - 1)``: the variance of
        ``Y_T`` given ``Y_t``."""
        tau = self.T - self._times(t)
        return self.c - self.c**2 / (np.exp(2 * tau) + self.c - 1)

    @property
    def K(self):
        """``K = int_0^T Phi(T, t) dt``."""
        return float(self.phi_integral(0.0))

    @property
    def var_YT(self):
        """``Var Y_T = Phi(T, 0)^2 + S(0)`` (the same for every theta)."""
        return float(self.phi(0.0) ** 2 + self.noise_var(0.0))

    # ------------------------------------------------------------- objective and value
    def J(self, theta):
        """``J(theta) = E R(Y_T) + E int r dt``."""
        theta = check_array(theta, "theta")
        return (-self.lam * ((2 * theta * self.K - self.y_star) ** 2 + self.var_YT)
                - self.beta * self.T * (theta**2 + self.sigma_e**2))

    def dJ(self, theta):
        """``dJ/dtheta = -4 lam K (2 theta K - y_star) - 2 beta T theta`` (closed form)."""
        theta = check_float(theta, "theta")
        return float(-4 * self.lam * self.K * (2 * theta * self.K - self.y_star)
                     - 2 * self.beta * self.T * theta)

    def theta_running(self):
        """The maximiser of J (the running-cost objective) over constant shifts:
        ``2 lam K y_star / (4 lam K^2 + beta T)``."""
        K = self.K
        return float(2 * self.lam * K * self.y_star / (4 * self.lam * K * K + self.beta * self.T))

    def theta_terminal(self):
        """The maximiser over constant shifts of ``E R(Y_T) - beta KL(p_theta(T) || p_pre(T))``
        (eq. 7.13 of 003, the objective the running cost stands in for):
        ``2 lam K y_star / (4 lam K^2 + 2 beta K^2 / Var Y_T)``."""
        K = self.K
        return float(2 * self.lam * K * self.y_star
                     / (4 * self.lam * K * K + 2 * self.beta * K * K / self.var_YT))

    def _gap(self, t, y, theta):
        return self.phi(t) * check_array(y, "y") + 2 * theta * self.phi_integral(t) - self.y_star

    def V(self, t, y, theta):
        """The value function of the exploratory policy at (t, y)."""
        t = self._times(t)
        theta = check_float(theta, "theta")
        return (-self.lam * (self._gap(t, y, theta) ** 2 + self.noise_var(t))
                - self.beta * (self.T - t) * (theta**2 + self.sigma_e**2))

    def dV_dt(self, t, y, theta):
        """``d V / d t`` in closed form (``dI/dt = -Phi``, ``dS/dt = -2 Phi^2``)."""
        t = self._times(t)
        theta = check_float(theta, "theta")
        ph = self.phi(t)
        dgap = self.dphi_dt(t) * check_array(y, "y") - 2 * theta * ph
        return (-self.lam * (2 * self._gap(t, y, theta) * dgap - 2 * ph * ph)
                + self.beta * (theta**2 + self.sigma_e**2))

    def dV_dy(self, t, y, theta):
        """``d V / d y = -2 lam Phi(T, t) (Phi(T, t) y + 2 theta I(t) - y_star)``."""
        t = self._times(t)
        theta = check_float(theta, "theta")
        return -2 * self.lam * self.phi(t) * self._gap(t, y, theta)

    def d2V_dy2(self, t):
        """``d^2 V / d y^2 = -2 lam Phi(T, t)^2``, the same at every y."""
        return -2 * self.lam * self.phi(t) ** 2

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
        dv = self.dV_dy(t, y, theta)
        extra = (self.d2V_dy2(t) + y * dv) if full else 0.0
        return self.dV_dt(t, y, theta) + extra + 2 * a * dv + r

    def pg_integrand(self, t, theta):
        """``E[grad_theta log pi(a) q(t, Y_t, a)] = E[g^2 dV/dy(t, Y_t)] + d/dmu E_a r
        = -4 lam Phi(T, t) (2 theta K - y_star) - 2 beta theta``, the expectation over ``Y_t``
        taken with ``E[Phi(T, t) Y_t + 2 theta I(t)] = E Y_T``."""
        theta = check_float(theta, "theta")
        return (-4 * self.lam * self.phi(t) * (2 * theta * self.K - self.y_star)
                - 2 * self.beta * theta)

    def grid_gradient(self, theta, n_steps):
        """The exact expectation of :func:`policy_gradient_mc` on its grid of ``n_steps`` steps:
        ``h sum_k (E[2 dV/dy(t_k, Y_k)] - 2 beta theta)``, with ``E Y_k`` carried by the Euler
        recursion ``m_{k+1} = m_k + (m_k + 2 (theta - m_k / v_k)) h`` (Stein's identity turns
        ``E[(a - mu) / sigma_e^2 q]`` into ``dq/da`` at ``a = mu``, exactly: q is quadratic in a)."""
        theta = check_float(theta, "theta")
        n_steps = check_int(n_steps, "n_steps", low=1)
        h = self.T / n_steps
        t = np.arange(n_steps) * h
        v, ph, I = self.v(self.T - t), self.phi(t), self.phi_integral(t)
        m, total = 0.0, 0.0
        for k in range(n_steps):
            total += h * (-4 * self.lam * ph[k] * (ph[k] * m + 2 * theta * I[k] - self.y_star)
                          - 2 * self.beta * theta)
            m = m + (m + 2 * (theta - m / v[k])) * h
        return float(total)

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
def _pg_kernel(v, ph, dph, I, lam, y_star, beta, sigma_e, theta, h, full, seed, est, yT):
    n = est.shape[0]
    n_steps = v.shape[0]
    for p in prange(n):
        # scratch for the normal draws, one pair per path: allocated inside the loop, so that
        # no two threads ever write into the same buffer
        z = np.empty(2)
        z1 = np.empty(1)
        rng._fill_normals(seed, 0, p, z1)
        y = z1[0]
        acc = 0.0
        for k in range(n_steps):
            s_pre = -y / v[k]
            mu = s_pre + theta
            rng._fill_normals(seed, k + 1, p, z)
            a = mu + sigma_e * z[0]
            gap = ph[k] * y + 2 * theta * I[k] - y_star
            dv_dy = -2 * lam * ph[k] * gap
            dv_dt = (-lam * (2 * gap * (dph[k] * y - 2 * theta * ph[k]) - 2 * ph[k] * ph[k])
                     + beta * (theta * theta + sigma_e * sigma_e))
            r = -beta * (a - s_pre) * (a - s_pre)
            q = dv_dt + 2 * a * dv_dy + r
            if full:
                q += -2 * lam * ph[k] * ph[k] + y * dv_dy
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
    h = problem.T / n_steps
    t = np.arange(n_steps) * h
    _pg_kernel(problem.v(problem.T - t), problem.phi(t), problem.dphi_dt(t),
               problem.phi_integral(t), problem.lam, problem.y_star, problem.beta,
               problem.sigma_e, theta, h, bool(full), np.uint64(seed), est, yT)
    return est, yT


def policy_gradient_ascent(problem, theta0, steps, lr, n_paths, n_steps, seed):
    """Stochastic gradient ascent on ``theta`` with the Monte Carlo policy gradient
    (:func:`policy_gradient_mc`, full q-function): ``theta_{j+1} = theta_j + lr * mean(est_j)``.

    Iteration ``j`` draws its paths with seed ``seed + j``, so runs with different seeds far
    apart are independent.

    Returns
    -------
    ndarray, shape (steps + 1,)
        The iterates ``theta_0, ..., theta_steps``.

    Examples
    --------
    >>> p = LQFineTuning()
    >>> th = policy_gradient_ascent(p, 0.0, 40, 0.05, 2000, 50, seed=0)
    >>> bool(abs(th[20:].mean() - p.theta_running()) < 0.02)
    True
    """
    if not isinstance(problem, LQFineTuning):
        raise ValueError("problem must be an LQFineTuning")
    theta = check_float(theta0, "theta0")
    steps = check_int(steps, "steps", low=1)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    n_paths = check_int(n_paths, "n_paths", low=2)
    n_steps = check_int(n_steps, "n_steps", low=1)
    seed = check_seed(seed)
    out = np.empty(steps + 1)
    out[0] = theta
    for j in range(steps):
        est, _ = policy_gradient_mc(problem, theta, n_paths, n_steps, seed + j, full=True)
        theta = theta + lr * float(est.mean())
        out[j + 1] = theta
    return out
