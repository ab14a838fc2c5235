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
    '05_bbdd23_proof': 'The BBDD23 proof',
    '06_stochastic_localization': 'Stochastic localization and diffusion',
    '07_immse_reeves_pfister': 'I-MMSE and discrete-time proofs (Reeves-Pfister)',
    '08_moment_matching': 'Moment matching',
    '09_ode_samplers': 'ODE samplers and consistency models',
    'appendix_ito': 'Ito toolbox',
}

_ROWS = [
    ('demo.sample_variance',
     'the sample variance of N(0, 2) estimates 2 (the worked example of the introduction)',
     'this book',
     'intro'),
    ('ou.closed_form',
     'X_t = e^{-t} X_0 + sqrt(1 - e^{-2t}) g in law; an Euler-Maruyama simulation of the SDE from a non-Gaussian X_0 matches the exact marginal (mean, variance and a distributional test)',
     '001 deferred proof 1; 000 eq. 3',
     '01_forward_process'),
    ('ou.em_stationary_variance',
     'the Euler-Maruyama chain of the OU SDE with step h has stationary variance 1/(1 - h/2), not 1',
     'this book (exercise)',
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
    ('sm.hutchinson_variance',
     'Var(v^T J v) = 2 ||S||_F^2 for v ~ N(0, I) and 2 (||S||_F^2 - sum_i S_ii^2) for Rademacher v, S = (J + J^T)/2',
     'this book (exercise)',
     '02_tweedie_score_matching'),
    ('rev.fokker_planck',
     'the reverse-process Fokker-Planck equation is the forward one with time negated',
     '001; 000 §4.4',
     '03_time_reversal'),
    ('rev.marginals',
     'the reverse SDE dY = (Y + 2 grad log q_{T-t}(Y)) dt + sqrt(2) dB from Y_0 ~ q_T has Y_t ~ q_{T-t}',
     '000 eq. 4; 001',
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
    ('rev.ula_bias',
     'one-step Langevin (ULA) for N(0, v) with step eps has stationary variance v / (1 - eps/(2v)), not v',
     'this book (exercise)',
     '03_time_reversal'),
    ('rev.ode_vs_sde_paths',
     'for N(0,1) data the PF-ODE keeps Y_t = Y_0 (Cov 1) while the reverse SDE is the OU process (Cov e^{-t}): same marginals, different paths',
     'this book (exercise)',
     '03_time_reversal'),
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
     "the Chen et al. '23 TV bound dominates the measured TV for a 1-D mixture",
     '001 convergence guarantee',
     '04_girsanov'),
    ('bbdd.schedule',
     'the schedule (uniform on [0, T-1], then exponential to T - delta) satisfies gamma_k <= kappa min{1, T - t_{k+1}}',
     '000 §3.2',
     '05_bbdd23_proof'),
    ('bbdd.lemma34',
     "sigma_t^3/(2 sigma_t') d/dt E[Sigma_t] = E[Sigma_t^2]",
     '000 Lemma 3.4',
     '05_bbdd23_proof'),
    ('bbdd.hessian_energy',
     "E||Hessian log q_t||_F^2 = d sigma^{-4} - 2 sigma' sigma^{-5} E Tr Sigma_t + sigma'^2 sigma^{-6} E Tr Sigma_t^2",
     '000 §3.3.3',
     '05_bbdd23_proof'),
    ('bbdd.lemma2',
     'the Itô dynamics of E_{s,t} = E||grad log q_{T-t}(Y_t) - grad log q_{T-s}(Y_s)||^2 (check the stated derivative; report and correct any sign slip)',
     '000 Lemma 3.5',
     '05_bbdd23_proof'),
    ('bbdd.error3',
     'sum_k int E||grad log q_{T-t}(Y_t) - grad log q_{T-t_k}(Y_{t_k})||^2 dt <~ kappa^2 d N + kappa d T',
     '000 eq. 19/25',
     '05_bbdd23_proof'),
    ('bbdd.theorem1',
     'KL(q_delta || p_{t_N}) <= eps_score^2 + kappa^2 d N + kappa d T + d e^{-2T}, with the exact KL for Gaussian data and estimates for mixtures; how loose is it',
     '000 Thm 3.2',
     '05_bbdd23_proof'),
    ('bbdd.d_linear',
     'steps needed for a fixed KL grow linearly in d (log-log slope ~ 1)',
     '000 Thm 3.1',
     '05_bbdd23_proof'),
    ('bbdd.rates_table',
     'the rates of CCL+23, CLL23, BBDD23 side by side on one plot',
     '000 §3.4',
     '05_bbdd23_proof'),
    ('sl.sde',
     'U_t = t x* + B_t is the solution of dU = a_t(U) dt + dB, a_t(u) = E[x given t x + sqrt(t) G = u]',
     '000 Prop 4.1',
     '06_stochastic_localization'),
    ('sl.equivalence',
     '(U_s) and (s e^{t(s)} X_{t(s)}) have the same law, t(s) = (1/2) log(1 + 1/s) (finite-dimensional distributions)',
     '000 Thm 4.3; 001 SL slides',
     '06_stochastic_localization'),
    ('sl.martingale',
     'mu_t is a measure-valued martingale: E[mu_t(A)] = mu(A), E[L_s(x)] = 1',
     '001; 000',
     '06_stochastic_localization'),
    ('sl.prop1',
     'dL_s(x) = L_s(x)(x - a_s) . dB_s',
     '000 Prop 4.2 (BBDD23 Prop 1)',
     '06_stochastic_localization'),
    ('sl.prop2',
     'd/ds E[A_s] = -E[A_s^2]',
     '000 Prop 4.3 (BBDD23 Prop 2)',
     '06_stochastic_localization'),
    ('sl.localizes',
     'mu_t -> delta_{x*}, and the limit point has law mu',
     '000 §4.2',
     '06_stochastic_localization'),
    ('rp.comparison_law',
     'Y_k = t_k X + W_k with Cov(W_k, W_m) = min(t_k, t_m) I; Law(Y_k / t_k) = mu * N(0, I/t_k)',
     '002 eqs. 2-3',
     '07_immse_reeves_pfister'),
    ('rp.markov',
     'Lemma 1: sufficiency E[X given Y_1..Y_k] = E[X given Y_k], and the reversed representation Y_k = (t_k/t_{k+1}) Y_{k+1} + sqrt(t_k/t_{k+1}) B_k with B_k independent of the future',
     '002 Lemma 1',
     '07_immse_reeves_pfister'),
    ('rp.immse',
     'I(b) - I(a) = (1/2) int_a^b M(s) ds (Gaussian exactly; binary input and mixtures by quadrature)',
     '002 §2; Guo-Shamai-Verdú',
     '07_immse_reeves_pfister'),
    ('rp.sandwich',
     '(delta_k/2) M(t_k) <= I(t_k) - I(t_{k-1}) <= (delta_k/2) M(t_{k-1})',
     '002 eq. 6',
     '07_immse_reeves_pfister'),
    ('rp.lemma2',
     'Delta_n = sum (delta_k/2) M(t_{k-1}) - I(t_n) + sum (delta_k/2) E||f_k - E[X given Y_{k-1}]||^2, against an independent exact path KL for Gaussian X',
     '002 Lemma 2',
     '07_immse_reeves_pfister'),
    ('rp.theorem1',
     'Delta_n <= (delta_max/2) tr Cov X + score-error term; uniform steps: T tr Cov/(2n)',
     '002 Thm 1, Remark 1',
     '07_immse_reeves_pfister'),
    ('rp.theorem2',
     'geometric steps t_k = (alpha^k - 1)/(alpha^n - 1) T: the Theorem 2 bound',
     '002 Thm 2',
     '07_immse_reeves_pfister'),
    ('rp.corollary1',
     'Delta_n <= d (log T_n)^2 / (2n) (1 + o(1)) with alpha_n = (T_n log T_n)^{1/n}',
     '002 Cor. 1',
     '07_immse_reeves_pfister'),
    ('rp.gaussian_max',
     'I(s) <= (1/2) log det(I + s Cov X) <= (d/2) log(1 + s M(0)/d), equality iff Gaussian',
     '002 §4.1',
     '07_immse_reeves_pfister'),
    ('rp.figure1',
     'Figure 1 reproduced: Delta_n is half the area between int M and its left Riemann sum',
     '002 Fig. 1',
     '07_immse_reeves_pfister'),
    ('rp.sampler',
     'the sampler Z_k = Z_{k-1} + delta_k f_k(Z_{k-1}) + sqrt(delta_k) N_k with exact f_k produces Z_n/t_n ~ mu * N(0, I/t_n)',
     '002 eq. 1',
     '07_immse_reeves_pfister'),
    ('mm.remark5',
     'the kernel Z_k = Z_{k-1} + delta f + (delta^2 Sigma + delta I)^{1/2} N matches the first two conditional moments',
     '002 Remark 5',
     '08_moment_matching'),
    ('mm.theorem3',
     'Delta_n decays like n^{-m}: measured slope -1 for mean matching, -2 for mean+covariance matching (exact Delta_n by quadrature in d = 1)',
     '002 Thm 3',
     '08_moment_matching'),
    ('mm.lemma3',
     'D(mu * N(1/s) || nu * N(1/s)) = O(s^{m+1}) when mu and nu share m moments (e.g. Rademacher vs N(0,1): m = 3, slope 4)',
     '002 Lemma 3',
     '08_moment_matching'),
    ('ode.pf_marginals',
     'VP and VE probability-flow ODEs reproduce the SDE marginals',
     '003 Thm 5.1, eqs. 5.9-5.10',
     '09_ode_samplers'),
    ('ode.reparam',
     'sampling VP with the VE score through the space-time change (5.11)-(5.13)',
     '003 §5.1',
     '09_ode_samplers'),
    ('ode.flow_group',
     'the ODE flow satisfies F(t, s, Y_s) = Y_t and composes',
     '003 eq. 5.14',
     '09_ode_samplers'),
    ('ode.cd_vs_ct',
     'W_2^2 between the CD and CT couplings for a point mass tends to 2(2 - sqrt 2) t^2 d',
     '003 eq. 5.17',
     '09_ode_samplers'),
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
