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
tests on the copy with ``-x``. A mutation is *killed* when a test fails (pytest's exit code 1)
and *survives* when the tests pass; any other failure of pytest (a usage error, a missing
plugin) stops the run, since it says nothing about the mutation. With ``--chapters`` the
mutation's chapter runs as a second, separate pytest: the mutation counts as killed only when
the unit tests and the chapter each fail on it alone. The
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
             "slope standard error without the 1/r of the replicate mean (a standard error's size is "
             "invisible to a chapter, which can only use it: unit tests only)", [ST], None),
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
    Mutation("sde.residual_noise_scale", "companion/sde.py",
             "return dp_dt + div - (0.5 * lam * lam * g2 * lap if lam > 0 else 0.0)",
             "return dp_dt + div - (0.5 * lam * g2 * lap if lam > 0 else 0.0)",
             "the reversal family's Laplacian term with the noise level lam instead of lam^2",
             [P + "::test_reverse_fokker_planck_residual_noise_level"], CH3),
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
    Mutation("bounds.convexity_bound_centring", "companion/bounds.py",
             "return 0.5 * (np.exp(-2.0 * T) * m2 + d * s2 - d - d * np.log(s2))",
             "return 0.5 * (np.exp(-2.0 * T) * m2 - d * np.log(s2))",
             "general initialisation bound without the variance terms d sigma_T^2 - d",
             ["tests/test_negative_controls_forward.py::test_convexity_bound_wrong_general_value_fails",
              "tests/test_negative_controls_forward.py"], CH1),
    Mutation("time.sigma_rate", "companion/time.py",
             "return _ret(np.sqrt(-np.expm1(-2.0 * _times(t))))", "return _ret(np.sqrt(-np.expm1(-_times(t))))",
             "noise level sigma_t = sqrt(1 - e^{-t}) instead of sqrt(1 - e^{-2t})", [P], CH2),
    Mutation("time.dsigma_power", "companion/time.py",
             "np.exp(-2.0 * a) / np.sqrt", "np.exp(-a) / np.sqrt",
             "d sigma_t / dt with e^{-t} for e^{-2t}", [P], "book/06_bbdd23_proof.md"),
    Mutation("time.snr_rate", "companion/time.py",
             "1.0 / np.expm1(2.0 * _times(t, positive=True))", "1.0 / np.expm1(_times(t, positive=True))",
             "signal-to-noise time 1/(e^t - 1) instead of 1/(e^{2t} - 1)", [P], "book/05_stochastic_localization.md"),
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
             ("paths without covariances hand every thread the same covariance buffer (a latent race: "
              "the buffer is not written while covariances are off, so only the static reading sees it)"), [PK], None),
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
             "f = np.divide(dq * dq, q, out", "f = np.divide(dq * dq, q * q, out",
             "Fisher information as int (q'/q)^2 dx instead of int q'^2/q dx", [BB], CH6),
    Mutation("bbdd.pair_cross_decay", "companion/bbdd.py",
             "rho = np.exp(-(b - a))\n        tail = np.sqrt(-np.expm1(-2.0 * (b - a)))\n        mua",
             "rho = np.exp(-0.5 * (b - a))\n        tail = np.sqrt(-np.expm1(-2.0 * (b - a)))\n        mua",
             "the forward process from X_a to X_b contracted by e^{-(b-a)/2}", [BB], CH6),
    Mutation("bounds.bbdd23_tuning_horizon", "companion/bounds.py",
             "T = 0.5 * np.log(d / eps**2)", "T = np.log(d / eps**2)",
             "the tuned horizon log(d/eps^2) instead of half of it (start term eps^4/d, not eps^2)",
             [BB + "::test_bbdd23_tuning_and_terms"], CH6),
    Mutation("bounds.bbdd23_tuning_steps_power", "companion/bounds.py",
             "N = int(np.ceil(d * (T + L) ** 2 / eps**2))", "N = int(np.ceil(d * (T + L) / eps**2))",
             "the tuned step count with (T + L) instead of (T + L)^2", [BB + "::test_bbdd23_tuning_and_terms"], CH6),
    Mutation("bounds.step_counts_bbdd23_log", "companion/bounds.py",
             '"bbdd23": d * log2 / eps**2}', '"bbdd23": d * np.sqrt(log2) / eps**2}',
             "BBDD23's row of the rates table with log(1/delta) instead of its square",
             [BB + "::test_step_counts"], CH6),
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
    Mutation("score_matching.dsm_over_time_noise", "companion/score_matching.py",
             "xt = m * x0 + np.sqrt(v) * rng.normals(n, d, seed + 2 * j + 1)",
             "xt = m * x0 + v * rng.normals(n, d, seed + 2 * j + 1)",
             "time-integrated denoising terms with noise v(t) G instead of sqrt(v(t)) G",
             [SM + "::test_dsm_terms_over_time_match_reference_and_closed_form", SM], CH2),
    # ---- chapter 11: the population quantities of denoising score matching ----
    Mutation("score_matching.dsm_population_variance_power", "companion/score_matching.py",
             "+ alpha * alpha * post_cov[:, 0, 0] / sigma**4", "+ alpha * alpha * post_cov[:, 0, 0] / sigma**2",
             "conditional variance of the denoising target alpha^2 Var(x_0 | x_t)/sigma^2 instead of /sigma^4",
             ["tests/test_finetune.py::test_dsm_population_against_direct_computations", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("score_matching.dsm_population_no_bias", "companion/score_matching.py",
             "r2 = (model.score(theta_star, pts)[:, 0] - score[:, 0]) ** 2",
             "r2 = 0.0 * (model.score(theta_star, pts)[:, 0] - score[:, 0]) ** 2",
             "Omega without the misspecification-bias term (the well-specified sandwich)",
             ["tests/test_finetune.py::test_dsm_population_against_direct_computations", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("score_matching.dsm_population_approx_half", "companion/score_matching.py",
             "approx = float(w @ score[:, 0] ** 2 - b @ theta_star)",
             "approx = float(w @ score[:, 0] ** 2 - 0.5 * b @ theta_star)",
             "approximation error E|grad log q|^2 - b^T theta*/2 instead of - b^T theta*",
             ["tests/test_finetune.py::test_dsm_population_against_direct_computations", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    # ---- chapter 7: the reverse moment ODEs and the synchronous coupling (companion/guarantees.py) ----
    Mutation("guarantees.reverse_var_rate", "companion/guarantees.py",
             "return [lam * y[0] + off + g2 * eps, 2.0 * lam * y[1] + g2]",
             "return [lam * y[0] + off + g2 * eps, lam * y[1] + g2]",
             "reverse variance ODE var' = lambda var + g^2 instead of 2 lambda var + g^2",
             ["tests/test_guarantees.py::test_exact_score_from_p_T_keeps_the_marginals", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("guarantees.reverse_bias_half_g2", "companion/guarantees.py",
             "lam * y[0] + off + g2 * eps,", "lam * y[0] + off + 0.5 * g2 * eps,",
             "score bias enters the reverse SDE with g^2/2 (the probability-flow weight) instead of g^2",
             ["tests/test_guarantees.py::test_biased_ou_output_law_closed_form", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("guarantees.score_offset_without_mean_coeff", "companion/guarantees.py",
             "return f - g2 / v, g2 * a * data_mean / v, g2", "return f - g2 / v, g2 * data_mean / v, g2",
             "score offset g^2 m / v instead of g^2 a(tau) m / v (the forward mean not contracted)",
             ["tests/test_guarantees.py::test_exact_score_from_p_T_keeps_the_marginals", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("guarantees.fast_vp_mean_coeff", "companion/guarantees.py",
             "np.exp(-0.5 * sign * B), var", "np.exp(-sign * B), var",
             "VP mean coefficient e^{-B} instead of e^{-B/2} in the fast coefficients",
             ["tests/test_guarantees.py::test_fast_coefficients_equal_the_public_methods", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("guarantees.fast_constant_linear_variance", "companion/guarantees.py",
             "g2 * -np.expm1(-2.0 * f * tau) / (2.0 * f)", "g2 * -np.expm1(-2.0 * f * tau) / f",
             "constant-coefficient marginal variance g^2 (1 - e^{-2f tau}) / f instead of / (2f) (OU variance doubled)",
             ["tests/test_guarantees.py::test_fast_coefficients_equal_the_public_methods", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("guarantees.coupling_independent_start", "companion/guarantees.py",
             "y0 = [mu0, mv0, vu0, np.sqrt(vu0 * vv0), vv0]", "y0 = [mu0, mv0, vu0, 0.0, vv0]",
             "coupling started independent (Cov(U_0, V_0) = 0) instead of comonotone",
             ["tests/test_guarantees.py::test_coupling_closed_form_for_ou", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("guarantees.coupling_cross_noise", "companion/guarantees.py",
             "2.0 * lam * cuv + g2,", "2.0 * lam * cuv,",
             "cross-covariance ODE without the shared noise g^2 (independent, not synchronous, Brownian motions)",
             ["tests/test_guarantees.py::test_coupling_closed_form_for_ou", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("guarantees.vp_kappa_alpha_not_squared", "companion/guarantees.py",
             "u = np.exp(-B)\n    return kappa", "u = np.exp(-0.5 * B)\n    return kappa",
             "kappa_t with alpha = e^{-B/2} where alpha^2 = e^{-B} belongs",
             ["tests/test_guarantees.py::test_vp_kappa", "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("guarantees.vp_kappa_precisions_added", "companion/guarantees.py",
             "return kappa / (u + kappa * (1.0 - u))", "return kappa * u + (1.0 - u)",
             "kappa_t interpolating precisions linearly (constants added like precisions, not like variances)",
             ["tests/test_guarantees.py::test_vp_kappa", "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    # ---- chapter 7: the bounds (companion/bounds.py) ----
    Mutation("bounds.tv_score_extracted_term", "companion/bounds.py",
             "return tv_init + 0.5 * eps * np.sqrt(int_g2)", "return tv_init + 0.5 * eps * np.sqrt(0.5 * int_g2)",
             "Theorem 6.2 with the source's eps sqrt(T)/2 (int g^2 / 2 under the root)",
             ["tests/test_guarantees.py::test_tv_score_bound", "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.vp_init_kl_half", "companion/bounds.py",
             "return 0.5 * (u * second_moment - d * (u + np.log1p(-u)))",
             "return u * second_moment - d * (u + np.log1p(-u))",
             "Corollary 6.3's initial KL without its 1/2 (the source's version)",
             ["tests/test_guarantees.py::test_vp_init_kl_is_the_average_gaussian_kl_for_any_data",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.vp_init_kl_trace_term", "companion/bounds.py",
             "return 0.5 * (u * second_moment - d * (u + np.log1p(-u)))",
             "return 0.5 * (u * second_moment - d * np.log1p(-u))",
             "Gaussian KL to N(0, I) without the trace term d (sigma^2 - 1) = -d e^{-B}",
             ["tests/test_guarantees.py::test_vp_init_kl_is_the_average_gaussian_kl_for_any_data",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    # the chapter's sweep for tv_vp_bound leaves margins of 3x and more (the bound exceeds the exact TV
    # several times over), so no plausible mistake in it can fail there: only the unit test sees this one
    Mutation("bounds.tv_vp_score_term", "companion/bounds.py",
             "+ 0.5 * eps * np.sqrt(B)", "+ 0.5 * eps * np.sqrt(0.5 * B)",
             "Corollary 6.3's score term eps sqrt(B/2)/2 instead of eps sqrt(B)/2 (int g^2 = B halved)",
             ["tests/test_guarantees.py::test_tv_vp_bound_dominates_pinsker_and_is_tight_for_large_B",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.tv_vp_start_term", "companion/bounds.py",
             "d * u / (2.0 * -np.expm1(-B))", "d * u / -np.expm1(-B)",
             "Corollary 6.3's start term with d e^{-B}/(1 - e^{-B}) (the proof's u^2/(2(1-u)) without its 1/2)",
             ["tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.w2_coupling_growth_rate", "companion/bounds.py",
             "growth = np.expm1(rate * B) / rate if", "growth = np.expm1(rate * B) if",
             "int_0^B e^{rate b} db taken as e^{rate B} - 1 (the 1/rate forgotten; negative for CVP)",
             ["tests/test_guarantees.py::test_w2_coupling_bound_against_its_definition_for_cvp",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.w2_vp_init_missing_d", "companion/bounds.py",
             "+ d * (1.0 - np.sqrt(-np.expm1(-B))) ** 2", "+ (1.0 - np.sqrt(-np.expm1(-B))) ** 2",
             "synchronous-coupling W_2^2 initial bound without the factor d",
             ["tests/test_guarantees.py::test_w2_vp_init_bound_is_the_synchronous_coupling_cost",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.w2_gronwall_kappa_factor", "companion/bounds.py",
             "* b - 2.0 * np.log1p(kappa * np.expm1(b))", "* b - np.log1p(kappa * np.expm1(b))",
             "Gronwall exponent int (1 + 2h - kappa_s) dB instead of (1 + 2h - 2 kappa_s) dB",
             ["tests/test_guarantees.py::test_w2_vp_gronwall_bound_solves_the_differential_inequality_with_equality",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.w2_gronwall_young_h", "companion/bounds.py",
             "phi = lambda b: (1.0 + 2.0 * h) * b", "phi = lambda b: (1.0 + h) * b",
             "Gronwall exponent with (1 + h) instead of (1 + 2h): Young's inequality term counted once",
             ["tests/test_guarantees.py::test_w2_vp_gronwall_bound_solves_the_differential_inequality_with_equality",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    Mutation("bounds.w2_vp_bound_young_constant", "companion/bounds.py",
             "eps ** 2 * factor / (2.0 * h * c)", "eps ** 2 * factor / (h * c)",
             "Theorem 6.6's score term eps^2 / (h c') instead of eps^2 / (2 h c')",
             ["tests/test_guarantees.py::test_w2_vp_bound_dominates_gronwall_and_equals_it_for_kappa_one",
              "tests/test_guarantees.py"], "book/07_tv_wasserstein.md"),
    # ---- chapter 7: closed-form Gaussian W_2 and KL (companion/divergences.py) ----
    Mutation("divergences.w2_cross_term_factor", "companion/divergences.py",
             "np.trace(c2) - 2.0 * cross)", "np.trace(c2) - cross)",
             "Gaussian W_2^2 with - tr(...)^{1/2} instead of - 2 tr(...)^{1/2}",
             ["tests/test_guarantees.py::test_w2_one_dimension_closed_form", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("divergences.w2_cross_without_root", "companion/divergences.py",
             "cross = np.trace(_psd_sqrt(r1 @ c2 @ r1))", "cross = np.trace(r1 @ c2 @ r1)",
             "Gaussian W_2 cross term tr(c1^{1/2} c2 c1^{1/2}) without its square root",
             ["tests/test_guarantees.py::test_w2_one_dimension_closed_form", "tests/test_guarantees.py"],
             "book/07_tv_wasserstein.md"),
    Mutation("divergences.gaussian_kl_cholesky_logdet", "companion/divergences.py",
             "logdet = 2.0 * (np.sum(np.log(np.diag(L2)))", "logdet = (np.sum(np.log(np.diag(L2)))",
             "log det from the Cholesky diagonal without the factor 2 (log det C = 2 sum log L_ii)",
             ["tests/test_guarantees.py::test_vp_init_kl_is_the_average_gaussian_kl_for_any_data",
              "tests/test_guarantees.py", "tests/test_processes.py"], "book/07_tv_wasserstein.md"),
    Mutation("divergences.gaussian_kl_trace_reversed", "companion/divergences.py",
             "A = np.linalg.solve(L2, L1)", "A = np.linalg.solve(L1, L2)",
             "Gaussian KL trace term tr(c1^{-1} c2) instead of tr(c2^{-1} c1)",
             ["tests/test_guarantees.py::test_vp_init_kl_is_the_average_gaussian_kl_for_any_data",
              "tests/test_guarantees.py", "tests/test_processes.py"], "book/07_tv_wasserstein.md"),
    # ---- chapter 4: Girsanov, path KL and the Langevin / diffusion examples (companion/girsanov.py) ----
    Mutation("girsanov.lr_density_half", "companion/girsanov.py",
             "lr += (r2 - r1) / (2.0 * sigma * sigma * h[j])", "lr += (r2 - r1) / (sigma * sigma * h[j])",
             "log transition-density ratio without the 1/2 of the Gaussian exponent",
             ["tests/test_girsanov.py::test_log_ratio_is_the_gaussian_transition_ratio", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.lr_noise_sqrt", "companion/girsanov.py",
             "sh = sigma * np.sqrt(h[j])", "sh = sigma * h[j]",
             "Euler-Maruyama noise sigma h g instead of sigma sqrt(h) g in the log-ratio kernel",
             ["tests/test_girsanov.py::test_log_ratio_paths_follow_euler_maruyama_of_sde_module",
              "tests/test_girsanov.py"], "book/04_girsanov.md"),
    Mutation("girsanov.lr_world_swapped", "companion/girsanov.py",
             "drift = b1[a] if world == 0 else b2[a]", "drift = b2[a] if world == 0 else b1[a]",
             "paths simulated in the other world (Q and P drifts swapped)",
             ["tests/test_girsanov.py::test_log_ratio_paths_follow_euler_maruyama_of_sde_module",
              "tests/test_girsanov.py"], "book/04_girsanov.md"),
    Mutation("girsanov.integrand_without_mean", "companion/girsanov.py",
             "np.trace(M @ (S + np.outer(m, m)))", "np.trace(M @ S)",
             "E||DA X||^2 = tr(DA^T DA S) without the m m^T of the second moment",
             ["tests/test_girsanov.py::test_linear_path_kl_against_quadrature_of_closed_moments",
              "tests/test_girsanov.py"], "book/04_girsanov.md"),
    Mutation("girsanov.lyapunov_sigma", "companion/girsanov.py",
             "dS = A @ S + S @ A.T + sigma**2 * I", "dS = A @ S + S @ A.T + sigma * I",
             "covariance ODE under Q with sigma I instead of sigma^2 I",
             ["tests/test_girsanov.py::test_linear_path_kl_against_quadrature_of_closed_moments",
              "tests/test_girsanov.py"], "book/04_girsanov.md"),
    Mutation("girsanov.girsanov_sum_right_point", "companion/girsanov.py",
             "        total += h * _integrand(DA, Db, m, S, sigma)\n"
             "        m, S = F @ m + h * drift_q.c, F @ S @ F.T + sigma**2 * h * np.eye(d)\n",
             "        m, S = F @ m + h * drift_q.c, F @ S @ F.T + sigma**2 * h * np.eye(d)\n"
             "        total += h * _integrand(DA, Db, m, S, sigma)\n",
             "discrete Girsanov sum over x_1..x_N instead of x_0..x_{N-1} (drift gap at the right point)",
             ["tests/test_girsanov.py::test_chain_kl_equals_discrete_sum_and_mc", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.chain_constant_drift_step", "companion/girsanov.py",
             "None, 0, h * b.c, Q)", "None, 0, b.c, Q)",
             "Euler chain adds the constant drift c instead of h c per step",
             ["tests/test_girsanov.py::test_chain_kl_equals_discrete_sum_and_mc", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.chain_law_memory_index", "companion/girsanov.py",
             "L[j + 1] += G @ L[r]", "L[j + 1] += G @ L[j]",
             "chain law takes the memory term from x_j instead of x_{r_j} (frozen point forgotten)",
             ["tests/test_girsanov.py::test_gaussian_chain_law_memory_matches_monte_carlo", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.chain_law_noise_root", "companion/girsanov.py",
             "L[j + 1, :, d * (j + 1):d * (j + 2)] = _psd_root(Q)", "L[j + 1, :, d * (j + 1):d * (j + 2)] = Q",
             "noise factor Q instead of Q^{1/2} (a variance used as a standard deviation)",
             ["tests/test_girsanov.py::test_gaussian_chain_law_memory_matches_monte_carlo", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.path_kl_cross_decay", "companion/girsanov.py",
             "(1.0 - 2.0 * np.exp(-(b - a)))", "(1.0 - 2.0 * np.exp(-2.0 * (b - a)))",
             "Cov(X_b, X_a) with e^{-2(b-a)} (the variance decay) instead of e^{-(b-a)}",
             ["tests/test_girsanov.py::test_diffusion_path_kl_on_stationary_data", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.path_kl_marginal_rate", "companion/girsanov.py",
             "np.exp(-2.0 * u) * lam + -np.expm1(-2.0 * u)", "np.exp(-u) * lam + -np.expm1(-2.0 * u)",
             "forward covariance e^{-u} C + (1 - e^{-2u}) I instead of e^{-2u} C + (1 - e^{-2u}) I",
             ["tests/test_girsanov.py::test_diffusion_path_kl_on_stationary_data", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.reverse_steps_conditional_cov", "companion/girsanov.py",
             "Q = Sa - np.exp(-(b - a)) * K @ Sa", "Q = Sa - K @ Sa",
             "exact reverse transition: conditional covariance Sa - K Sa without the factor e^{-(b-a)}",
             ["tests/test_negative_controls_girsanov.py::test_diffusion_kl_with_wrong_constant_fails"],
             "book/04_girsanov.md"),
    Mutation("girsanov.langevin_kl_increment_rate", "companion/girsanov.py",
             "(h + np.expm1(-alpha * h) / alpha)", "(h + np.expm1(-2.0 * alpha * h) / (2.0 * alpha))",
             "stationary Langevin increments with e^{-2 alpha r} (the variance decay) instead of e^{-alpha r}",
             ["tests/test_girsanov.py::test_langevin_closed_form_small_h_and_skeleton", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.langevin_skeleton_ou_variance", "companion/girsanov.py",
             "-np.expm1(-2 * alpha * eta) / alpha * one", "-np.expm1(-2 * alpha * eta) / (2 * alpha) * one",
             "exact Langevin transition variance (1 - e^{-2 alpha eta}) / (2 alpha) (unit-noise OU) instead of / alpha",
             ["tests/test_girsanov.py::test_langevin_closed_form_small_h_and_skeleton", "tests/test_girsanov.py"],
             "book/04_girsanov.md"),
    Mutation("girsanov.reverse_output_variance_drift", "companion/girsanov.py",
             "return 2.0 * (1.0 - 2.0 / v) * w + 2.0", "return 2.0 * (1.0 - 1.0 / v) * w + 2.0",
             "reverse SDE drift y + s (the probability-flow weight) instead of y + 2 s in the variance ODE",
             ["tests/test_girsanov.py::test_reverse_output_variance_matches_fine_exponential_integrator",
              "tests/test_girsanov.py"], "book/04_girsanov.md"),
    # ---- time grids (companion/schedules.py) ----
    Mutation("schedules.uniform_no_early_stop", "companion/schedules.py",
             "return np.linspace(0.0, T - delta, n_steps + 1)", "return np.linspace(0.0, T, n_steps + 1)",
             "uniform grid ends at T instead of T - delta (early stopping dropped)",
             ["tests/test_processes.py::test_schedules_uniform", "tests/test_processes.py"],
             "book/03_time_reversal.md"),
    Mutation("schedules.bbdd23_geometric_multiply", "companion/schedules.py",
             "remaining = (1.0 + kappa) ** -np.arange(1, n2, dtype=float)",
             "remaining = (1.0 - kappa) ** np.arange(1, n2, dtype=float)",
             "geometric phase multiplies T - t by (1 - kappa) instead of dividing by (1 + kappa): "
             "gamma_k = kappa (T - t_k) > kappa (T - t_{k+1})",
             ["tests/test_samplers.py::test_bbdd23_schedule", "tests/test_samplers.py"], "book/06_bbdd23_proof.md"),
    Mutation("schedules.bbdd23_uniform_phase_points", "companion/schedules.py",
             "first = np.linspace(0.0, T - 1.0, n1 + 1)", "first = np.linspace(0.0, T - 1.0, n1)",
             "uniform phase with n1 points (n1 - 1 steps longer than kappa) instead of n1 + 1",
             ["tests/test_samplers.py::test_bbdd23_schedule", "tests/test_samplers.py"], "book/06_bbdd23_proof.md"),
    # ---- appendix A: Ito sums (companion/ito.py) ----
    Mutation("ito.brownian_increment_sqrt2", "companion/ito.py",
             "sh = np.sqrt(h)", "sh = np.sqrt(2.0 * h)",
             "Brownian increments sqrt(2h) g (the book's OU noise) instead of sqrt(h) g",
             ["tests/test_girsanov.py::test_ito_sums_identities", "tests/test_girsanov.py"], "book/appendix_ito.md"),
    Mutation("ito.ito_sum_right_point", "companion/ito.py",
             "left += b * db", "left += (b + db) * db",
             "Ito sum evaluated at B_{t_{k+1}} (off by one on the grid) instead of B_{t_k}",
             ["tests/test_girsanov.py::test_ito_sums_identities", "tests/test_girsanov.py"], "book/appendix_ito.md"),
    Mutation("ito.dds_noise_sqrt2", "companion/ito.py",
             "sh = np.sqrt(2.0 * h)", "sh = np.sqrt(h)",
             "int sqrt(2) e^r dB discretised without the sqrt 2 (variance (e^{2s} - 1)/2)",
             ["tests/test_girsanov.py::test_dds_variance", "tests/test_girsanov.py"], "book/appendix_ito.md"),
    Mutation("ito.exp_sum_right_point", "companion/ito.py",
             "left += y * ldx", "left += y_next * ldx",
             "d-dimensional Itô sum evaluated at Y_{t_{k+1}} instead of Y_{t_k}",
             ["tests/test_ito.py::test_exp_martingale_sums_against_a_numpy_rebuild", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.exp_mse_without_c", "companion/ito.py",
             "(np.expm1(ch) - ch) / np.expm1(ch))", "(np.expm1(ch) - ch) / np.expm1(ch) / c)",
             "mean square of the remainder without the factor c = |v^T lam|^2 of the isometry",
             ["tests/test_ito.py::test_exp_martingale_mse_against_quadrature_and_monte_carlo", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.sine_sum_right_point", "companion/ito.py",
             "left += np.sin(b) * db", "left += np.sin(b + db) * db",
             "Itô sum of sin(B) dB evaluated at the right end of the step (not adapted)",
             ["tests/test_ito.py::test_sine_sums_against_a_numpy_rebuild", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.sine_isometry_variance", "companion/ito.py",
             "np.sum(-0.5 * np.expm1(-2.0 * tk))", "np.sum(-0.5 * np.expm1(-tk))",
             "E sin^2 B_t = (1 - e^{-t})/2 instead of (1 - e^{-2t})/2",
             ["tests/test_ito.py::test_sine_sum_moments_against_gauss_hermite", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.sine_mid_mean_stein_half", "companion/ito.py",
             "float(0.5 * h * np.sum(np.exp(-0.5 * (tk + 0.25 * h))))",
             "float(h * np.sum(np.exp(-0.5 * (tk + 0.25 * h))))",
             "mean of the midpoint sums without the 1/2 of Stein's identity at the midpoint",
             ["tests/test_ito.py::test_sine_sum_moments_against_gauss_hermite", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.ou_transition_noise_transposed", "companion/ito.py",
             "blk[:d, d:] = G @ G.T", "blk[:d, d:] = G.T @ G",
             "transition covariance built from G^T G instead of G G^T",
             ["tests/test_ito.py::test_ou_transition_against_quadrature", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.gbm_stratonovich_drift", "companion/ito.py",
             "m = np.log(x0) + (rate - 0.5 * vol * vol) * t", "m = np.log(x0) + rate * t",
             "log of the geometric Brownian motion without the Itô correction -vol^2/2",
             ["tests/test_ito.py::test_gbm_density_marginals_and_mass", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.forward_residual_no_half", "companion/ito.py",
             "return out - 0.5 * D", "return out - D",
             "Fokker-Planck residual with the diffusion term tr(A Hess) instead of (1/2) tr(A Hess)",
             ["tests/test_ito.py::test_forward_residual_forms", "tests/test_ito.py"], "book/appendix_ito.md"),
    Mutation("ito.refine_first_increment_only", "companion/ito.py",
             "for j in range(j0, j0 + r):", "for j in range(j0, j0 + 1):",
             "coarse Euler-Maruyama steps take one fine Brownian increment instead of their sum",
             ["tests/test_ito.py::test_reverse_sde_refinements_against_a_numpy_rebuild", "tests/test_ito.py"], "book/appendix_ito.md"),
    # ---- chapter 5: stochastic localization (companion/localization.py) ----
    Mutation("localization.scale_without_sqrt", "companion/localization.py",
             "out = np.sqrt(a * (a + 1.0))", "out = a * (a + 1.0)",
             "the time-change factor s e^{t(s)} taken as s(s+1) instead of sqrt(s(s+1))",
             ["tests/test_localization.py::test_time_change_round_trip_and_scale", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.tilt_channel_unit_noise", "companion/localization.py",
             "S = s * s * C + s * np.eye(d)", "S = s * s * C + np.eye(d)",
             "covariance of the channel s X + sqrt(s) G as s^2 C + I (noise variance 1) instead of s^2 C + s I",
             ["tests/test_localization.py::test_tilt_of_a_gaussian_is_the_conjugate_posterior", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.tilt_posterior_cov_gain", "companion/localization.py",
             "pc = C - s * np.einsum(", "pc = C - np.einsum(",
             "tilted covariance C - gain C instead of C - s gain C (the factor s of the observation dropped)",
             ["tests/test_localization.py::test_tilt_of_a_gaussian_is_the_conjugate_posterior", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.tilt_evidence_half", "companion/localization.py",
             "logr = np.log(target.weights) - 0.5 * (quad + logdet[0])",
             "logr = np.log(target.weights) - (quad + logdet[0])",
             "tilt's component weights from exp(-(quad + logdet)) without the 1/2 of the Gaussian evidence",
             ["tests/test_localization.py::test_tilt_of_a_discrete_prior_is_bayes_by_hand", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.llr_channel_variance", "companion/localization.py",
             "target.channel(s, np.sqrt(s)).logpdf(pts)", "target.channel(s, s).logpdf(pts)",
             "normaliser Z_s(u) from the channel s X + s G (noise standard deviation s instead of sqrt(s))",
             ["tests/test_localization.py::test_likelihood_ratio_against_direct_normaliser", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.hermite_nodes_without_sqrt2", "companion/localization.py",
             "nodes = np.stack([g.ravel() for g in grids], axis=1) * np.sqrt(2.0)",
             "nodes = np.stack([g.ravel() for g in grids], axis=1)",
             "Gauss-Hermite nodes not scaled by sqrt(2): expectations under N(0, I/2) instead of N(0, I)",
             ["tests/test_localization.py::test_expectation_against_scipy", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.ou_paths_noise_rate", "companion/localization.py",
             "x = np.exp(-dt) * x + np.sqrt(-np.expm1(-2.0 * dt)) * z",
             "x = np.exp(-dt) * x + np.sqrt(-np.expm1(-dt)) * z",
             "exact OU transition with noise variance 1 - e^{-dt} instead of 1 - e^{-2 dt}",
             ["tests/test_localization.py::test_fdd_closed_form_against_ou_paths_covariance", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.ou_fdd_cross_decay", "companion/localization.py",
             "block = float(ou.mean_coeff(b - a)) * var_a", "block = float(ou.mean_coeff(b - a)) ** 2 * var_a",
             "OU cross-covariance e^{-2(b-a)} Var(X_a) instead of e^{-(b-a)} Var(X_a)",
             ["tests/test_localization.py::test_fdd_closed_form_against_ou_paths_covariance", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    Mutation("localization.reverse_drift_score_half", "companion/localization.py",
             "target.at(t).score(pts) / (s * (s + 1.0))", "target.at(t).score(pts) / (2.0 * s * (s + 1.0))",
             "reversed OU drift in SL time with score coefficient 1/(2s(s+1)) instead of 1/(s(s+1)) (g^2 = 2 forgotten)",
             ["tests/test_localization.py::test_reverse_drift_forms_agree_on_the_ring", "tests/test_localization.py"],
             "book/05_stochastic_localization.md"),
    # ---- chapter 8: I-MMSE and Reeves-Pfister (companion/info.py) ----
    Mutation("info.gaussian_mmse_sqrt_snr", "companion/info.py",
             "return float(np.sum(lam / (1.0 + s * lam)))", "return float(np.sum(lam / (1.0 + np.sqrt(s) * lam)))",
             "Gaussian MMSE tr C (I + sqrt(s) C)^{-1}: the SNR s of sqrt(s) X + N taken as an amplitude",
             ["tests/test_info.py::test_gaussian_closed_forms_any_d", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.posterior_between_half", "companion/info.py",
             "between += r[i] * r[j] * dm * dm", "between += 0.5 * r[i] * r[j] * dm * dm",
             "between-component posterior variance sum_{i<j} r_i r_j (m_i - m_j)^2 halved (as if summed over all pairs)",
             ["tests/test_info.py::test_rademacher_against_audit_formulas", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.posterior_gain_snr", "companion/info.py",
             "gain[j] = rs * c[j] / v[j]", "gain[j] = s * c[j] / v[j]",
             "component posterior gain s c / (s c + 1) instead of sqrt(s) c / (s c + 1)",
             ["tests/test_info.py::test_mixture_against_entropy_quadrature", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.mi_log_without_one", "companion/info.py",
             "acc = math.exp(-top)", "acc = 0.0",
             "mixture I(s) with E log(sum_{j!=k} w_j p_j / (w_k p_k)) instead of E log(1 + sum ...)",
             ["tests/test_info.py::test_rademacher_against_audit_formulas", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.delta_n_right_endpoints", "companion/info.py",
             "M = mmse(target, g[:-1])", "M = mmse(target, g[1:])",
             "Lemma 2 with M(t_k) at the right end of each step instead of M(t_{k-1})",
             ["tests/test_info.py::test_delta_n_two_ways", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.path_kl_logdet_factor", "companion/info.py",
             "+ 2.0 * (np.sum(np.log(np.diag(LZ)))", "+ (np.sum(np.log(np.diag(LZ)))",
             "Gaussian path KL with log det K = sum log diag L (the factor 2 of the Cholesky log-determinant dropped)",
             ["tests/test_info.py::test_delta_n_gaussian_three_ways_and_moment2_exact", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.comparison_sqrt_t", "companion/info.py",
             "Y[:, k] = g[k] * X + W", "Y[:, k] = np.sqrt(g[k]) * X + W",
             "comparison process sqrt(t_k) X + W_k (the SNR channel's amplitude) instead of t_k X + W_k",
             ["tests/test_info.py::test_gaussian_path_laws_against_monte_carlo", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.moment2_sampler_delta", "companion/info.py",
             "Sig[a, b] = dk * dk * acc + (dk if a == b else 0.0)", "Sig[a, b] = dk * acc + (dk if a == b else 0.0)",
             "Remark 5 kernel noise delta Sigma + delta I instead of delta^2 Sigma + delta I",
             ["tests/test_info.py::test_moment2_sampler_and_posterior_sampler_reproduce_gaussian_law_in_2d",
              "tests/test_info.py"],
             "book/09_moment_matching.md"),
    Mutation("info.mmse_derivative_first_power", "companion/info.py",
             "accV2 += wz[k, q] * var * var", "accV2 += wz[k, q] * var",
             "M'(s) = -E Var(X | Y) (the MMSE itself) instead of -E Var(X | Y)^2",
             ["tests/test_info.py::test_mmse_derivative_against_finite_differences", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.mmse_derivative_gaussian_trace", "companion/info.py",
             "return -float(np.sum(sig * sig))", "return -float(np.sum(sig)) ** 2",
             "Gaussian M'(s) = -(tr Sigma)^2 instead of -tr Sigma^2",
             ["tests/test_info.py::test_mmse_derivative_gaussian_closed_form_3d", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.optimal_grid_no_sqrt", "companion/info.py",
             "w = np.sqrt(np.maximum(-np.asarray(mmse_derivative(target, u)), 0.0))",
             "w = np.maximum(-np.asarray(mmse_derivative(target, u)), 0.0)",
             "best grid with steps proportional to 1/(-M') (the discrete Lagrange condition read per step) instead of 1/sqrt(-M')",
             ["tests/test_info.py::test_optimal_grid_gaussian_closed_form_and_rademacher_rate", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.optimal_grid_inverse_swapped", "companion/info.py",
             "g = np.interp(np.arange(n + 1) / n * W[-1], W, u)",
             "g = np.interp(np.arange(n + 1) / n * T, u, W) * T / W[-1]",
             "best grid from the cumulative integral itself instead of its inverse",
             ["tests/test_info.py::test_optimal_grid_gaussian_closed_form_and_rademacher_rate", "tests/test_info.py"],
             "book/08_immse_reeves_pfister.md"),
    Mutation("info.logdet_as_trace", "companion/info.py",
             "accL += wz[k, q] * math.log1p(delta * var)", "accL += wz[k, q] * delta * var",
             "Remark 5 closed form with delta tr Sigma (Lemma 2's term) instead of log det(I + delta Sigma)",
             ["tests/test_info.py::test_moment2_logdet_formula_equals_the_chain_rule", "tests/test_info.py"],
             "book/09_moment_matching.md"),
    Mutation("info.logdet_right_endpoints", "companion/info.py",
             "for t, dk in zip(g[:-1], d))\n        return float(0.5 * logdet",
             "for t, dk in zip(g[1:], d))\n        return float(0.5 * logdet",
             "Remark 5 closed form with Sigma at t_k instead of t_{k-1} (the state the step starts from)",
             ["tests/test_info.py::test_moment2_logdet_formula_equals_the_chain_rule", "tests/test_info.py"],
             "book/09_moment_matching.md"),
    Mutation("info.logdet_no_half", "companion/info.py",
             "return float(0.5 * logdet - mutual_information(target, g[-1]))",
             "return float(logdet - mutual_information(target, g[-1]))",
             "Remark 5 closed form without the 1/2 of the Gaussian entropy's log-determinant",
             ["tests/test_info.py::test_moment2_logdet_formula_is_zero_for_a_gaussian_in_3d", "tests/test_info.py"],
             "book/09_moment_matching.md"),
    # ---- chapter 9: moment matching (companion/moments.py) ----
    Mutation("moments.smoothed_mean_scale", "companion/moments.py",
             "(y[:, None] - math.sqrt(s) * m) ** 2 / v", "(y[:, None] - s * m) ** 2 / v",
             "smoothed density of sqrt(s) A + N with component centres s m_j instead of sqrt(s) m_j",
             ["tests/test_moment_matching.py::test_smoothed_kl_gaussians_closed_form", "tests/test_moment_matching.py"],
             "book/09_moment_matching.md"),
    Mutation("moments.stable_integrand_under_p", "companion/moments.py",
             "return float(np.sum(wy * np.exp(lq) * _phi_np(L)))", "return float(np.sum(wy * np.exp(lp) * _phi_np(L)))",
             "the stable integrand u log u - u + 1 integrated against p instead of q",
             ["tests/test_moment_matching.py::test_smoothed_kl_gaussians_closed_form", "tests/test_moment_matching.py"],
             "book/09_moment_matching.md"),
    Mutation("moments.raw_moments_variance_power", "companion/moments.py",
             "m ** (k - i) * c ** (i // 2) * dfact", "m ** (k - i) * c ** i * dfact",
             "Gaussian moments with c^i (a variance for the standard deviation) instead of c^{i/2}",
             ["tests/test_moment_matching.py::test_raw_moments_against_scipy", "tests/test_moment_matching.py"],
             "book/09_moment_matching.md"),
    Mutation("moments.lemma3_factorial", "companion/moments.py",
             "(ma[k] - mb[k]) ** 2 / (2.0 * math.factorial(k))", "(ma[k] - mb[k]) ** 2 / (2.0 * math.factorial(k - 1))",
             "Lemma 3 constant with m! instead of (m+1)!",
             ["tests/test_moment_matching.py::test_lemma3_constant_examples", "tests/test_moment_matching.py"],
             "book/09_moment_matching.md"),
    Mutation("moments.w2_returns_square", "companion/moments.py",
             "return float(math.sqrt(np.sum(wz * dens * (qa - qb) ** 2)))",
             "return float(np.sum(wz * dens * (qa - qb) ** 2))",
             "wasserstein2_1d returns W_2^2 (the square root forgotten)",
             ["tests/test_moment_matching.py::test_w2_gaussians_against_divergences", "tests/test_moment_matching.py"],
             "book/09_moment_matching.md"),
    Mutation("moments.rademacher_posterior_log_odds", "companion/moments.py",
             "lwp = _log_sigmoid(2.0 * y)\n    lwm = _log_sigmoid(-2.0 * y)",
             "lwp = _log_sigmoid(y)\n    lwm = _log_sigmoid(-y)",
             "Rademacher posterior weights sigmoid(+-y) instead of sigmoid(+-2y) (log-odds y for 2y)",
             ["tests/test_moment_matching.py::test_step_kl_against_scipy", "tests/test_moment_matching.py"],
             "book/09_moment_matching.md"),
    # ---- chapter 10: ODE flows and consistency models (companion/consistency.py) ----
    Mutation("consistency.gaussian_flow_variance_ratio", "companion/consistency.py",
             "return mt * mu + (y - ms * mu) * np.sqrt(vt / vs)", "return mt * mu + (y - ms * mu) * (vt / vs)",
             "Gaussian flow map scaled by the variance ratio v_t/v_s instead of its square root",
             ["tests/test_consistency.py::test_gaussian_flow_matches_the_moment_odes", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.pf_score_variance_as_sd", "companion/consistency.py",
             "q = mixture.channel(m, np.sqrt(v))", "q = mixture.channel(m, v)",
             "probability-flow score of the marginal with noise standard deviation v(t) instead of sqrt(v(t))",
             ["tests/test_consistency.py::test_pf_ode_matches_an_independent_solver_and_the_exact_map",
              "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.reparam_s_squared", "companion/consistency.py",
             "coeff = float(sde.g(t)) ** 2 / (2.0 * m)", "coeff = float(sde.g(t)) ** 2 / (2.0 * m * m)",
             "VE-reparametrised velocity with s(t)^2 (003 eq. 5.12 as extracted) instead of one power of s",
             ["tests/test_consistency.py::test_reparam_velocity_equals_direct_velocity", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.cd_ct_w2_factor_two", "companion/consistency.py",
             "return float(2.0 * d * (a + b - np.hypot(a, b)))", "return float(d * (a + b - np.hypot(a, b)))",
             "W_2^2 between CD and CT pairs without its factor 2",
             ["tests/test_consistency.py::test_cd_ct_w2_against_scipy_sqrtm", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.shared_cross_moment", "companion/consistency.py",
             "return a, (c if kind == \"ct\" else c + t * tm), c + tm * tm",
             "return a, (c if kind == \"ct\" else c + tm * tm), c + tm * tm",
             "shared-noise pair E Y+ Y- = c + (t - delta)^2 instead of c + t (t - delta)",
             ["tests/test_consistency.py::test_pair_moments_against_monte_carlo", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.stop_gradient_regression_direction", "companion/consistency.py",
             "k[1:] = np.cumprod(B / A)", "k[1:] = np.cumprod(B / C)",
             "frozen-target step regresses Y+ on Y- (divides by E Y-^2) instead of the target on Y+",
             ["tests/test_consistency.py::test_stop_gradient_slopes_limits", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.joint_off_by_one", "companion/consistency.py",
             "diag = A + np.append(C[1:], 0.0)", "diag = A + np.append(C[:-1], 0.0)",
             "joint minimiser pairs slope k_j with the target variance of step j instead of step j + 1",
             ["tests/test_consistency.py::test_joint_slopes_minimise_the_summed_loss", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.cd_pair_ratio_squared", "companion/consistency.py",
             "return a, r * a, r * r * a", "return a, r * r * a, r * r * a",
             "distillation pair E Y+ Y- = r^2 E Y+^2 instead of r E Y+^2",
             ["tests/test_consistency.py::test_pair_moments_against_monte_carlo", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.cd_loss_second_moment", "companion/consistency.py",
             "return float(d * (c + t * t) * gap * gap)", "return float(d * c * gap * gap)",
             "CD loss with E||Y+||^2 = d c (the noise t^2 of Y+ dropped) instead of d (c + t^2)",
             ["tests/test_consistency.py::test_consistency_losses_against_monte_carlo", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    Mutation("consistency.ct_loss_noise_time", "companion/consistency.py",
             "+ (k0 * (t - delta)) ** 2)", "+ (k0 * t) ** 2)",
             "CT loss with the noise of Y- at level t instead of t - delta",
             ["tests/test_consistency.py::test_consistency_losses_against_monte_carlo", "tests/test_consistency.py"],
             "book/10_ode_consistency.md"),
    # ---- chapter 11: fine-tuning by policy gradient (companion/finetune.py) ----
    Mutation("finetune.phi_integral_lower_limit", "companion/finetune.py",
             "return c / r * (np.arctan(np.exp(tau) / r) - np.arctan(1 / r))",
             "return c / r * np.arctan(np.exp(tau) / r)",
             "int_t^T Phi(T, u) du without the lower limit arctan(1/r) of the antiderivative",
             ["tests/test_finetune.py::test_phi_K_and_variance_against_quadrature", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.var_YT_phi_unsquared", "companion/finetune.py",
             "return float(self.phi(0.0) ** 2 + self.noise_var(0.0))",
             "return float(self.phi(0.0) + self.noise_var(0.0))",
             "Var Y_T with Phi(T, 0) instead of Phi(T, 0)^2 for the start's contribution",
             ["tests/test_finetune.py::test_phi_K_and_variance_against_quadrature", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.dJ_quadratic_factor", "companion/finetune.py",
             "- 2 * self.beta * self.T * theta)",
             "- self.beta * self.T * theta)",
             "dJ/dtheta with beta T theta instead of 2 beta T theta (d theta^2/d theta = theta)",
             ["tests/test_finetune.py::test_reference_numbers_of_the_example", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.terminal_kl_without_half", "companion/finetune.py",
             "return 2 * theta**2 * self.K**2 / self.var_YT", "return 4 * theta**2 * self.K**2 / self.var_YT",
             "terminal KL (Delta m)^2 / var instead of (Delta m)^2 / (2 var) for equal-variance Gaussians",
             ["tests/test_finetune.py::test_reference_numbers_of_the_example", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.policy_score_sd", "companion/finetune.py",
             "acc += (a - mu) / (sigma_e * sigma_e) * q * h", "acc += (a - mu) / sigma_e * q * h",
             "score of the Gaussian policy (a - mu)/sigma_e instead of (a - mu)/sigma_e^2 in the estimator",
             ["tests/test_finetune.py::test_policy_gradient_estimator_expectation_is_the_grid_sum",
              "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.q_running_cost_half", "companion/finetune.py",
             "r = -self.beta * (a - self.s_pre(t, y)) ** 2", "r = -0.5 * self.beta * (a - self.s_pre(t, y)) ** 2",
             "running cost -(beta/2)|a - s_pre|^2 without the g^2 = 2 in the q-function",
             ["tests/test_negative_controls_finetune.py::test_q_zero_mean_fails_for_the_printed_q_and_without_the_laplacian"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.kernel_drift_half_action", "companion/finetune.py",
             "y = y + (y + 2 * a) * h + np.sqrt(2 * h) * z[1]", "y = y + (y + a) * h + np.sqrt(2 * h) * z[1]",
             "exploratory dynamics with drift y + a instead of y + g^2 a",
             ["tests/test_finetune.py::test_simulation_matches_moments_and_a_numpy_reference", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.q_without_laplacian", "companion/finetune.py",
             "extra = (self.d2V_dy2(t) + y * dv) if full else 0.0", "extra = (y * dv) if full else 0.0",
             "the full q-function without (1/2) g^2 Lap V (zero for a linear reward, not here)",
             ["tests/test_negative_controls_finetune.py::test_q_zero_mean_fails_for_the_printed_q_and_without_the_laplacian"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.noise_var_time", "companion/finetune.py",
             "return self.c - self.c**2 / (np.exp(2 * tau) + self.c - 1)",
             "return self.c - self.c**2 / (np.exp(tau) + self.c - 1)",
             "variance of Y_T given Y_t with e^{T-t} for e^{2(T-t)}",
             ["tests/test_finetune.py::test_phi_K_and_variance_against_quadrature", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.theta_terminal_as_running", "companion/finetune.py",
             "/ (4 * self.lam * K * K + 2 * self.beta * K * K / self.var_YT))",
             "/ (4 * self.lam * K * K + self.beta * self.T))",
             "the terminal-KL maximiser computed with the path KL (the source's 'equivalent')",
             ["tests/test_finetune.py::test_J_against_simulated_rewards_and_maximisers_against_numerical_optimisation",
              "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.grid_mean_without_score", "companion/finetune.py",
             "m = m + (m + 2 * (theta - m / v[k])) * h", "m = m + (m + 2 * theta) * h",
             "expected gradient on the grid with the mean carried without the pretrained score",
             ["tests/test_finetune.py::test_grid_gradient_against_a_numpy_euler_chain", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
    Mutation("finetune.dV_dt_noise_term", "companion/finetune.py",
             "return (-self.lam * (2 * self._gap(t, y, theta) * dgap - 2 * ph * ph)",
             "return (-self.lam * (2 * self._gap(t, y, theta) * dgap - ph * ph)",
             "dV/dt with dS/dt = -Phi^2 instead of -2 Phi^2",
             ["tests/test_finetune.py::test_value_derivatives_against_finite_differences", "tests/test_finetune.py"],
             "book/11_learning_finetuning.md"),
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


def _importers(package):
    """module -> the modules of ``package`` that import it, directly or through others."""
    import ast

    direct = {}
    for path in package.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == package.name):
                if node.module and node.level == 1:
                    deps.add(node.module.split(".")[0])
                else:                                   # from . import x / from companion import x
                    deps.update(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".")[1] for a in node.names
                            if a.name.startswith(package.name + "."))
        direct[path.stem] = deps
    users = {m: set() for m in direct}
    for m, deps in direct.items():
        for dep in deps & set(direct):
            users[dep].add(m)
    closure = {}
    for m in direct:
        seen, todo = set(), [m]
        while todo:
            for u in users[todo.pop()] - seen:
                seen.add(u)
                todo.append(u)
        closure[m] = seen
    return closure


def _purge_numba_caches(package, modules):
    """Numba's on-disk cache is keyed on the source file of the cached function only: a kernel
    that calls a mutated kernel of another module would load its stale machine code and never
    see the mutation. Its importers' caches are therefore dropped (they recompile)."""
    for m in modules:
        for f in (package / "__pycache__").glob(f"{m}.*.nb[ic]"):
            f.unlink()


def _run_pytest(work, targets, timeout):
    """(exit code, last line, what failed first): the failing test's id, or for a chapter the
    identity id of the first check that failed (its ``[FAIL] id`` line, or "precondition")."""
    env = dict(os.environ, PYTHONPATH=str(work))
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header",
           "-rf", "-o", "addopts=--nbval-lax --nbval-current-env", *targets]
    try:
        r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout", None
    last = [ln for ln in r.stdout.strip().splitlines() if ln.strip()]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
    check = re.search(r"\[FAIL\] ([A-Za-z0-9_.]+)|\[precondition FAIL\]", plain)
    test = re.search(r"^FAILED (.+?)(?: - |$)", plain, re.M)
    first = ((check.group(1) or "precondition") if check else (test.group(1) if test else None))
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


def _md_text(text):
    """Plain text for a Markdown table cell: no emphasis, no HTML, no math, no column break."""
    for ch in "\\`*_[]$|":
        text = text.replace(ch, "\\" + ch)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def write_page():
    """book/check_strength.md from results.json: every mutation, grouped by chapter in book
    order, with what the unit tests and the chapter did with it."""
    rows = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    by_name = {m.name: m for m in MUTATIONS}
    runs = sorted({(r["commit"], r["date"]) for r in rows.values()}, key=lambda cd: (cd[1], cd[0]))
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
            desc = _md_text(by_name[m.name].description)
            lines.append(f"| `{m.name}` | {desc} | {r['tests']} | {r.get('chapter') or '-'} | "
                         f"{caught or '-'} |")
        lines.append("")
    PAGE.write_text("\n".join(lines), encoding="utf-8")
    return PAGE


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", action="append", default=[],
                    help="run only mutations whose name contains this (repeat: any of them)")
    ap.add_argument("--chapters", action="store_true", help="also run each mutation's chapter")
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per pytest run")
    ap.add_argument("--page", action="store_true",
                    help="record the results in tests/mutation/results.json and rewrite "
                         "book/check_strength.md (only the page, with no mutation run, under --list)")
    args = ap.parse_args(argv)
    todo = [m for m in MUTATIONS if not args.k or any(k in m.name for k in args.k)]
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
        importers = _importers(work / "companion")
        for i, m in enumerate(todo, 1):
            _restore_package(work, pristine)
            path = work / m.file
            path.write_text(path.read_text(encoding="utf-8").replace(m.original, m.mutated), encoding="utf-8")
            if path.parent.name == "companion":
                _purge_numba_caches(path.parent, importers[path.stem])
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
                if code not in (0, 1, 5, None):
                    # 2-4: interrupted, internal or usage error (a missing plugin, say): the run
                    # says nothing about the mutation, and must not be recorded as a kill
                    print(f"pytest could not run ({what}, exit code {code}): {summary}", file=sys.stderr)
                    return 2
                v = "killed" if code == 1 else ("TIMEOUT" if code is None else "SURVIVED")
                verdicts.append(f"{what} {v}: {summary}")
                row[what] = v
                row[f"{what}_first"] = first
                if v != "killed" and m not in survivors:
                    survivors.append(m)
            rows.append(row)
            if args.page:                 # recorded as it goes: an interrupted run keeps its rows
                _record([row])
            verdict = "killed" if m not in survivors else "SURVIVED"
            print(f"[{i:2d}/{len(todo)}] {verdict:8s} {m.name:36s} {time.time() - t0:6.1f} s  "
                  + "; ".join(verdicts), flush=True)
    print(f"\n{len(todo) - len(survivors)} of {len(todo)} mutations killed in {time.time() - t_start:.0f} s")
    if args.page:
        print("page written:", write_page())
    for m in survivors:
        print(f"  survivor: {m.name} ({m.file}): {m.description}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
