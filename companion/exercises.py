"""Exercise registry of the course kit: what a student must compute, and how it is checked.

The exercises themselves (statement, solution) live once, in the chapters' sphinx-exercise blocks;
this module holds only what the kit needs on top of them:

* ``minutes``: an estimated working time (every exercise has one; unlisted ones get a default);
* for a computational exercise (a ``solution-start`` block whose code ends in a ``verify`` call):
  ``setup``, the number of leading lines of the solution code handed to the student (parameters,
  given objects), ``answers``, the names the student must define, ``bind``, instructor lines that
  name an answer the printed solution leaves implicit, and ``reference``, a function of the
  notebook's global environment returning one :class:`Target` per answer name.

References are computed from :mod:`companion` at check time and never stored in a student
notebook. Tolerances follow the book's rules: a Monte Carlo answer must be within five standard
errors (computed for the student's sample size), a deterministic one within a tolerance justified
by its numerics. :func:`check` raises ``AssertionError`` with a message saying how far off an
answer is, in units of its tolerance, without printing the reference.

Examples
--------
>>> from companion.exercises import check, EXERCISES
>>> env = {"m_ex": [1.0, -0.5], "alpha_ex": 4.0, "w2": 1.25, "kl": ...}
>>> check("ex-gir-talagrand", "w2", env)
>>> check("ex-gir-talagrand", "kl", env)
Traceback (most recent call last):
...
AssertionError: not answered: define `kl` in the answer cell
>>> EXERCISES["ex-gir-talagrand"].answers
('w2', 'kl')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

__all__ = ["Target", "Exercise", "EXERCISES", "DEFAULT_MINUTES", "check", "minutes"]

#: estimated minutes for an exercise not listed below: (text answer, computational answer)
DEFAULT_MINUTES = (20, 40)


@dataclass(frozen=True)
class Target:
    """A reference value and the tolerance an answer must meet (``|answer - value| <= tol``)."""

    value: object
    tol: float
    unit: str                # what the tolerance is, for the message ("five standard errors")


@dataclass(frozen=True)
class Exercise:
    label: str
    minutes: int
    setup: int = 0
    answers: tuple = ()
    reference: Optional[Callable[[dict], dict]] = field(default=None, repr=False)
    bind: str = ""
    hint: str = ""


def _cp():
    import companion as cp
    return cp


# ---- chapter 01 ----
def _ou_em_bias(env):
    h, n = float(env["h"]), int(env["n"])
    V = 1.0 / (1.0 - h / 2.0)
    se = np.sqrt(2.0 / n) * V          # standard error of the variance of n Gaussian draws
    return {"v": Target(V, 5 * se, "five standard errors of the sample variance"),
            "se": Target(se, 0.1 * se, "10 % of the standard error")}


# ---- chapter 02 ----
def _hutchinson(env):
    cp = _cp()
    d = int(env["d_probe"])
    M = cp.rng.normals(d, d, seed=60) + 3 * np.eye(d)
    S = 0.5 * (M + M.T)
    out = {}
    for name, probes, exact in (
            ("var_gauss", env.get("gauss"), 2 * np.sum(S**2)),
            ("var_rademacher", env.get("signs"), 2 * (np.sum(S**2) - np.sum(np.diag(S) ** 2)))):
        quad = np.einsum("na,ab,nb->n", np.asarray(probes, float), M, np.asarray(probes, float))
        dev2 = (quad - quad.mean()) ** 2
        out[name] = Target(exact, 5 * dev2.std() / np.sqrt(quad.size),
                           "five standard errors of the variance estimate")
    return out


# ---- chapter 03 ----
def _rev_ula(env):
    v, eps, n = float(env["v"]), float(env["eps"]), int(env["n"])
    V = v / (1 - eps / (2 * v))
    return {"V": Target(V, 5 * np.sqrt(2.0 / n) * V, "five standard errors of the sample variance")}


def _rev_paths(env):
    n = 100_000
    out = {}
    for name, rho in (("cov_sde", np.exp(-1.0)), ("cov_ode", 1.0)):
        # Var(Y0 Y1) = 1 + rho^2 for a standard Gaussian pair with correlation rho
        out[name] = Target(rho, 5 * np.sqrt((1 + rho**2) / n), "five standard errors (100 000 paths)")
    return out


def _rev_gaussian(env):
    import companion as cp
    mu, c, T, delta = 0.8, 1.29, 3.0, 1e-2
    v = c * np.exp(-2 * delta) - np.expm1(-2 * delta)
    err = []
    for n in (25, 50, 100, 200):
        m, C = cp.samplers.gaussian_output_law(cp.gaussian([mu], [[c]]), T,
                                               cp.schedules.uniform(T, n, delta=delta),
                                               method="ei", start="exact")
        err.append(abs(m[0] - np.exp(-delta) * mu) + abs(C[0, 0] - v))
    err = np.array(err)
    return {"errors_g": Target(err, 1e-9 * err.max(), "1e-9 relative (rounding of the recursion)")}


# ---- chapter 04 ----
def _gir_constant(env):
    D, T = float(env["D_gap"]), float(env["T_ex"])
    n = 100_000
    var = D**2 * T / 2
    return {"kl": Target(D**2 * T / 4, 1e-8, "1e-8 (the KL is a closed-form integral)"),
            "v": Target(var, 5 * np.sqrt(2.0 / n) * var, "five standard errors (100 000 paths)")}


def _gir_talagrand(env):
    cp = _cp()
    m, a = np.asarray(env["m_ex"], float), float(env["alpha_ex"])
    d = m.size
    kl = cp.divergences.gaussian_kl(m, np.eye(d) / a, np.zeros(d), np.eye(d) / a)
    w2 = float(np.sum(m**2))
    return {"w2": Target(w2, 1e-10 * max(1.0, w2), "1e-10 relative (exact)"),
            "kl": Target(kl, 1e-10 * max(1.0, kl), "1e-10 relative (exact)")}


# ---- chapter 06 ----
def _bbdd_err3(env):
    cp = _cp()
    c, T = float(env["c"]), float(env["T"])
    s, t = np.asarray(env["s_ex"], float), np.asarray(env["t_ex"], float)
    E = cp.bbdd.pair_moments(cp.gaussian([0.0], [[c]]), T, s, t, method="quadrature").E
    tol = 1e-9 * np.max(np.abs(E))
    return {"formula": Target(E, tol, "1e-9 relative (quadrature)"),
            "quad": Target(E, tol, "1e-9 relative (quadrature)")}


def _bbdd_start(env):
    cp = _cp()
    m, Ts = np.asarray(env["m"], float), np.asarray(env["Ts"], float)
    d = m.size
    kl = np.array([cp.divergences.gaussian_kl(np.exp(-T) * m, np.eye(d), np.zeros(d), np.eye(d))
                   for T in Ts])
    return {"kl": Target(kl, 1e-10 * np.max(np.abs(kl)), "1e-10 relative (exact)")}


# ---- chapter 07 ----
def _conv_c28(env):
    from scipy import optimize
    r = lambda T: 4 * -np.expm1(-T) / np.sqrt(2 * np.pi * T)
    tstar = optimize.minimize_scalar(lambda T: -r(T), bounds=(0.5, 3.0), method="bounded",
                                     options={"xatol": 1e-10}).x
    lo = optimize.brentq(lambda T: r(T) - 1, 0.05, tstar, xtol=1e-12)
    hi = optimize.brentq(lambda T: r(T) - 1, tstar, 4.0, xtol=1e-12)
    return {"lo": Target(lo, 1e-6, "1e-6 (root finding)"),
            "hi": Target(hi, 1e-6, "1e-6 (root finding)")}


def _conv_ei_rate(env):
    cp = _cp()
    gauss4, T = cp.gaussian([0.0], [[4.0]]), 2.0
    Ns = np.array([25, 50, 100, 200, 400, 800])
    V = np.array([cp.samplers.gaussian_output_law(gauss4, T, cp.schedules.uniform(T, N),
                                                  method="ei", start="exact")[1][0, 0] for N in Ns])
    return {"V_ei": Target(V, 1e-9 * np.max(V), "1e-9 relative (exact Gaussian recursion)"),
            "slope_ei": Target(1.0, 0.1, "0.1, the band of the chapter's rate checks")}


# ---- chapter 08 ----
def _rp_sign(env):
    grid = np.linspace(0.0, 3.0, 5)
    mi = lambda t: 0.5 * np.log1p(2.0 * t)          # I(t) for X ~ N(0, 2) at SNR t
    inc = mi(grid[2]) - mi(grid[1])
    return {"lhs": Target(-inc, 1e-10, "1e-10 (closed form)"),
            "increment": Target(inc, 1e-10, "1e-10 (closed form)")}


def _rp_steps(env):
    cp = _cp()
    rad = cp.targets.rademacher()

    def first_n(make_grid, tol=0.05):
        n = 1
        while cp.info.delta_n(rad, make_grid(n)) > tol:
            n *= 2
        return n

    n_u = first_n(lambda n: np.linspace(0.0, 20.0, n + 1))
    n_g = first_n(lambda n: cp.info.geometric_grid(20.0, n, (20.0 * np.log(20.0)) ** (1 / n)))
    return {"n_unif": Target(n_u, 0.5, "exact (a power of two)"),
            "n_geom": Target(n_g, 0.5, "exact (a power of two)")}


# ---- chapter 10 ----
def _ode_vp_coefficient(env):
    cp = _cp()
    vp = cp.sde.VP(beta_min=0.1, beta_max=20.0, T=1.0)
    t = float(env["t"])
    ref = 0.5 * float(vp.beta(t)) * np.exp(float(vp.int_beta(t)) / 2)
    return {"fd": Target(ref, 1e-6 * ref, "1e-6 relative (central difference, O(h^2))"),
            "closed": Target(ref, 1e-12 * ref, "1e-12 relative (closed form)")}


def _ode_ct_floor(env):
    cp = _cp()
    c, d, t, dl = float(env["c"]), int(env["d"]), float(env["t"]), float(env["dl"])
    eps0 = float(env.get("eps0", 0.002))
    loss = cp.consistency.ct_loss_gaussian(c, eps0, t, dl, d)
    n = 200_000
    # the d coordinates of F(t, Y+) - F(t - dl, Y-) are i.i.d. centred Gaussians of variance loss/d
    se = np.sqrt(2.0 / d) * loss / np.sqrt(n)
    return {"m": Target(loss, 5 * se, "five standard errors (200 000 pairs)")}


# ---- chapter 11 ----
def _ft_gamma(env):
    cp = _cp()
    vp = cp.sde.VP(beta_min=0.1, beta_max=20.0, T=1.0)
    mu = cp.targets.bimodal()
    t = float(env["t"])
    B = float(vp.int_beta(t))
    x = np.linspace(-4, 4, 81)[:, None]
    g = np.exp(-2 * B)
    score = (np.sqrt(g) * mu.posterior_mean(x, a=np.sqrt(g), sigma=np.sqrt(1 - g)) - x) / (1 - g)
    err = float(np.abs(score - vp.marginal(mu, t).score(x)).max())
    return {"err_max": Target(err, 1e-8 * err, "1e-8 relative (closed forms)")}


def _ft_exploration(env):
    cp = _cp()
    out = {"se_printed": [], "se_full": []}
    for s_e in (0.01, 0.03, 0.1, 0.3):
        problem = cp.finetune.LQFineTuning(c=2.0, T=2.0, lam=0.25, y_star=2.0, beta=2.0, sigma_e=s_e)
        for full, name in ((False, "se_printed"), (True, "se_full")):
            est, _ = cp.finetune.policy_gradient_mc(problem, 0.2, 20_000, 200, seed=3, full=full)
            out[name].append(est.std(ddof=1) / np.sqrt(est.size))
    # the same seed gives the same paths: only rounding separates a correct answer from the
    # reference (a different seed or path count moves the standard errors by about 1%)
    return {k: Target(np.array(v), 1e-6 * np.max(v), "1e-6 relative (the seed is given)")
            for k, v in out.items()}


def _ft_crossover(env):
    cp = _cp()
    sm = cp.score_matching
    t = 0.5
    alpha, sigma = np.exp(-t), np.sqrt(-np.expm1(-2 * t))
    model = sm.RBFScoreModel(np.linspace(-2.5, 2.5, 4)[:, None], width=1.2)
    pop = sm.dsm_population(model, cp.targets.bimodal(), alpha, sigma)
    # the tolerance comes from the reference's own variance, never from the student's data: the
    # excess is asymptotically z^T K z / n with K similar to G^-1 Omega, of variance 2 tr(K^2) / n^2
    K = np.linalg.solve(pop["G"], pop["omega"])
    se = float(np.sqrt(2.0 * np.trace(K @ K)) / 2000 / np.sqrt(200))
    return {"n_star": Target(pop["excess_coeff"] / pop["approx_error"],
                             1e-9 * pop["excess_coeff"] / pop["approx_error"], "1e-9 relative"),
            "m": Target(pop["excess_coeff"] / 2000, 5 * se,
                        "five standard errors of the mean of 200 replicates")}


# ---- chapter 05 ----
def _sl_gaussian(env):
    c, s = float(env["c"]), float(env["s"])
    ref = -(c / (1 + c * s)) ** 2
    return {"dA": Target(ref, 1e-6 * abs(ref), "1e-6 relative (central difference, O(h^2))")}


# ---- appendix ----
def _ito_midpoint(env):
    cp = _cp()
    ref = cp.ito.sine_sum_moments(float(env["T_ex"]), int(env["n_ex"]))["mid_mean"]
    return {"mean_exact": Target(ref, 1e-10 * ref, "1e-10 relative (a finite sum)")}


# ---- chapter 09 ----
def _mm_steps(env):
    cp = _cp()
    T = 4.0

    def first_n(kernel):
        n = 1
        while cp.moments.rademacher_delta_n(np.linspace(0.0, T, n + 1), kernel) > 1e-2:
            n *= 2
        return n
    return {"n_mean": Target(first_n("mean"), 0.5, "exact (an integer)"),
            "n_rem5": Target(first_n("moment2"), 0.5, "exact (an integer)")}


def _mm_logdet(env):
    cp = _cp()
    grid = np.linspace(0.0, 4.0, 17)
    out = {}
    for name, kernel in (("delta_logdet", "moment2"), ("delta_trace", "mean")):
        ref = cp.moments.rademacher_delta_n(grid, kernel)
        out[name] = Target(ref, 1e-6 * ref, "1e-6 relative (quadrature)")
    return out


_E = Exercise
EXERCISES = {e.label: e for e in [
    # chapter 01
    _E("ex-ou-stationary", 15),
    _E("ex-ou-mean-rate", 15),
    _E("ex-ou-em-bias", 40, setup=1, answers=("v", "se"), reference=_ou_em_bias,
       hint="run the chain for n independent copies; v is their sample variance, se its standard error"),
    _E("ex-ou-isometry", 30),
    # chapter 02
    _E("ex-hutchinson-variance", 45, setup=5, answers=("var_gauss", "var_rademacher"),
       reference=_hutchinson,
       bind=('var_gauss = np.var(np.einsum("na,ab,nb->n", gauss, M, gauss))\n'
             'var_rademacher = np.var(np.einsum("na,ab,nb->n", signs, M, signs))'),
       hint="sample variances of v^T M v for the Gaussian probes `gauss` and the sign probes `signs`"),
    # chapter 03
    _E("ex-rev-ula", 35, setup=1, answers=("V",), reference=_rev_ula,
       hint="V: sample variance of n chains after `steps` corrector steps from 0"),
    _E("ex-rev-paths", 40, setup=2, answers=("cov_sde", "cov_ode"), reference=_rev_paths,
       bind=("cov_sde, cov_ode = [float(np.mean(p[:, 0, 0] * p[:, -1, 0])) for p in (\n"
             "    cp.samplers.sample(std, 3.0, grid_p, 100_000, seed=7, method=m, return_path=True)\n"
             "    for m in ('em', 'heun'))]"),
       hint="Cov(Y_0, Y_1) from 100 000 paths of the reverse SDE (method 'em') and of the ODE ('heun')"),
    _E("ex-rev-gaussian", 40, setup=2, answers=("errors_g",), reference=_rev_gaussian,
       hint="errors_g: |mean error| + |variance error| of the output against q_delta for 25, 50, 100, 200 steps"),
    # chapter 04
    _E("ex-gir-constant", 35, setup=1, answers=("kl", "v"), reference=_gir_constant,
       hint="kl from G.linear_path_kl; v: sample variance of log(dQ/dP) under P over 100 000 paths"),
    _E("ex-gir-talagrand", 25, setup=1, answers=("w2", "kl"), reference=_gir_talagrand,
       hint="W_2^2 and KL for your counterexample pair of Gaussians"),
    # chapter 06
    _E("ex-bbdd-err3", 40, setup=3, answers=("formula", "quad"), reference=_bbdd_err3,
       hint="E_{s,t} at the pairs (s_ex, t_ex), d = 1: by your formula and by bbdd.pair_moments"),
    _E("ex-bbdd-start", 25, setup=3, answers=("kl",), reference=_bbdd_start,
       hint="KL(q_T || pi) at each T in Ts"),
    # chapter 07
    _E("ex-conv-c28", 35, setup=1, answers=("lo", "hi"), reference=_conv_c28,
       hint="the end points of the interval of T where r(T) > 1"),
    _E("ex-conv-ei-rate", 30, answers=("V_ei", "slope_ei"), reference=_conv_ei_rate,
       bind=("slope_ei = float(np.polyfit(np.log(steps), "
             "np.log(np.abs(np.sqrt(V_ei) - 2.0)), 1)[0])"),
       hint="V_ei: output variances for N in Ns; slope_ei: log-log slope of the W2 error in the step"),
    # chapter 05
    _E("ex-sl-gaussian", 25, setup=2, answers=("dA",), reference=_sl_gaussian,
       bind="dA = (A(s + h) - A(s - h)) / (2 * h)",
       hint="dA: the central difference of s -> A_s computed with sl.tilt"),
    # chapter 08
    _E("ex-rp-sign", 30, setup=1, answers=("lhs", "increment"), reference=_rp_sign,
       hint="the left side of the source's identity and I(t_2) - I(t_1)"),
    _E("ex-rp-steps", 40, answers=("n_unif", "n_geom"), reference=_rp_steps,
       hint="the smallest powers of two reaching Delta_n <= 0.05 with uniform and geometric steps"),
    # chapter 09
    _E("ex-mm-steps", 30, answers=("n_mean", "n_rem5"), reference=_mm_steps,
       bind='n_mean, n_rem5 = first_n("mean", 1e-2), first_n("moment2", 1e-2)',
       hint="the smallest powers of two with Delta_n <= 0.01 for the mean and the Remark 5 kernels"),
    _E("ex-mm-logdet", 40, setup=2, answers=("delta_logdet", "delta_trace"), reference=_mm_logdet,
       hint="Delta_16 from your quadrature of the log-determinant formula, and with delta tr Sigma"),
    # appendix
    _E("ex-ito-midpoint", 40, setup=2, answers=("mean_exact",), reference=_ito_midpoint,
       hint="the exact mean (h/2) sum_k E cos(B_{t_k} + Delta B_k / 2) of the midpoint sums, T = 2, n = 20"),
    # chapter 10
    _E("ex-ode-vp-coefficient", 30, setup=4, answers=("fd", "closed"), reference=_ode_vp_coefficient,
       hint="fd: s(t) sigma(t) sigma'(t) by a central difference; closed: the closed form"),
    _E("ex-ode-ct-floor", 40, setup=2, answers=("m",), reference=_ode_ct_floor,
       hint="m: the mean of |F(t, Y+) - F(t - dl, Y-)|^2 over 200 000 simulated pairs"),
    # chapter 11
    _E("ex-ft-gamma", 30, setup=5, answers=("err_max",), reference=_ft_gamma,
       bind="err_max = float(np.abs(vp_score(np.exp(-2 * B)) - vp.marginal(mu, t).score(x)).max())",
       hint="the largest error on the grid x of the score built with gamma = exp(-2B)"),
    _E("ex-ft-exploration", 35, answers=("se_printed", "se_full"), reference=_ft_exploration,
       hint="standard errors of the policy gradient at sigma_e = 0.01, 0.03, 0.1, 0.3 (20 000 paths, 200 steps, seed 3)"),
    _E("ex-ft-crossover", 45, answers=("n_star", "m"), reference=_ft_crossover,
       bind='n_star = pop["excess_coeff"] / pop["approx_error"]',
       hint="n_star; m: the mean of the excesses `ex` of 200 replicate fits at n = 2000"),
]}


def minutes(label, computational=False):
    """Estimated minutes for exercise ``label`` (a default when it is not listed)."""
    if label in EXERCISES:
        return EXERCISES[label].minutes
    return DEFAULT_MINUTES[1 if computational else 0]


def check(label, name, env):
    """Check the student's value of ``name`` for exercise ``label`` in the namespace ``env``.

    Raises ``AssertionError`` with a message (not answered / wrong type / how many tolerances
    off) when the answer is wrong; returns ``None`` when it is right. The reference is computed
    here, from :mod:`companion`, and never printed.
    """
    if label not in EXERCISES or EXERCISES[label].reference is None:
        raise ValueError(f"label: no computational exercise {label!r} in companion.exercises")
    ex = EXERCISES[label]
    if name not in ex.answers:
        raise ValueError(f"name: {name!r} is not an answer of {label} (answers: {ex.answers})")
    got = env.get(name, Ellipsis)
    if got is Ellipsis or got is None:
        raise AssertionError(f"not answered: define `{name}` in the answer cell")
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"`{name}` should be a number or an array of numbers, "
                             f"not {type(got).__name__}") from None
    target = ex.reference(env)[name]
    ref = np.asarray(target.value, dtype=float)
    if got.size != ref.size:
        raise AssertionError(f"`{name}` should hold {ref.size} number(s), not {got.size}")
    got = got.reshape(ref.shape)
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"`{name}` is not finite")
    if not np.isfinite(target.tol):
        raise AssertionError(f"`{name}` cannot be checked: its tolerance needs {target.unit}")
    off = float(np.max(np.abs(got - ref))) / target.tol
    if off > 1.0:
        raise AssertionError(f"`{name}` is off by {off:.3g} times the tolerance ({target.unit})")
