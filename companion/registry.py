"""The identity registry: every id the book verifies, with its statement, source and chapter.

This is the machine-readable form of the catalogue (IDENTITIES.md). ``companion.verify`` refuses
ids that are not here; a test checks that every chapter verifies exactly the ids registered to
it, and the appendix page of the book is generated from this table.
"""
import html
import re
from collections import namedtuple
from pathlib import Path

__all__ = ["Identity", "IDENTITIES", "CHAPTERS", "get", "ids_for_chapter", "ids_in_source",
           "coverage", "coverage_html", "toc_chapters"]

Identity = namedtuple("Identity", "id statement source chapter")

#: chapter file stem -> chapter title
CHAPTERS = {
    'intro': 'Introduction',
    '01_forward_process': 'The forward process (Ornstein-Uhlenbeck)',
    '02_tweedie_score_matching': "Tweedie's formula and score matching",
    '03_time_reversal': 'Time reversal, probability-flow ODE and discretisation',
    '04_girsanov': 'Girsanov and path-space KL',
    '05_stochastic_localization': 'Stochastic localization and diffusion',
    '06_bbdd23_proof': 'The BBDD23 proof',
    '07_tv_wasserstein': 'Guarantees in total variation and Wasserstein distance',
    '08_immse_reeves_pfister': 'I-MMSE and discrete-time proofs (Reeves-Pfister)',
    '09_moment_matching': 'Moment matching',
    '10_ode_consistency': 'ODE samplers and consistency models',
    '11_learning_finetuning': 'Learning and fine-tuning the score',
    'appendix_ito': 'The Itô toolbox',
}

_ROWS = [
    # --- intro ---
    ('demo.sample_variance',
     'the sample variance of N(0, 2) estimates 2 (the worked example of the introduction)',
     'this book',
     'intro'),
    # --- end of intro ---
    # --- 01_forward_process ---
    ('ou.closed_form',
     'X_t = e^{-t} X_0 + sqrt(1 - e^{-2t}) g in law; an Euler-Maruyama simulation of the SDE from a non-Gaussian X_0 matches the exact marginal (mean, variance and a distributional test)',
     '001 deferred proof 1; 000 eq. 3',
     '01_forward_process'),
    ('ou.ito_isometry',
     'Var(sqrt(2) int_0^t e^{s-t} dB_s) = 1 - e^{-2t}',
     '001 deferred proof 1',
     '01_forward_process'),
    ('ou.fokker_planck',
     'd/dt q_t = div(x q_t) + Laplacian q_t, for a Gaussian-mixture q (finite differences of the closed form)',
     '001 reverse-time slides',
     '01_forward_process'),
    ('ou.kl_decay',
     'KL(q_T || N(0,I)) <= e^{-2T} KL(q || N(0,I))',
     '001 initialization error',
     '01_forward_process'),
    ('ou.lemma33',
     'KL(q_T || N(0,I_d)) <= E KL(N(e^{-T}x_0, sigma_T^2 I) || N(0,I)) = -(d/2) log(1 - e^{-2T}) <= d e^{-2T} when E X_0 = 0, Cov X_0 = I (the source drops the 1/2)',
     '000 Lemma 3.3',
     '01_forward_process'),
    ('sde.vp_marginal',
     'VP SDE with linear beta(t): X_t given X_0 is N(e^{-(1/2) int beta} x, (1 - e^{-int beta}) I)',
     '003 eq. 3.10',
     '01_forward_process'),
    ('sde.ve_marginal',
     'VE SDE with geometric sigma(t): X_t given X_0 is N(x, (sigma^2(t) - sigma_min^2) I)',
     '003 §3(b)',
     '01_forward_process'),
    ('sde.subvp_marginal',
     'sub-VP: X_t given X_0 is N(e^{-(1/2) int beta} x, (1 - e^{-int beta})^2 I)',
     '003 eq. 3.13',
     '01_forward_process'),
    ('ou.path_covariance',
     'Cov(X_s, X_t) = e^{-(s+t)} Cov X_0 + (e^{-abs(t-s)} - e^{-(s+t)}) I: the OU process is not the time-changed B_{1-e^{-2t}} of the marginal formula',
     '000 eq. 3 (marginal only)',
     '01_forward_process'),
    ('ou.em_stationary_variance',
     'Euler-Maruyama for the OU with step h has stationary variance 1/(1 - h/2), not 1',
     'chapter 1',
     '01_forward_process'),
    ('sde.ou_general',
     'dX = theta(mu - X)dt + sigma dB: X_t given X_0 = x is N(mu + (x - mu)e^{-theta t}, sigma^2(1 - e^{-2 theta t})/(2 theta) I)',
     '003 eq. 3.1',
     '01_forward_process'),
    ('sde.langevin_stationary',
     'dX = -grad U dt + sigma dB leaves exp(-2U/sigma^2) invariant',
     '003 eqs. 3.3-3.4',
     '01_forward_process'),
    ('sde.ddpm_limit',
     'the DDPM chain x_i = sqrt(1 - b_i) x_{i-1} + sqrt(b_i) z_i converges to the VP marginal at rate O(1/N)',
     '003 §3(c)',
     '01_forward_process'),
    ('sde.cvp_marginal',
     'contractive VP (f = beta x/2, g = sqrt beta): X_t given X_0 is N(e^{B(t)/2} x, (e^{B(t)} - 1) I)',
     '003 eqs. 3.15-3.17',
     '01_forward_process'),
    # --- end of 01_forward_process ---
    # --- 02_tweedie_score_matching ---
    ('tweedie.mean',
     'E[x given x~] = x~ + sigma^2 grad log p~(x~), for x~ = x + e, e ~ N(0, sigma^2 I): closed form and a Monte Carlo regression',
     '001 Tweedie + proof',
     '02_tweedie_score_matching'),
    ('tweedie.noise',
     'E[e given x~] = -sigma^2 grad log p~(x~) (Bayes noise predictor)',
     '001',
     '02_tweedie_score_matching'),
    ('tweedie.ou_score',
     'grad log q_t(x) = -sigma_t^{-2} x + e^{-t} sigma_t^{-2} m_t(x)',
     '000 Lemma 3.6; 002 App. B',
     '02_tweedie_score_matching'),
    ('tweedie.ou_hessian',
     'Hessian log q_t(x) = -sigma_t^{-2} I + e^{-2t} sigma_t^{-4} Sigma_t(x)',
     '000 Lemma 3.6',
     '02_tweedie_score_matching'),
    ('sm.score_energy',
     'E_{q_t} ||grad log q_t||^2 = d sigma_t^{-2} - e^{-2t} sigma_t^{-4} E Tr Sigma_t <= d sigma_t^{-2}',
     '000 (Nishimori-style bound)',
     '02_tweedie_score_matching'),
    ('sm.ism',
     'implicit score matching J_ISM(theta) = J_ESM(theta) + C for a parametric model, C independent of theta',
     '003 Thm 4.1',
     '02_tweedie_score_matching'),
    ('sm.sliced',
     'E_v[v^T (grad s) v] = div s for v ~ N(0, I)',
     '003 eq. 4.7, Thm 4.2',
     '02_tweedie_score_matching'),
    ('sm.dsm',
     'denoising score matching J_DSM(theta) = J_ESM(theta) + C; its minimiser over a rich enough class recovers the score (Song-Ermon noise-prediction objective)',
     '003 Thm 4.3; 001',
     '02_tweedie_score_matching'),
    ('sm.asymptotic_normality',
     'for an exponential family, sqrt(n)(theta_hat - theta*) has the sandwich covariance Gamma_SM',
     '003 Thm 7.1',
     '02_tweedie_score_matching'),
    ('tweedie.score_convolution',
     "if p' = p * N(0, sigma^2 I) then grad log p'(x) = E[grad log p(Y) given Y + sigma G = x]",
     '001 time discretisation',
     '02_tweedie_score_matching'),
    ('sm.fisher_ibp',
     'E_q ||grad log q||^2 = -E_q Laplacian log q (hence <= L d when -Hess log q <= L I)',
     '001',
     '02_tweedie_score_matching'),
    ('sm.dsm_weight',
     'E||grad log p(t, X_t given X_0)||^2 = d/sigma_t^2, so lambda(t) proportional to sigma_t^2 turns DSM into the noise-prediction loss',
     '003 eqs. 4.13-4.14',
     '02_tweedie_score_matching'),
    ('sm.hutchinson_variance',
     "the variance of Hutchinson's divergence estimator: 2 ||sym J||_F^2 with Gaussian probes, less with Rademacher probes",
     'chapter 2',
     '02_tweedie_score_matching'),
    # --- end of 02_tweedie_score_matching ---
    # --- 03_time_reversal ---
    ('rev.fokker_planck',
     'the reverse-process Fokker-Planck equation is the forward one with time negated',
     '001; 000 §4.4',
     '03_time_reversal'),
    ('rev.marginals',
     'the reverse SDE dY = (Y + 2 grad log q_{T-t}(Y)) dt + sqrt(2) dB from Y_0 ~ q_T has Y_t ~ q_{T-t}',
     '000 eq. 4; 001',
     '03_time_reversal'),
    ('rev.score_growth',
     'a Gaussian mixture with positive-definite covariances has a score of linear growth, '
     '|grad log q(x)| <= max_k ||P_k|| (|x| + max_k |m_k|), which is not globally Lipschitz when '
     'components have differently oriented covariances',
     '003 §2 (the hypotheses of Theorem 2.1)',
     '03_time_reversal'),
    ('rev.one_step',
     'given X_tau = y, X_{tau-h} has mean y + h (y + 2 grad log q_tau(y)) + O(h^2) and covariance 2h I + O(h^2)',
     '001 (the reverse step as denoising); 000 Lemma 3',
     '03_time_reversal'),
    ('rev.path_law',
     'the reverse SDE from Y_0 ~ q_T has the law of (X_{T-t}) as a process: '
     'Cov(Y_s, Y_t) = Cov(X_{T-s}, X_{T-t})',
     '003 Thm 2.1; 000 eq. 4',
     '03_time_reversal'),
    ('rev.reversal_family',
     'for every eta >= 0, dY = (Y + (1 + eta^2/2) grad log q_{T-t}(Y)) dt + eta dB from Y_0 ~ q_T has Y_t ~ q_{T-t}',
     '003 Thm 2.1 and Thm 5.1 (interpolated)',
     '03_time_reversal'),
    ('rev.exp_integrator',
     'with the score frozen on [kh,(k+1)h] the step is exactly e^h x + (e^h - 1) 2 s + N(0, (e^{2h} - 1) I)',
     '001 deferred proof 3',
     '03_time_reversal'),
    ('rev.pf_ode',
     'the probability-flow ODE dY/dt = Y + grad log q_{T-t}(Y) has the same marginals as the reverse SDE',
     '003 Thm 5.1',
     '03_time_reversal'),
    ('rev.time_reversal_general',
     'the general time-reversal formula (003 Thm 2.1) for the VP and VE examples',
     '003 Thm 2.1',
     '03_time_reversal'),
    ('rev.discretisation_order',
     'weak error of Euler-Maruyama vs exponential integrator as h -> 0: measured orders',
     '003 §6.3',
     '03_time_reversal'),
    ('rev.pc_corrector',
     'a Langevin corrector step with step e on N(0, v) maps variance w to (1 - e/v)^2 w + 2e; its fixed point is v/(1 - e/(2v)), not v',
     '003 eq. 6.18',
     '03_time_reversal'),
    ('rev.ei_general',
     'exponential integrator for the reversal dY = (f(T-t) Y + g(T-t)^2 s) dt + g(T-t) dB of dX = -f X dt + g dB, s frozen: '
     'weights with Psi(u, t_{k+1}) inside the integrals (differs from Psi(t_k, u) for sub-VP)',
     '003 eqs. 6.19-6.20',
     '03_time_reversal'),
    ('rev.ula_bias',
     'the unadjusted Langevin algorithm is biased by O(h) at stationarity',
     'chapter 3',
     '03_time_reversal'),
    ('rev.ode_vs_sde_paths',
     "the probability-flow ODE matches the SDE's marginals but not its joint laws in time",
     'chapter 3',
     '03_time_reversal'),
    # --- end of 03_time_reversal ---
    # --- 04_girsanov ---
    ('gir.discrete_lr',
     "for discretised paths, log(L_Q/L_P) = -(1/4) sum h ||b - b'||^2 + (1/sqrt 2) sum <sqrt h g, b - b'>",
     '001 heuristic proof',
     '04_girsanov'),
    ('gir.martingale',
     'E_P[dQ/dP] = 1',
     '000 Prop 3.1',
     '04_girsanov'),
    ('gir.kl_path',
     "KL(Q || P) = (1/4) E_Q int ||b_t - b'_t||^2 dt, against an exactly computable Gaussian path KL",
     '001; 000 Prop 3.2',
     '04_girsanov'),
    ('gir.kl_chain',
     'KL(Q || P^pi) = KL(Q || P^{q_T}) + KL(q_T || pi)',
     '000 eq. 15',
     '04_girsanov'),
    ('gir.dpi',
     'KL(q_delta || p_{t_N}) <= KL(Q || P^pi)',
     '000 eq. 10',
     '04_girsanov'),
    ('gir.diffusion_kl',
     'KL(true reverse path || algorithm path) = sum_k int E||grad log q_{T-t}(Y_t) - s(Y_{t_k})||^2 dt',
     '001; 000 eqs. 14, 16',
     '04_girsanov'),
    ('gir.langevin',
     'ULA vs Langevin: KL bound and its scaling in h for a strongly log-concave target',
     '001 warm-up',
     '04_girsanov'),
    ('gir.chen_tv',
     "the Chen et al. '23 TV bound (constants unspecified): the ratio of the measured TV for a 1-D mixture to the bracket stays bounded along sweeps in h and T",
     '001 convergence guarantee',
     '04_girsanov'),
    ('gir.brownian_shift',
     'under the Girsanov-weighted law, B_t - int_0^t b_r dr is a Brownian motion (mean 0, variance T, fourth moment 3T^2)',
     '000 Prop 3.1',
     '04_girsanov'),
    ('gir.talagrand',
     'for alpha-strongly log-concave q: W_2^2(nu, q) <= (2/alpha) KL(nu || q), equality for translates of N(0, I/alpha) (the slides drop the 2)',
     '001',
     '04_girsanov'),
    ('conv.init_dpi',
     'the exact reverse SDE started from N(0, I) instead of q_T: KL(q || p_T) <= KL(q_T || N(0,I))',
     '001 initialization error',
     '04_girsanov'),
    ('conv.space_disc',
     'E||X_{T-t} - X_{T-kh}||^2 = (1 - e^{-tau})^2 E||X_{T-t}||^2 + (1 - e^{-2 tau}) d, tau = t - kh (an equality, not only <~)',
     '001 space discretisation',
     '04_girsanov'),
    ('conv.time_disc',
     "p' = p * N(0, sigma^2 I), -Hess log p <= L I: E_{p'}||grad log p - grad log p'||^2 <= L^2 sigma^2 d",
     '001 time discretisation',
     '04_girsanov'),
    # --- end of 04_girsanov ---
    # --- 05_stochastic_localization ---
    ('sl.sde',
     'U_t = t x* + B_t is the solution of dU = a_t(U) dt + dB, a_t(u) = E[x given t x + sqrt(t) G = u]',
     '000 Prop 4.1',
     '05_stochastic_localization'),
    ('sl.equivalence',
     '(U_s) and (s e^{t(s)} X_{t(s)}) have the same law, t(s) = (1/2) log(1 + 1/s) (finite-dimensional distributions)',
     '000 Thm 4.3; 001 SL slides',
     '05_stochastic_localization'),
    ('sl.martingale',
     'mu_t is a measure-valued martingale: E[mu_t(A)] = mu(A), E[L_s(x)] = 1',
     '001; 000',
     '05_stochastic_localization'),
    ('sl.prop1',
     'dL_s(x) = L_s(x)(x - a_s) . dB_s',
     '000 Prop 4.2 (BBDD23 Prop 1)',
     '05_stochastic_localization'),
    ('sl.prop2',
     'd/ds E[A_s] = -E[A_s^2]',
     '000 Prop 4.3 (BBDD23 Prop 2)',
     '05_stochastic_localization'),
    ('sl.localizes',
     'mu_t -> delta_{x*}, and the limit point has law mu',
     '000 §4.2',
     '05_stochastic_localization'),
    ('sl.tilt',
     "the tilt exp(<u, x> - t||x||^2/2) mu(dx), normalised, is the posterior of x given t x + sqrt(t) G = u, i.e. the OU posterior at t' = (1/2) log(1 + 1/t)",
     '000 eq. 29; 001 SL slides',
     '05_stochastic_localization'),
    ('sl.logL_drift',
     "d log L_s(x) = (x - a_s).dB^bar_s - (1/2)||x - a_s||^2 ds with the innovation Brownian motion (the source's proof flips the drift's sign)",
     '000 Prop 4.2 proof',
     '05_stochastic_localization'),
    ('sl.posterior_mean_qv',
     'a_s = E x* + int_0^s A_r dB^bar_r, so E A_s = Cov(x*) - int_0^s E A_r^2 dr (the proof omits a_0 = E x*)',
     '000 Prop 4.3 proof',
     '05_stochastic_localization'),
    ('sl.reverse_reparam',
     'the reverse SDE in SL time and c_s = sqrt(s(s+1)) X_s solving dc = m ds + dB',
     '001 SL <=> diffusion slides',
     '05_stochastic_localization'),
    # --- end of 05_stochastic_localization ---
    # --- 06_bbdd23_proof ---
    ('bbdd.schedule',
     'the schedule (uniform on [0, T-1], then exponential to T - delta) satisfies gamma_k <= kappa min{1, T - t_{k+1}}',
     '000 §3.2',
     '06_bbdd23_proof'),
    ('bbdd.lemma34',
     "sigma_t^3/(2 sigma_t') d/dt E[Sigma_t] = E[Sigma_t^2]",
     '000 Lemma 3.4',
     '06_bbdd23_proof'),
    ('bbdd.hessian_energy',
     "E||Hessian log q_t||_F^2 = d sigma^{-4} - 2 sigma' sigma^{-5} E Tr Sigma_t + sigma'^2 sigma^{-6} E Tr Sigma_t^2",
     '000 §3.3.3',
     '06_bbdd23_proof'),
    ('bbdd.lemma2',
     'the Itô dynamics of E_{s,t} = E||grad log q_{T-t}(Y_t) - grad log q_{T-s}(Y_s)||^2 as stated (the lemma is right; the sign slip is in the proof of Prop 4.2, see `sl.prop1`)',
     '000 Lemma 3.5',
     '06_bbdd23_proof'),
    ('bbdd.error3',
     'sum_k int E||grad log q_{T-t}(Y_t) - grad log q_{T-t_k}(Y_{t_k})||^2 dt <~ kappa^2 d N + kappa d T',
     '000 eq. 19/25',
     '06_bbdd23_proof'),
    ('bbdd.theorem1',
     'KL(q_delta || p_{t_N}) <= 2 eps_score^2 + 2 Error3 + KL(q_T || pi) with every term exact for Gaussian data, and the ratio of the left side to eps^2 + kappa^2 d N + kappa d T + d e^{-2T} (the theorem holds up to a constant); mixtures by estimates',
     '000 Thm 3.2',
     '06_bbdd23_proof'),
    ('bbdd.d_linear',
     'steps needed for a fixed KL grow at most linearly in d: log-log slope 1/2 (<= 1) for Gaussian product data, where the terminal KL scales like kappa^2; for a non-product mixture Error 3 grows linearly in d and stays below kappa^2 d N + kappa d T',
     '000 Thm 3.1',
     '06_bbdd23_proof'),
    ('bbdd.rates_table',
     'the rates of CCL+23, CLL23, BBDD23 side by side on one plot',
     '000 §3.4',
     '06_bbdd23_proof'),
    ('bbdd.score_sde',
     "along the exact reverse process dS_t = -S_t dt + sqrt 2 H_t dB'_t; equivalently E[S_t . S_s] = e^{-(t-s)} E||S_s||^2",
     '000 Lemma 3.5 (its root)',
     '06_bbdd23_proof'),
    ('bbdd.eq23',
     'dE_{s,t}/dt <= (1/2) E||S_s||^2 + 2 E||H_t||_F^2 <= E||S_s||^2 + 2 E||H_t||_F^2',
     '000 eq. 23',
     '06_bbdd23_proof'),
    ('bbdd.hessian_bound',
     'E||Hess log q_t||_F^2 <= d sigma_t^{-4} + (1/2) d/dt(sigma_t^{-4} E tr Sigma_t), with the exact slack (1/2) sigma_t^{-2} d/dt E tr Sigma_t',
     '000 §3.3.3',
     '06_bbdd23_proof'),
    ('bbdd.eq24',
     'E_{t_k,t} <= int_{t_k}^t [d sigma_{T-t_k}^{-2} + 2 d sigma_{T-r}^{-4}] dr - [phi(t) - phi(t_k)], phi(r) = sigma_{T-r}^{-4} E tr Sigma_{T-r}',
     '000 eq. 24',
     '06_bbdd23_proof'),
    ('bbdd.error_split',
     'eq. 17: the path KL <= 2 (score error) + 2 Error3, all terms exact for Gaussian data; without the factors 2 it fails',
     '000 eq. 17',
     '06_bbdd23_proof'),
    ('bbdd.tuning',
     'T = (1/2) log(d/eps^2), N, kappa as in §3.2 make each term of Theorem 1 <= eps^2 and the schedule fits in N steps',
     '000 §3.2',
     '06_bbdd23_proof'),
    ('bbdd.path_vs_terminal',
     'for Gaussian data the path KL scales like kappa, the terminal KL like kappa^2',
     '000 §3 (analysis)',
     '06_bbdd23_proof'),
    # --- end of 06_bbdd23_proof ---
    # --- 07_tv_wasserstein ---
    ('conv.tv_score',
     "TV(Law Y_T, p_data) <= TV(p(T), p_noise) + (eps/2)(int_0^T g^2)^{1/2} (eps sqrt(T/2) for the book's OU); the extracted eps sqrt(T)/2 fails",
     '003 Thm 6.2',
     '07_tv_wasserstein'),
    ('conv.tv_vp',
     'VP: TV <= (1/2) e^{-B/2}(E||x||^2 + d e^{-B}/(2(1 - e^{-B})))^{1/2} + (eps/2) B^{1/2}, B = int_0^T beta',
     '003 Cor 6.3',
     '07_tv_wasserstein'),
    ('conv.w2_coupling',
     'Gronwall bound W_2^2 <= e^{u(T)} W_2^2(p(T), p_noise) + (eps^2/(2h)) int g^2 e^{u(T) - u(T-t)} dt via synchronous coupling (informative for contractive designs)',
     '003 Thm 6.5',
     '07_tv_wasserstein'),
    ('conv.vp_logconcavity',
     'kappa-strongly log-concave data: the VP marginal is kappa_t-strongly log-concave, kappa_t = kappa/(e^{-B(t)} + kappa(1 - e^{-B(t)}))',
     '003 proof of Thm 6.6',
     '07_tv_wasserstein'),
    ('conv.w2_vp',
     "corrected Thm 6.6 (kappa > 1/2, 0 < h < min(kappa,1) - 1/2, c' = 2 min(kappa,1) - 1 - 2h): W_2^2 <= e^{-c'B} W_2^2(p(T), N(0,I)) + eps^2(1 - e^{-c'B})/(2hc'), asymptotically sharp",
     '003 Thm 6.6',
     '07_tv_wasserstein'),
    ('conv.table2_rates',
     'discretisation error of Euler-Maruyama in TV and W_2: exponent in the step >= 1/2 (1 for smooth data), exponent in d = 1/2',
     '003 Table 2',
     '07_tv_wasserstein'),
    ('conv.reverse_gaussian_law',
     'Gaussian data: the reverse SDE with the exact score started at p(T) has the marginals p(T - t); with a constant bias eps its law is Gaussian with mean and variance given by two linear ODEs (e.g. N(2 eps (1 - e^{-T}), 1) for N(0,1) data under OU)',
     '003 §6 (the exact tool behind the checks)',
     '07_tv_wasserstein'),
    ('conv.exact_tv',
     'TV between isotropic Gaussians in closed form: crossing points of the densities on the line, (non-central) chi-square distribution functions of a ball in R^d',
     '003 §6 (the exact tool behind the checks)',
     '07_tv_wasserstein'),
    # --- end of 07_tv_wasserstein ---
    # --- 08_immse_reeves_pfister ---
    ('rp.comparison_law',
     'Y_k = t_k X + W_k with Cov(W_k, W_m) = min(t_k, t_m) I; Law(Y_k / t_k) = mu * N(0, I/t_k)',
     '002 eqs. 2-3',
     '08_immse_reeves_pfister'),
    ('rp.markov',
     'Lemma 1: sufficiency E[X given Y_1..Y_k] = E[X given Y_k], and the reversed representation Y_k = (t_k/t_{k+1}) Y_{k+1} + sqrt(t_k/t_{k+1}) B_k with B_k independent of the future',
     '002 Lemma 1',
     '08_immse_reeves_pfister'),
    ('rp.immse',
     'I(b) - I(a) = (1/2) int_a^b M(s) ds (Gaussian exactly; binary input and mixtures by quadrature)',
     '002 §2; Guo-Shamai-Verdú',
     '08_immse_reeves_pfister'),
    ('rp.sandwich',
     '(delta_k/2) M(t_k) <= I(t_k) - I(t_{k-1}) <= (delta_k/2) M(t_{k-1})',
     '002 eq. 6',
     '08_immse_reeves_pfister'),
    ('rp.lemma2',
     'Delta_n = sum (delta_k/2) M(t_{k-1}) - I(t_n) + sum (delta_k/2) E||f_k - E[X given Y_{k-1}]||^2, against an independent exact path KL for Gaussian X',
     '002 Lemma 2',
     '08_immse_reeves_pfister'),
    ('rp.theorem1',
     'Delta_n <= (delta_max/2) tr Cov X + score-error term; uniform steps: T tr Cov/(2n)',
     '002 Thm 1, Remark 1',
     '08_immse_reeves_pfister'),
    ('rp.theorem2',
     'geometric steps t_k = (alpha^k - 1)/(alpha^n - 1) T: the Theorem 2 bound',
     '002 Thm 2',
     '08_immse_reeves_pfister'),
    ('rp.corollary1',
     'Delta_n <= d (log T_n)^2 / (2n) (1 + o(1)) with alpha_n = (T_n log T_n)^{1/n}',
     '002 Cor. 1',
     '08_immse_reeves_pfister'),
    ('rp.gaussian_max',
     'I(s) <= (1/2) log det(I + s Cov X) <= (d/2) log(1 + s M(0)/d), equality iff Gaussian',
     '002 §4.1',
     '08_immse_reeves_pfister'),
    ('rp.figure1',
     'Figure 1 reproduced: Delta_n is half the area between int M and its left Riemann sum',
     '002 Fig. 1',
     '08_immse_reeves_pfister'),
    ('rp.sampler',
     'the sampler Z_k = Z_{k-1} + delta_k f_k(Z_{k-1}) + sqrt(delta_k) N_k with exact f_k does NOT reproduce mu * N(0, I/t_n) (it under-disperses); D(Law Y_n || Law Z_n) <= Delta_n -> 0',
     '002 eq. 1',
     '08_immse_reeves_pfister'),
    ('rp.mean_score',
     'E[X given Y = y] = y/t + grad log p_Y(y) for Y = tX + sqrt(t) N',
     '002 footnote 1, App. B',
     '08_immse_reeves_pfister'),
    ('rp.posterior_sampling',
     'drawing X_k from the exact posterior given Y_{k-1} (eq. 7) reproduces Law(Y_1..Y_n) exactly',
     '002 eq. 7',
     '08_immse_reeves_pfister'),
    ('rp.marginal_dpi',
     'D(Law Y_n || Law Z_n) <= Delta_n and TV <= sqrt(Delta_n/2)',
     '002 Remark 3',
     '08_immse_reeves_pfister'),
    ('rp.chain_rule',
     'Delta_n = sum_k E D(P_k(. given Y_{k-1}) || Q_k(. given Y_{k-1})), computed without I-MMSE, equals Lemma 2',
     '002 eqs. 5, 10',
     '08_immse_reeves_pfister'),
    ('rp.telescoped',
     'exact f: Delta_n <= sum (delta_k/2)(M(t_{k-1}) - M(t_k)) <= (delta_max/2)(M(0) - M(t_n))',
     '002 proof of Thm 1',
     '08_immse_reeves_pfister'),
    ('rp.entropy_limit',
     'I is concave increasing; I(s) -> H(X) for discrete X, ~ (d/2) log s with a density',
     '002 §4.1',
     '08_immse_reeves_pfister'),
    # --- end of 08_immse_reeves_pfister ---
    # --- 09_moment_matching ---
    ('mm.remark5',
     'the kernel Z_k = Z_{k-1} + delta f + (delta^2 Sigma + delta I)^{1/2} N matches the first two conditional moments',
     '002 Remark 5',
     '09_moment_matching'),
    ('mm.theorem3',
     'Delta_n decays like n^{-m}: measured slope -1 for mean matching, -2 for mean+covariance matching (exact Delta_n by quadrature in d = 1)',
     '002 Thm 3',
     '09_moment_matching'),
    ('mm.lemma3',
     'D(mu * N(1/s) || nu * N(1/s)) = O(s^{m+1}) when mu and nu share m moments (e.g. Rademacher vs N(0,1): m = 3, slope 4)',
     '002 Lemma 3',
     '09_moment_matching'),
    ('mm.gaussian_exact',
     'for Gaussian X the Remark 5 kernel is exact: Delta_n = 0',
     '002 Remark 5',
     '09_moment_matching'),
    ('mm.lemma3_constant',
     'sharp small-s form in 1-D: D = s^{m+1}(E A^{m+1} - E B^{m+1})^2/(2 (m+1)!) (1 + O(s)) (Rademacher vs N(0,1): s^4/12)',
     '002 Lemma 3 (ref. 25)',
     '09_moment_matching'),
    ('mm.convexity_bound',
     'D(mu * N(1/s) || nu * N(1/s)) <= (s/2) W_2^2(mu, nu)',
     '002 proof of Lemma 3',
     '09_moment_matching'),
    # --- end of 09_moment_matching ---
    # --- 10_ode_consistency ---
    ('ode.pf_marginals',
     'VP and VE probability-flow ODEs reproduce the SDE marginals',
     '003 Thm 5.1, eqs. 5.9-5.10',
     '10_ode_consistency'),
    ('ode.reparam',
     'sampling VP with the VE score through the space-time change (5.11)-(5.13)',
     '003 §5.1',
     '10_ode_consistency'),
    ('ode.flow_group',
     'the ODE flow satisfies F(t, s, Y_s) = Y_t and composes',
     '003 eq. 5.14',
     '10_ode_consistency'),
    ('ode.cd_vs_ct',
     'W_2^2 between the CD pairs and the CT pairs drawn with independent noise, for a point mass: 2d(t^2 + (t - delta)^2 - sqrt(t^4 + (t - delta)^4)) -> 2(2 - sqrt 2) t^2 d',
     '003 eq. 5.17',
     '10_ode_consistency'),
    ('ode.monotone_map',
     'in 1-D the PF-ODE flow map is the monotone transport F(t, s, y) = Q_t(C_s(y))',
     '003 eq. 5.14',
     '10_ode_consistency'),
    ('ode.consistency_pde',
     'the consistency function solves d_t F - t grad log p . grad F = 0 (VE, sigma = t); with the exact F the CD pair loss (one Euler step with the exact score) is O(delta^4), each pair being off by O(delta^2), while the independent-pair CT loss tends to the positive constant 2 d t^2 (c + eps0^2)/(c + t^2) for N(0, cI) data',
     '003 eqs. 5.15-5.19',
     '10_ode_consistency'),
    ('ode.ct_unbiased',
     'E[(Y_t - x)/t given Y_t = y] = -t grad log p(t, y): the CT target has the CD target as conditional mean',
     '003 eqs. 5.18-5.19',
     '10_ode_consistency'),
    # --- end of 10_ode_consistency ---
    # --- 11_learning_finetuning ---
    ('stat.vp_tweedie_param',
     'VP: grad log p(t, x) = (sqrt(gamma) E[X_0 given X_t = x] - x)/(1 - gamma), gamma(t) = e^{-int_0^t beta}',
     '003 eqs. 7.7-7.8',
     '11_learning_finetuning'),
    ('stat.ism_minimizer',
     'for p_theta proportional to exp(theta . F): the ISM minimiser theta* = -E[grad F grad F^T]^{-1} E[Laplacian F] is the true parameter',
     '003 Thm 7.1',
     '11_learning_finetuning'),
    ('stat.sm_efficiency',
     'Gamma_SM >= Gamma_MLE (quartic family: strictly; Gaussian precision: equality)',
     '003 §7.1',
     '11_learning_finetuning'),
    ('stat.error_decomp',
     'score error of the fitted model = approximation error + sample error, the excess decaying like tr(G^{-1} Omega)/n',
     '003 Thm 7.2',
     '11_learning_finetuning'),
    ('rl.kl_path_bound',
     'KL(p_theta(T) || p_pre(T)) <= path KL = (1/2) int g^2 E||mu_theta - s_pre||^2: the running-cost objective is a lower bound of 7.13, not an equivalent form',
     '003 eqs. 7.13-7.14',
     '11_learning_finetuning'),
    ('rl.policy_gradient',
     'Thm 7.3 in a linear-quadratic case: finite differences of J, the policy-gradient formula, and its Monte Carlo estimate agree',
     '003 Thm 7.3',
     '11_learning_finetuning'),
    ('rl.q_zero_mean',
     'the full continuous-time q-function has zero mean under the policy; the printed q differs by a baseline',
     '003 eqs. 7.15-7.17',
     '11_learning_finetuning'),
    # --- end of 11_learning_finetuning ---
    # --- appendix_ito ---
    ('ito.quadratic_variation',
     'sum (Delta B)^2 -> t',
     '000 §4.1',
     'appendix_ito'),
    ('ito.lemma',
     "Itô's lemma for g(t, X_t), checked pathwise as the step shrinks",
     '000 Thm 4.1',
     'appendix_ito'),
    ('ito.isometry',
     'E(int X dB)^2 = E int X^2 dt',
     '000 Thm 4.2',
     'appendix_ito'),
    ('ito.dds',
     'int_0^s sqrt(2) e^r dB_r is a Brownian motion run at clock e^{2s} - 1',
     '000 eq. 33',
     'appendix_ito'),
    # --- end of appendix_ito ---
]

#: id -> Identity, in catalogue order
IDENTITIES = {r[0]: Identity(*r) for r in _ROWS}


def get(identity_id):
    """The registered Identity with this id; ValueError for an unknown id."""
    try:
        return IDENTITIES[identity_id]
    except (KeyError, TypeError):
        raise ValueError(f"unknown identity id {identity_id!r}: register it in "
                         "companion/registry.py (and IDENTITIES.md) first") from None


def ids_for_chapter(stem):
    """Ids registered to the chapter with this file stem, in catalogue order."""
    return [i for i, r in IDENTITIES.items() if r.chapter == stem]


_CALL = re.compile(r"verify\.(?:close|leq|slope|ks)\(\s*[\"']([A-Za-z0-9_.]+)[\"']")


_LITERAL = re.compile(r"[\"']([a-z]+\.[a-z0-9_]+)[\"']")


def ids_in_source(text):
    """Identity ids a chapter's source verifies, in order of appearance.

    These are the ids written as the first argument of a ``verify`` call, plus registered ids
    written as string literals elsewhere (a chapter may loop over a table of ids and pass the
    loop variable to ``verify``).
    """
    seen = []
    for m in _CALL.finditer(text):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    for m in _LITERAL.finditer(text):
        if m.group(1) in IDENTITIES and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


BOOK_DIR = Path(__file__).resolve().parent.parent / "book"


def toc_chapters(book_dir=None):
    """Stems of the chapters listed in the book's ``_toc.yml`` (next to ``book_dir``)."""
    book_dir = BOOK_DIR if book_dir is None else Path(book_dir)
    toc = book_dir.parent / "_toc.yml"
    if not toc.exists():
        return []
    text = toc.read_text(encoding="utf-8")
    return re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*\S*?([^/\s]+?)(?:\.md)?\s*$", text, flags=re.M)


def coverage(book_dir=None):
    """Map every registered id to the chapter stem whose source verifies it (or None).

    Only chapters that are part of the book (listed in ``_toc.yml``) and exist as
    ``<stem>.md`` in ``book_dir`` (default: the book next to the package) count.
    """
    book_dir = BOOK_DIR if book_dir is None else Path(book_dir)
    listed = set(toc_chapters(book_dir))
    found = {}
    for stem in CHAPTERS:
        path = book_dir / f"{stem}.md"
        if stem in listed and path.exists():
            for i in ids_in_source(path.read_text(encoding="utf-8")):
                found.setdefault(i, stem)
    return {i: found.get(i) for i in IDENTITIES}


def coverage_html(book_dir=None):
    """The registry as an HTML table (id, statement, source, verified in), for the appendix."""
    cov = coverage(book_dir)
    rows = []
    for i, r in IDENTITIES.items():
        where = cov[i]
        cell = (f'<a href="{where}.html">{html.escape(CHAPTERS[where])}</a>' if where
                else "<em>not yet verified</em>")
        rows.append(f"<tr><td><code>{html.escape(i)}</code></td><td>{html.escape(r.statement)}"
                    f"</td><td>{html.escape(r.source)}</td><td>{cell}</td></tr>")
    n_done = sum(v is not None for v in cov.values())
    head = ("<table class='identity-registry'><thead><tr><th>id</th><th>statement</th>"
            "<th>source</th><th>verified in</th></tr></thead><tbody>")
    return (f"<p>{n_done} of {len(cov)} identities are verified in the chapters built so far."
            f"</p>{head}{''.join(rows)}</tbody></table>")
