"""Mutation test of ``companion``: apply plausible mistakes one at a time and report which
ones the tests miss.

Usage (from the repository root)::

    python tests/mutation/run_mutations.py              # every mutation, its fast tests
    python tests/mutation/run_mutations.py -k sampler   # only mutations whose name contains "sampler"
    python tests/mutation/run_mutations.py --chapters   # also run each mutation's chapter (slow)
    python tests/mutation/run_mutations.py --list
    python tests/mutation/run_mutations.py --chapters --page   # and write book/check_strength.md

Each mutation is (name, file, original snippet, mutated snippet, description, tests, chapter).
The repository is copied once to a temporary directory (Numba caches included, modification
times kept, so untouched modules do not recompile); for each mutation the pristine package is
restored, the snippet (which must occur exactly once) is replaced, and pytest runs the listed
tests on the copy with ``-x``. A mutation is *killed* when pytest fails and *survives* when it
passes. With ``--chapters`` the mutation's chapter runs as a second, separate pytest: the
mutation counts as killed only when the unit tests and the chapter each fail on it alone. The
script exits with status 1 if any mutation survives, or if a snippet no longer matches the
source (then the list needs updating, not the package).

Keep the list growing: every new closed form or kernel in ``companion`` should come with the
mistakes one could plausibly make in it, and the tests that must catch them.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

Mutation = namedtuple("Mutation", "name file original mutated description tests chapter")

P = "tests/test_processes.py"
S = "tests/test_samplers.py"
NC1 = "tests/test_negative_controls.py"
NCR = "tests/test_negative_controls_reversal.py"
NCS = "tests/test_negative_controls_sources.py"
ST = "tests/test_stats.py"
SM = "tests/test_score_matching.py"
TG = "tests/test_targets.py"
RNG = "tests/test_rng.py"
PK, TI = "tests/test_parallel_kernels.py", "tests/test_thread_invariance.py"
PORT = "tests/test_portable.py"
G = "tests/test_guarantees.py"
BB, CH6 = "tests/test_bbdd.py", "book/06_bbdd23_proof.md"
CH1, CH2, CH3 = "book/01_forward_process.md", "book/02_tweedie_score_matching.md", "book/03_time_reversal.md"

MUTATIONS = [
    # ---- the survivors of the first mutation run (issue 11) ----
    Mutation("bounds.lemma33_simple_rate", "companion/bounds.py",
             "return d * np.exp(-2.0 * T)", "return d * np.exp(-T)",
             "d e^{-T} instead of d e^{-2T}", [P + "::test_bounds_pinned_to_their_formulas", P], CH1),
    Mutation("sde.em_moments_variance", "companion/sde.py",
             "M, V = a * M, a * a * V + gk[k] ** 2 * h[k]", "M, V = a * M, a * V + gk[k] ** 2 * h[k]",
             "EM variance recursion with a instead of a^2", [P + "::test_em_moments_against_independent_formulas", P], CH1),
    Mutation("samplers.output_law_ei_noise", "companion/samplers.py",
             "2 * (eh - 1) * r, np.expm1(2 * h) * I", "2 * (eh - 1) * r, 2 * np.expm1(h) * I",
             "exact EI output law with noise 2(e^h - 1) instead of e^{2h} - 1",
             [S + "::test_gaussian_output_law_against_a_scalar_recursion", S], CH3),
    Mutation("samplers.pc_corrector_noise", "companion/samplers.py",
             "Y[a, j] = Y[a, j] + e * S2[a, j] + sd * Z[a, j]",
             "Y[a, j] = Y[a, j] + e * S2[a, j] + np.sqrt(e) * Z[a, j]",
             "Langevin corrector noise sqrt(eps) instead of sqrt(2 eps) in the low-d kernel",
             [S + "::test_kernel_sees_components_of_different_sizes", S], CH3),
    Mutation("samplers.pc_corrector_noise_blocked", "companion/samplers.py",
             "Y[j, a] = Y[j, a] + e * S2[j, a] + sd * z[a]",
             "Y[j, a] = Y[j, a] + e * S2[j, a] + np.sqrt(e) * z[a]",
             "Langevin corrector noise sqrt(eps) instead of sqrt(2 eps) from d = 8 on", [S], CH3),
    Mutation("divergences.grid_cell_width", "companion/divergences.py",
             "(hi[j] - lo[j]) / (n_points - 1)", "(hi[j] - lo[j]) / n_points",
             "grid cell width range/n instead of range/(n - 1)",
             [P + "::test_grid_for_cell_volume_and_quadrature_against_closed_forms", P], CH1),
    Mutation("stats.loglog_slope_1_over_r", "companion/stats.py",
             "np.sqrt(cv2 / r * np.sum(w * w))", "np.sqrt(cv2 * np.sum(w * w))",
             "slope standard error without the 1/r of the replicate mean", [ST], CH2),
    Mutation("targets.responsibility_logdet", "companion/targets.py",
             "lk[k] = log_w[k] - 0.5 * (quad + logdet[k] + d * _LOG_2PI)",
             "lk[k] = log_w[k] - 0.5 * (quad + d * _LOG_2PI)",
             "mixture responsibilities without the log-determinants", [TG, NCS], CH2),
    # ---- forward processes ----
    Mutation("sde.ou_variance_rate", "companion/sde.py",
             "return -np.expm1(-2.0 * self._t(t))", "return -np.expm1(-1.0 * self._t(t))",
             "OU variance 1 - e^{-t} instead of 1 - e^{-2t}", [NC1, P], CH1),
    Mutation("sde.vp_variance_exponent", "companion/sde.py",
             "return -np.expm1(-self.int_beta(t))", "return -np.expm1(-2.0 * self.int_beta(t))",
             "VP variance 1 - e^{-2B} (the sub-VP gamma)", [P, NC1], CH1),
    Mutation("sde.subvp_g", "companion/sde.py",
             "return np.sqrt(self.beta(t) * -np.expm1(-2.0 * self.int_beta(t)))",
             "return np.sqrt(self.beta(t) * -np.expm1(-self.int_beta(t)))",
             "sub-VP g^2 = beta(1 - e^{-B}) instead of beta(1 - e^{-2B})", [P, NC1], CH1),
    Mutation("sde.constant_linear_variance", "companion/sde.py",
             "-np.expm1(-2.0 * self.f_value * t) / (2.0 * self.f_value)",
             "-np.expm1(-2.0 * self.f_value * t) / self.f_value",
             "constant-coefficient variance g^2(1 - e^{-2ft})/f (sigma^2/theta)", [P, NCS], CH3),
    Mutation("sde.cvp_variance", "companion/sde.py",
             "return np.expm1(self.int_beta(t))", "return -np.expm1(-self.int_beta(t))",
             "CVP variance 1 - e^{-B} instead of e^{B} - 1", [NCS], CH1),
    Mutation("sde.ddpm_mean_sqrt", "companion/sde.py",
             "return float(np.exp(0.5 * log_prod)), float(-np.expm1(log_prod))",
             "return float(np.exp(log_prod)), float(-np.expm1(log_prod))",
             "DDPM mean coefficient prod(1 - b) instead of prod sqrt(1 - b)", [NCS], CH1),
    Mutation("sde.ei_placement", "companion/sde.py",
             "return float(sde.mean_coeff(T - t1) / sde.mean_coeff(T - u))",
             "return float(sde.mean_coeff(T - u) / sde.mean_coeff(T - t0))",
             "exponential integrator with Psi(t_k, u) inside the integrals (C32)", [NCS], CH3),
    Mutation("sde.langevin_drift", "companion/sde.py",
             "0.5 * sigma * sigma * h, sigma * np.sqrt(h), n_steps",
             "sigma * sigma * h, sigma * np.sqrt(h), n_steps",
             "Langevin drift sigma^2 grad log p instead of (sigma^2/2) grad log p", [NCS], CH1),
    Mutation("sde.fd_laplacian", "companion/sde.py",
             "lap += (density(x + e) - 2.0 * p0 + density(x - e)) / (h * h)",
             "lap += (density(x + e) - 2.0 * p0 + density(x - e)) / (2.0 * h * h)",
             "central second difference divided by 2h^2", [P, NCR], CH1),
    Mutation("ou.ito_factor_two", "companion/ou.py",
             "sh = np.sqrt(2.0 * h)", "sh = np.sqrt(h)",
             "stochastic convolution without the sqrt 2", [P, NC1], CH1),
    Mutation("ou.exact_path_rate", "companion/ou.py",
             "x = np.exp(-dt) * x + np.sqrt(-np.expm1(-2.0 * dt))",
             "x = np.exp(-dt) * x + np.sqrt(-np.expm1(-dt))",
             "exact OU transition with variance 1 - e^{-dt}", [P, NCS], CH1),
    Mutation("bounds.lemma33_half", "companion/bounds.py",
             "return -0.5 * d * np.log(-np.expm1(-2.0 * T))", "return -d * np.log(-np.expm1(-2.0 * T))",
             "Lemma 3.3 without the 1/2 (the source's version)", [P, NC1], CH1),
    Mutation("divergences.gaussian_kl_logdet_sign", "companion/divergences.py",
             "u @ u - d + logdet", "u @ u - d - logdet",
             "Gaussian KL with the log-determinant ratio inverted", [P], CH1),
    # ---- Tweedie and score matching ----
    Mutation("sm.tweedie_sigma", "companion/score_matching.py",
             "out = (pts + sigma * sigma * mixture.channel(a, sigma).score(pts)) / a",
             "out = (pts + sigma * mixture.channel(a, sigma).score(pts)) / a",
             "Tweedie's formula with sigma for sigma^2", [SM, NCS], CH2),
    Mutation("sm.ou_score_shrinkage", "companion/score_matching.py",
             "return (alpha * m - x) / s2", "return (m - x) / s2",
             "OU score through the mean without the factor e^{-t}", [SM], CH2),
    # ---- samplers ----
    Mutation("samplers.ei_drift_weight", "companion/samplers.py",
             "ca, cs, cz = np.exp(h), 2.0 * np.expm1(h), np.sqrt(np.expm1(2.0 * h))",
             "ca, cs, cz = np.exp(h), np.expm1(h), np.sqrt(np.expm1(2.0 * h))",
             "EI step with (e^h - 1) s instead of 2 (e^h - 1) s", [S], CH3),
    Mutation("samplers.em_noise", "companion/samplers.py",
             "ca, cs, cz = 1.0 + h, 2.0 * h, np.sqrt(2.0 * h)", "ca, cs, cz = 1.0 + h, 2.0 * h, np.sqrt(h)",
             "EM step noise sqrt(h) instead of sqrt(2h)", [S], CH3),
    Mutation("samplers.heun_half", "companion/samplers.py",
             "Y[j, a] = Y[j, a] + 0.5 * hk * ((Y[j, a] + S1[j, a]) + (TT[j, a] + S2[j, a]))",
             "Y[j, a] = Y[j, a] + 0.5 * hk * ((Y[j, a] + S1[j, a]) + (TT[j, a] + 2.0 * S2[j, a]))",
             "Heun's corrector with the SDE drift's 2 s at the predicted point", [S], CH3),
    # ---- random numbers ----
    Mutation("rng.box_muller_second_pair", "companion/rng.py",
             "return r * c, r * s", "return r * c, r * c",
             "Box-Muller returns cos twice", [RNG, SM], CH2),
    Mutation("rng.lanes_pair_order", "companion/rng.py",
             "Z[2 * p, j], Z[2 * p + 1, j] = _box_muller(U[2 * p, j], U[2 * p + 1, j])",
             "Z[2 * p, j], Z[2 * p + 1, j] = _box_muller(U[2 * p + 1, j], U[2 * p, j])",
             "lane layout feeds Box-Muller the block's words in the wrong order", [RNG, S], CH3),
    Mutation("samplers.lanes_2d_quadratic_half", "companion/samplers.py",
             "v = c - 0.5 * (px * dx + py * dy)", "v = c - (px * dx + py * dy)",
             "2-D mixture responsibilities without the 1/2 of the quadratic form", [S], CH3),
    Mutation("samplers.lanes_precision_index", "companion/samplers.py",
             "PD[k, a, j] += p * diff[b, j]", "PD[k, a, j] += p * diff[a, j]",
             "low-d quadratic form P (y - m) with the wrong difference component", [S], CH3),
    Mutation("samplers.exp_reduction", "companion/samplers.py",
             "r = (x - n * _LN2_HI) - n * _LN2_LO", "r = x - n * _LN2_HI",
             "polynomial exp with a one-part Cody-Waite reduction (relative error n 2e-10)", [S], CH3),
    Mutation("samplers.exp_power_of_two", "companion/samplers.py",
             "_float_bits_as_int(n + _TWO52_BIAS) << 52", "_float_bits_as_int(n + _TWO52_BIAS) << 51",
             "2^n built from the bits with the exponent in the wrong place", [S], CH3),
    # ---- portability: no data race, exact values constructed exactly (issue 25) ----
    Mutation("finetune.shared_scratch", "companion/finetune.py",
             "    for p in prange(n):\n        # scratch for the normal draws, one pair per path: allocated inside the loop, so that\n"
             "        # no two threads ever write into the same buffer\n        z = np.empty(2)\n        z1 = np.empty(1)\n",
             "    z = np.empty(2)\n    z1 = np.empty(1)\n    for p in prange(n):\n",
             "the policy-gradient kernel's normal draws in one buffer shared by all threads (the old race)",
             [PK, TI + "::test_same_bits_with_one_or_two_threads[finetune._pg_kernel]"], None),
    Mutation("localization.shared_cov_target", "companion/localization.py",
             "A[i, 0] if want_cov else cov_scratch)", "A[i, 0] if want_cov else A[0, 0])",
             "paths without covariances hand every thread the same covariance buffer", [PK], None),
    Mutation("info.geometric_grid_ends_by_arithmetic", "companion/info.py",
             "    g[0] = 0.0\n    g[-1] = T\n    return g\n", "    return g\n",
             "the geometric grid's ends left to exp and expm1 (t_0 = -4e-17 on another processor)",
             [PORT], None),
    Mutation("divergences.tv_no_far_route", "companion/divergences.py",
             "_NC_MAX = 1e4", "_NC_MAX = np.inf",
             "isotropic TV by the chi-square route also for nearly equal variances (NaN)", [G], None),
    Mutation("divergences.tv_far_excess", "companion/divergences.py",
             "excess = ((L + dm2 / v2) / a, (L - dm2 / v1) / a)",
             "excess = ((L + dm2 / v1) / a, (L - dm2 / v2) / a)",
             "the radius' excess over the centre's distance with the variances swapped", [G], None),
    # ---- chapter 6: Error 3 by two independent routes (issue 27) ----
    Mutation("bbdd.time_quadrature_weights", "companion/bbdd.py",
             "wt = (0.5 * h[:, None] * w[None, :]).ravel()", "wt = (0.75 * h[:, None] * w[None, :]).ravel()",
             "Gauss-Legendre weights of every step 1.5x too large (Error 3 and the path KL 1.5x)",
             [BB], CH6),
    Mutation("bbdd.fisher_step_term", "companion/bbdd.py",
             "return whole - float(np.sum(jk * (-2.0 * np.expm1(-h) - h)))",
             "return whole - float(np.sum(jk * (-np.expm1(-h) - h)))",
             "the step integral of 2 e^{-r} - 1 taken as (1 - e^{-h}) - h", [BB], CH6),
    Mutation("bbdd.fisher_score_square", "companion/bbdd.py",
             "f = dq * dq / q", "f = dq * dq / (q * q)",
             "Fisher information as int (q'/q)^2 dx instead of int q'^2/q dx", [BB], CH6),
    Mutation("bbdd.pair_cross_decay", "companion/bbdd.py",
             "rho = np.exp(-(b - a))\n        tail = np.sqrt(-np.expm1(-2.0 * (b - a)))\n        mua",
             "rho = np.exp(-0.5 * (b - a))\n        tail = np.sqrt(-np.expm1(-2.0 * (b - a)))\n        mua",
             "the forward process from X_a to X_b contracted by e^{-(b-a)/2}", [BB], CH6),
    # ---- chapter 4: the convergence of the exponential integrator in TV (issue 27) ----
    Mutation("girsanov.ei_density_drift", "companion/girsanov.py",
             "mean = np.exp(h) * x + 2.0 * np.expm1(h) * s", "mean = np.exp(h) * x + 1.0 * np.expm1(h) * s",
             "the exponential integrator's score term with s instead of 2 s (the sampler does not converge)",
             ["tests/test_girsanov.py"], "book/04_girsanov.md"),
    Mutation("girsanov.ei_density_noise", "companion/girsanov.py",
             "p * w / dx, mean, np.sqrt(np.expm1(2.0 * h)), dx, out)", "p * w / dx, mean, np.sqrt(2.0 * h), dx, out)",
             "the exponential integrator's noise variance 2h instead of e^{2h} - 1", ["tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    # ---- chapter 1: the forward marginal and the decay of KL (issue 27) ----
    Mutation("targets.forward_double_speed", "companion/targets.py",
             "return self.channel(np.exp(-t), np.sqrt(-np.expm1(-2.0 * t)))",
             "return self.channel(np.exp(-2.0 * t), np.sqrt(-np.expm1(-4.0 * t)))",
             "the OU marginal q_t of a forward process run at double speed", [TG], CH1),
    # ---- chapter 10: the consistency equation away from t = 1 (issue 27) ----
    Mutation("consistency.cd_step_without_t", "companion/consistency.py",
             "y_minus = y_plus + delta * t * s", "y_minus = y_plus + delta * s",
             "the distillation step's Euler step without its factor t (g^2/2 = t)",
             ["tests/test_consistency.py"], "book/10_ode_consistency.md"),
    Mutation("consistency.gaussian_function_power", "companion/consistency.py",
             "return np.sqrt((c + eps0 * eps0) / (c + t * t))", "return np.sqrt((c + eps0 * eps0) / (c + t * t * t))",
             "the Gaussian consistency function with t^3 for t^2 (the equation's coefficient t^2 instead of t)",
             ["tests/test_consistency.py"], "book/10_ode_consistency.md"),
    # ---- chapter 2: the conditional score of the denoising loss (issue 27) ----
    Mutation("score_matching.dsm_target_sigma", "companion/score_matching.py",
             "return xt, -(xt - alpha * x0) / (sigma * sigma)", "return xt, -(xt - alpha * x0) / sigma",
             "the conditional score -(x_t - alpha x_0)/sigma instead of /sigma^2", [SM], CH2),
    # ---- statistics ----
    Mutation("stats.mean_stderr_sqrt", "companion/stats.py",
             "return v.mean(axis=axis), v.std(axis=axis, ddof=1) / np.sqrt(n)",
             "return v.mean(axis=axis), v.std(axis=axis, ddof=1) / n",
             "standard error sd/n instead of sd/sqrt(n)", [ST], CH1),
    Mutation("stats.variance_stderr_n", "companion/stats.py",
             "var_s2 = max(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n",
             "var_s2 = max(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / (2 * n)",
             "variance standard error too small by sqrt 2", [ST], CH1),
    Mutation("stats.covariance_stderr_root", "companion/stats.py",
             "se = prod.std(axis=0, ddof=1) / np.sqrt(R)", "se = prod.std(axis=0, ddof=1) / R",
             "covariance standard error sd/R", [ST], CH1),
    Mutation("stats.binned_stderr", "companion/stats.py",
             "se = np.sqrt(np.clip(var, 0.0, None) / c)", "se = np.sqrt(np.clip(var, 0.0, None) / np.sqrt(c))",
             "bin standard error sd / c^(1/4) instead of sd / sqrt(c)", [ST], CH2),
    Mutation("stats.edgeworth_skew", "companion/stats.py",
             "gamma * (xs**2 - 1.0) / 6.0", "gamma * (xs**2 - 1.0) / 3.0",
             "Edgeworth skewness term with 1/3 instead of 1/6 (chapter 2 uses the offset only in a "
             "precondition with a factor 2 of room, so only the unit tests can see it)", [ST], None),
]


def _copy_repo(dst):
    ignore = shutil.ignore_patterns(".git", "_build", ".ipynb_checkpoints", ".pytest_cache")
    for name in ("companion", "tests", "book"):
        shutil.copytree(ROOT / name, dst / name, copy_function=shutil.copy2, ignore=ignore)
    for name in ("conftest.py", "pyproject.toml", "_config.yml", "_toc.yml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dst / name)


def _restore_package(work, pristine):
    shutil.rmtree(work / "companion")
    shutil.copytree(pristine, work / "companion", copy_function=shutil.copy2)


def _run_pytest(work, targets, timeout):
    """(exit code, last line, what failed first): the failing test's id, or for a chapter the
    identity id of the first check that failed (its ``[FAIL] id`` line)."""
    env = dict(os.environ, PYTHONPATH=str(work))
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header",
           "-rf", "-o", "addopts=--nbval-lax --nbval-current-env", *targets]
    try:
        r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout", None
    last = [ln for ln in r.stdout.strip().splitlines() if ln.strip()]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
    check = re.search(r"\[FAIL\] ([A-Za-z0-9_.]+)", plain)
    test = re.search(r"^FAILED (\S+)", plain, re.M)
    first = check.group(1) if check else (test.group(1) if test else None)
    return r.returncode, (last[-1] if last else r.stderr.strip()[-200:]), first


# ------------------------------------------------------------------ the page of check strength
RESULTS = ROOT / "tests" / "mutation" / "results.json"
PAGE = ROOT / "book" / "check_strength.md"


def _commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _record(rows):
    """Merge this run's rows into results.json (one row per mutation, the newest run wins)."""
    old = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    old.update({r["name"]: r for r in rows})
    known = {m.name for m in MUTATIONS}
    RESULTS.write_text(json.dumps({k: old[k] for k in sorted(old) if k in known}, indent=1) + "\n",
                       encoding="utf-8")


def _chapter_title(path):
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path


def write_page():
    """book/check_strength.md from results.json: every mutation, grouped by chapter in book
    order, with what the unit tests and the chapter did with it."""
    rows = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    by_name = {m.name: m for m in MUTATIONS}
    runs = sorted({(r["commit"], r["date"]) for r in rows.values()}, key=lambda cd: cd[1])
    both = sum(1 for r in rows.values() if r["tests"] == "killed" and r.get("chapter") == "killed")
    with_ch = sum(1 for r in rows.values() if r.get("chapter_file"))
    lines = ["# How strong are the checks", "",
             "A check is evidence only if it can fail. This page applies that test to the book "
             "itself: each row is a plausible mistake in the package (a constant, a sign, a "
             "factor $d$, $e^{-t}$ for $e^{-2t}$, a dropped term, a data race), put into the code "
             "one at a time. The mistake is *killed* when the unit tests fail on it, and, for "
             "a function a chapter relies on, when that chapter's own checks fail on it too, "
             "each run on its own. The last column names the check that failed first in the "
             "chapter: the identity whose verification noticed the mistake.", "",
             f"{len(rows)} mutations recorded of the {len(MUTATIONS)} in "
             "`tests/mutation/run_mutations.py`; "
             f"{sum(1 for r in rows.values() if r['tests'] == 'killed')} killed by the unit tests; "
             f"{both} of the {with_ch} aimed at a chapter killed by both the unit tests and the "
             "chapter.", "",
             "Runs: " + ", ".join(f"commit `{c}` on {d}" for c, d in runs) + ".", "",
             "To regenerate: `python tests/mutation/run_mutations.py --chapters --page` "
             "(about an hour on two cores; `-k NAME` reruns some mutations and keeps the "
             "others' rows).", ""]
    order = []
    for m in MUTATIONS:
        key = m.chapter or ""
        if key not in order:
            order.append(key)
    order.sort(key=lambda c: (c == "", c))
    for chapter in order:
        ms = [m for m in MUTATIONS if (m.chapter or "") == chapter and m.name in rows]
        if not ms:
            continue
        lines += [f"## {_chapter_title(chapter) if chapter else 'Unit tests only'}", ""]
        if chapter:
            lines += [f"Chapter: {{doc}}`{Path(chapter).stem}`.", ""]
        lines += ["| mutation | the mistake | unit tests | chapter | caught first by |",
                  "|---|---|---|---|---|"]
        for m in ms:
            r = rows[m.name]
            caught = r.get("chapter_first") or ""
            caught = f"`{caught}`" if caught and "::" not in caught and "/" not in caught else caught
            desc = by_name[m.name].description.replace("|", "\\|")
            lines.append(f"| `{m.name}` | {desc} | {r['tests']} | {r.get('chapter') or '-'} | "
                         f"{caught or '-'} |")
        lines.append("")
    PAGE.write_text("\n".join(lines), encoding="utf-8")
    return PAGE


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", default="", help="run only mutations whose name contains this")
    ap.add_argument("--chapters", action="store_true", help="also run each mutation's chapter")
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per pytest run")
    ap.add_argument("--page", action="store_true",
                    help="record the results in tests/mutation/results.json and rewrite "
                         "book/check_strength.md (only the page, with no mutation run, under --list)")
    args = ap.parse_args(argv)
    todo = [m for m in MUTATIONS if args.k in m.name]
    if args.page and args.list:
        print(write_page())
        return 0
    if args.list:
        for m in todo:
            print(f"{m.name:36s} {m.file:28s} {m.description}")
        return 0
    bad = [m.name for m in todo if (ROOT / m.file).read_text(encoding="utf-8").count(m.original) != 1]
    if bad:
        print("snippets that no longer match exactly once:", ", ".join(bad))
        return 1
    survivors, t_start, rows = [], time.time(), []
    commit, today = _commit(), time.strftime("%Y-%m-%d")
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        work = Path(tmp) / "repo"
        _copy_repo(work)
        pristine = Path(tmp) / "companion-pristine"
        shutil.copytree(work / "companion", pristine, copy_function=shutil.copy2)
        for i, m in enumerate(todo, 1):
            _restore_package(work, pristine)
            path = work / m.file
            path.write_text(path.read_text(encoding="utf-8").replace(m.original, m.mutated), encoding="utf-8")
            # the unit tests and the chapter are run apart: each must kill the mutation alone
            runs = [("tests", list(dict.fromkeys(m.tests)))]
            if args.chapters and m.chapter:
                runs.append(("chapter", [m.chapter]))
            t0 = time.time()
            verdicts = []
            row = {"name": m.name, "commit": commit, "date": today, "chapter_file": m.chapter if
                   args.chapters else None}
            for what, targets in runs:
                code, summary, first = _run_pytest(work, targets, args.timeout)
                v = "killed" if code not in (0, None) and code != 5 else ("TIMEOUT" if code is None else "SURVIVED")
                verdicts.append(f"{what} {v}: {summary}")
                row[what] = v
                row[f"{what}_first"] = first
                if v != "killed" and m not in survivors:
                    survivors.append(m)
            rows.append(row)
            verdict = "killed" if m not in survivors else "SURVIVED"
            print(f"[{i:2d}/{len(todo)}] {verdict:8s} {m.name:36s} {time.time() - t0:6.1f} s  "
                  + "; ".join(verdicts), flush=True)
    print(f"\n{len(todo) - len(survivors)} of {len(todo)} mutations killed in {time.time() - t_start:.0f} s")
    if args.page:
        _record(rows)
        print("page written:", write_page())
    for m in survivors:
        print(f"  survivor: {m.name} ({m.file}): {m.description}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
