r"""The catalogue in readable form: each identity's statement in TeX and its source in words.

:data:`CATALOGUE` maps an identity id to ``(statement, source, keys)``:

* ``statement``: the statement as prose with inline math between ``$...$`` (TeX), the form
  the book's appendix and the rich verdict blocks typeset;
* ``source``: where the statement comes from, in words a reader can follow;
* ``keys``: the BibTeX key(s) of ``book/references.bib`` to cite for it (comma-separated;
  empty for results of this book).

The registry (``companion.registry``) stays the list of ids: an id registered there but not
described here falls back to its plain statement (:func:`statement_tex`).

Examples
--------
>>> statement_tex("ou.ito_isometry")
'$\\operatorname{Var}\\big(\\sqrt2\\int_0^t e^{r-t}\\,\\mathrm dB_r\\big) = 1 - e^{-2t}$'
>>> [p for p in pieces("a $x^2$ b")]
[(False, 'a '), (True, 'x^2'), (False, ' b')]
"""
import html
import re

from . import registry

__all__ = ["CATALOGUE", "SOURCES", "statement_tex", "source_words", "source_keys", "pieces",
           "statement_html"]

#: the four documents the book is built from, in words, with their BibTeX keys
SOURCES = {
    "000": ("the expository report on the proof of Benton, De Bortoli, Doucet and "
            "Deligiannidis", "benton2024nearly"),
    "001": ("the lecture slides on diffusion models (CS 59300, lecture 13)", "zhang2025lecture"),
    "002": ("Reeves and Pfister, information-theoretic proofs for diffusion sampling",
            "reeves2025information"),
    "003": ("the tutorial of Tang and Zhao on score-based diffusion models via SDEs",
            "tang2024score"),
}

_R = "benton2024nearly"      # the expository report on BBDD23 (000)
_S = "zhang2025lecture"      # the lecture slides (001)
_P = "reeves2025information"  # Reeves and Pfister (002)
_T = "tang2024score"         # Tang and Zhao (003)
_B = ""                      # a result of this book

_KL = r"\mathrm{KL}"
_E = r"\mathbb E"

CATALOGUE = {
    # ------------------------------------------------------------------ introduction
    "demo.sample_variance": (
        r"The sample variance of $\mathcal N(0, 2)$ estimates $2$ (the worked example of the "
        r"introduction).",
        "The introduction of this book.", _B),
    # ------------------------------------------------------------------ 1. forward process
    "ou.closed_form": (
        r"$X_t \overset{d}{=} e^{-t}X_0 + \sqrt{1-e^{-2t}}\,g$ with $g \sim \mathcal N(0, I)$; "
        r"an Euler-Maruyama simulation from a non-Gaussian $X_0$ matches the exact marginal "
        r"(mean, variance and a distributional test).",
        "The first deferred proof of the lecture slides; equation 3 of the expository report "
        "on Benton et al.", f"{_S},{_R}"),
    "ou.ito_isometry": (
        r"$\operatorname{Var}\big(\sqrt2\int_0^t e^{r-t}\,\mathrm dB_r\big) = 1 - e^{-2t}$",
        "The first deferred proof of the lecture slides (the solution of the OU equation).", _S),
    "ou.fokker_planck": (
        r"$\partial_t q_t = \nabla\cdot(x\,q_t) + \Delta q_t$ for a Gaussian-mixture $q$ "
        r"(finite differences of the closed form).",
        "The slides on the reverse process, in the lecture slides.", _S),
    "ou.kl_decay": (
        rf"${_KL}(q_T\Vert\mathcal N(0,I)) \le e^{{-2T}}\,{_KL}(q\Vert\mathcal N(0,I))$",
        "The slide on the initialisation error, in the lecture slides.", _S),
    "ou.lemma33": (
        rf"${_KL}(q_T\Vert\gamma_d) \le {_E}_{{x_0}}\,{_KL}(\mathcal N(e^{{-T}}x_0, "
        r"\sigma_T^2 I)\Vert\gamma_d) = -\tfrac d2\log(1-e^{-2T}) \le d\,e^{-2T}$ for "
        rf"$T \ge T^\star \approx 0.114$ when ${_E}\|X_0\|^2 = d$ (e.g. ${_E} X_0 = 0$, "
        r"$\operatorname{Cov} X_0 = I$); the first step is an equality for a point mass (the "
        r"source drops the $\tfrac12$).",
        "Lemma 3.3 of the expository report on Benton et al.", _R),
    "sde.vp_marginal": (
        r"VP SDE with linear $\beta(t)$: $X_t \mid X_0 = x \sim \mathcal N\big(e^{-\frac12"
        r"\int_0^t\beta}x,\ (1-e^{-\int_0^t\beta})I\big)$",
        "Equation 3.10 of Tang and Zhao.", _T),
    "sde.ve_marginal": (
        r"VE SDE with geometric $\sigma(t)$: $X_t \mid X_0 = x \sim \mathcal N\big(x,\ "
        r"(\sigma^2(t)-\sigma_{\min}^2)I\big)$",
        "Section 3(b) of Tang and Zhao.", _T),
    "sde.subvp_marginal": (
        r"sub-VP SDE: $X_t \mid X_0 = x \sim \mathcal N\big(e^{-\frac12\int_0^t\beta}x,\ "
        r"(1-e^{-\int_0^t\beta})^2 I\big)$",
        "Equation 3.13 of Tang and Zhao.", _T),
    "ou.path_covariance": (
        r"$\operatorname{Cov}(X_s, X_t) = e^{-(s+t)}\operatorname{Cov}X_0 + (e^{-|t-s|} - "
        r"e^{-(s+t)})I$: the OU process is not the time-changed Brownian motion "
        r"$B_{1-e^{-2t}}$ suggested by the marginal formula.",
        "Equation 3 of the expository report on Benton et al. (which gives the marginal only).",
        _R),
    "ou.em_stationary_variance": (
        r"Euler-Maruyama for the OU process with step $h$ has stationary variance "
        r"$1/(1-h/2)$, not $1$.",
        "Derived in chapter 1 of this book.", _B),
    "sde.ou_general": (
        r"$\mathrm dX = \theta(\bar x - X)\,\mathrm dt + g\,\mathrm dB$, $\bar x \in \mathbb R^d$: "
        r"$X_t \mid X_0 = x \sim \mathcal N\big(\bar x + (x-\bar x)e^{-\theta t},\ "
        r"\tfrac{g^2}{2\theta}(1-e^{-2\theta t})I\big)$",
        "Equation 3.1 of Tang and Zhao.", _T),
    "sde.langevin_stationary": (
        r"$\mathrm dX = -\nabla U(X)\,\mathrm dt + g\,\mathrm dB$ ($\nabla U$ locally Lipschitz "
        r"with linear growth) leaves $e^{-2U/g^2}$ invariant.",
        "Equations 3.3-3.4 of Tang and Zhao.", _T),
    "sde.ddpm_limit": (
        r"The DDPM chain $x_i = \sqrt{1-b_i}\,x_{i-1} + \sqrt{b_i}\,z_i$ converges to the VP "
        r"marginal at rate $O(1/N)$.",
        "Section 3(c) of Tang and Zhao.", _T),
    "sde.cvp_marginal": (
        r"Contractive VP ($\mathrm dX = \tfrac12\beta X\,\mathrm dt + \sqrt\beta\,\mathrm dB$): "
        r"$X_t \mid X_0 = x \sim \mathcal N\big(e^{\Lambda(t)/2}x,\ (e^{\Lambda(t)}-1)I\big)$ "
        r"with $\Lambda = \int_0^t\beta$",
        "Equations 3.15-3.17 of Tang and Zhao.", _T),
    "ou.de_bruijn": (
        rf"$\frac{{\mathrm d}}{{\mathrm dt}}{_KL}(q_t\Vert\gamma_d) = -\mathcal I(q_t\Vert\gamma_d)$ "
        r"for $t > 0$, with $\mathcal I(p\Vert\gamma_d) = \int p\,\|\nabla\log p + x\|^2$ the "
        r"relative Fisher information (de Bruijn's identity for the OU flow).",
        "A step of the proof of the exponential decay on the slide on the initialisation error, in "
        "the lecture slides; the identity is de Bruijn's (Stam 1959).", f"{_S},stam1959some"),
    "ou.gaussian_lsi": (
        rf"${_KL}(p\Vert\gamma_d) \le \tfrac12\,\mathcal I(p\Vert\gamma_d)$, with equality for "
        r"$p = \mathcal N(m, I_d)$; along the OU flow $\mathcal I(q_t\Vert\gamma_d) \le "
        r"e^{-2t}\,\mathcal I(q\Vert\gamma_d)$.",
        "A step of the proof of the exponential decay on the slide on the initialisation error, in "
        "the lecture slides; the inequality is Gross's, the proof Bakry and Emery's.",
        f"{_S},gross1975logarithmic,bakry2014analysis"),
    "ou.w2_contraction": (
        r"$W_2(q_T, \gamma_d) \le e^{-T}\,W_2(q, \gamma_d)$ (synchronous coupling), with equality "
        r"for $q = \mathcal N(m, I_d)$.",
        "The coupling argument in the proof of Theorem 6.6 of Tang and Zhao.", _T),
    "ou.convexity_bound": (
        rf"${_KL}(q_T\Vert\gamma_d) \le {_E}_{{x_0}}\,{_KL}(\mathcal N(e^{{-T}}x_0, \sigma_T^2 I)"
        rf"\Vert\gamma_d) = \tfrac12\big(e^{{-2T}}(M_2 - d) - d\log(1 - e^{{-2T}})\big)$ for any "
        r"$q$ with second moment $M_2 = \mathbb E\|X_0\|^2$.",
        "The general value of the proof of Lemma 3.3 of the expository report on Benton et al.", _R),
    "ou.kl_cumulant_rate": (
        rf"For data with mean $0$ and covariance $I$: ${_KL}(q_T\Vert\gamma_d) = "
        r"\tfrac1{12}\|\kappa_3\|^2e^{-6T} + O(e^{-8T})$ as $T \to \infty$, and "
        r"$\tfrac1{48}\|\kappa_4\|^2e^{-8T} + O(e^{-10T})$ when $\kappa_3 = 0$.",
        "Derived in chapter 1 of this book (Edgeworth expansion).", _B),
    "sde.smld_limit": (
        r"The SMLD chain $x_i = x_{i-1} + \sqrt{\sigma_i^2 - \sigma_{i-1}^2}\,z_i$ with "
        r"$\sigma_i = \sigma(iT/N)$ has exactly the VE marginal $\mathcal N\big(x_0, "
        r"(\sigma_i^2 - \sigma_{\min}^2)I\big)$ at $t_i = iT/N$, for every $N$.",
        "Section 3(b) of Tang and Zhao.", _T),
    "sde.ve_init_error": (
        rf"VE: ${_KL}\big(q_T\Vert\mathcal N(0, v_TI)\big) \le {_E}\|X_0\|^2/(2v_T)$ with "
        r"$v_T = \sigma_{\max}^2 - \sigma_{\min}^2$, with equality for a point mass.",
        "The VE noise law of Section 3(b) of Tang and Zhao; the bound is derived in chapter 1 of "
        "this book.", _T),
    # ------------------------------------------------------------------ 2. Tweedie, score matching
    "tweedie.mean": (
        rf"${_E}[x\mid\tilde x] = \tilde x + \sigma^2\nabla\log\tilde p(\tilde x)$ for "
        r"$\tilde x = x + e$, $e\sim\mathcal N(0,\sigma^2 I)$: closed form and a Monte Carlo "
        r"regression.",
        "Tweedie's formula and its proof in the lecture slides.", _S),
    "tweedie.noise": (
        rf"${_E}[e\mid\tilde x] = -\sigma^2\nabla\log\tilde p(\tilde x)$ (the Bayes noise "
        r"predictor).",
        "The score-matching slides of the lecture slides.", _S),
    "tweedie.ou_score": (
        r"$\nabla\log q_t(x) = -\sigma_t^{-2}x + e^{-t}\sigma_t^{-2}m_t(x)$",
        "Lemma 3.6 of the expository report on Benton et al.; Appendix B of Reeves and "
        "Pfister.", f"{_R},{_P}"),
    "tweedie.ou_hessian": (
        r"$\nabla^2\log q_t(x) = -\sigma_t^{-2}I + e^{-2t}\sigma_t^{-4}\Sigma_t(x)$",
        "Lemma 3.6 of the expository report on Benton et al.", _R),
    "tweedie.hessian_bounds": (
        r"For data in a set of diameter $D$: $-\sigma_t^{-2}I \preceq \nabla^2\log q_t \preceq "
        r"\big(e^{-2t}D^2/(4\sigma_t^4) - \sigma_t^{-2}\big)I$; the upper bound is attained at the "
        r"midpoint of two atoms.",
        "Derived in chapter 2 of this book from Lemma 3.6 of the expository report on Benton et al.", _B),
    "sm.score_energy": (
        rf"${_E}_{{q_t}}\|\nabla\log q_t\|^2 = d\sigma_t^{{-2}} - e^{{-2t}}\sigma_t^{{-4}}"
        rf"\,{_E}\operatorname{{tr}}\Sigma_t \le d\sigma_t^{{-2}}$",
        "A Nishimori-type bound in the expository report on Benton et al.", _R),
    "sm.ism": (
        r"Implicit score matching: $J_{\mathrm{ISM}}(\theta) = J_{\mathrm{ESM}}(\theta) + C$ "
        r"for a parametric model, $C$ independent of $\theta$.",
        "Theorem 4.1 of Tang and Zhao.", _T),
    "sm.sliced": (
        rf"${_E}_v[v^\top(\nabla s)v] = \nabla\cdot s$ for $v\sim\mathcal N(0, I)$",
        "Equation 4.7 and Theorem 4.2 of Tang and Zhao.", _T),
    "sm.dsm": (
        r"Denoising score matching: $J_{\mathrm{DSM}}(\theta) = J_{\mathrm{ESM}}(\theta) + C$; "
        r"its minimiser over a rich enough class is the score (the noise-prediction "
        r"objective).",
        "Theorem 4.3 of Tang and Zhao; the score-matching slides of the lecture slides.",
        f"{_T},{_S}"),
    "sm.asymptotic_normality": (
        r"For an exponential family, $\sqrt n(\hat\theta - \theta^*)$ is asymptotically normal "
        r"with the sandwich covariance $\Gamma_{\mathrm{SM}}$.",
        "Theorem 7.1 of Tang and Zhao.", _T),
    "tweedie.score_convolution": (
        rf"If $p' = p * \mathcal N(0,\sigma^2 I)$ then $\nabla\log p'(x) = {_E}[\nabla\log "
        r"p(Y)\mid Y + \sigma G = x]$.",
        "The slides on time discretisation, in the lecture slides.", _S),
    "sm.fisher_ibp": (
        rf"${_E}_q\|\nabla\log q\|^2 = -{_E}_q\Delta\log q$, hence $\le Ld$ when "
        r"$-\nabla^2\log q \preceq LI$.",
        "The slides on time discretisation, in the lecture slides.", _S),
    "sm.dsm_weight": (
        rf"${_E}\|\nabla\log p(t, X_t\mid X_0)\|^2 = d/\sigma_t^2$, so $\lambda(t)\propto"
        r"\sigma_t^2$ turns denoising score matching into the noise-prediction loss.",
        "Equations 4.13-4.14 of Tang and Zhao.", _T),
    "sm.hutchinson_variance": (
        r"The variance of Hutchinson's divergence estimator with Gaussian probes is "
        r"$2\|\operatorname{sym}J\|_F^2$ (less with Rademacher probes).",
        "Derived in chapter 2 of this book.", _B),
    "sm.kl_fisher": (
        r"For two laws noised by the same SDE $\mathrm dX = -f(t)X\,\mathrm dt + g(t)\,\mathrm dB$: "
        r"$\mathrm{KL}(q_\delta\,\Vert\,p_\delta) = \mathrm{KL}(q_T\,\Vert\,p_T) + \tfrac12"
        rf"\int_\delta^T g(t)^2\,{_E}_{{q_t}}\|\nabla\log q_t - \nabla\log p_t\|^2\,\mathrm dt$ "
        r"(weight $1$ for the OU process).",
        "The remark after equation 4.13 of Tang and Zhao (the link to an ELBO); Song, Durkan, "
        "Murray and Ermon.", f"{_T},song2021maximum"),
    "sm.likelihood_weighting": (
        r"For scores of noised laws $s_\theta(t,\cdot) = \nabla\log p^\theta_t$, the "
        r"likelihood-weighted denoising objective $\int_\delta^T \tfrac12 g^2 J_{\mathrm{DSM}}"
        rf"(t;\theta)\,\mathrm dt$ equals $-{_E}_{{q_\delta}}\log p^\theta_\delta - \mathrm{{KL}}"
        r"(q_T\,\Vert\,p^\theta_T)$ up to a constant independent of $\theta$; with the weight "
        r"$\sigma_t^2$ it is not a likelihood.",
        "Equation 4.13 of Tang and Zhao and the remark after it; Song, Durkan, Murray and "
        "Ermon.", f"{_T},song2021maximum"),
    # ------------------------------------------------------------------ 3. time reversal
    "rev.fokker_planck": (
        r"The Fokker-Planck equation of the reverse process is the forward one with time "
        r"negated.",
        "The slides on the reverse process; Section 4.4 of the expository report on Benton "
        "et al.", f"{_S},{_R}"),
    "rev.marginals": (
        r"The reverse SDE $\mathrm dY = (Y + 2\nabla\log q_{T-t}(Y))\,\mathrm dt + \sqrt2\,"
        r"\mathrm dB$ from $Y_0\sim q_T$ has $Y_t\sim q_{T-t}$.",
        "Equation 4 of the expository report on Benton et al.; the lecture slides.",
        f"{_R},{_S}"),
    "rev.score_growth": (
        r"If $q = \sum_kw_k\mathcal N(m_k, C_k)$ with $C_k$ positive definite and $P_k = C_k^{-1}$, "
        r"then $|\nabla\log q(x)| \le \max_k\lVert P_k\rVert(|x| + \max_k|m_k|)$; the score is not "
        r"globally Lipschitz when two components have precisions whose difference $P_1 - P_2$ is indefinite.",
        "A result of this book, on the hypotheses of Theorem 2.1 of the tutorial of Tang and Zhao.", _B),
    "rev.one_step": (
        rf"Given $X_\tau = y$: ${_E}[X_{{\tau-h}}\mid X_\tau = y] = y + h(y + 2\nabla\log q_\tau(y)) + O(h^2)$ "
        r"and $\operatorname{Cov}[X_{\tau-h}\mid X_\tau = y] = 2hI + O(h^2)$.",
        "A result of this book, from Lemma 3 of the expository report on Benton et al.", _B),
    "rev.path_law": (
        r"The reverse SDE started at $Y_0\sim q_T$ has the law of $(X_{T-t})_{t\le T}$ as a process; "
        r"in particular $\operatorname{Cov}(Y_s, Y_t) = \operatorname{Cov}(X_{T-s}, X_{T-t})$.",
        "Theorem 2.1 of the tutorial of Tang and Zhao (Haussmann and Pardoux).", f"{_T},haussmann1986time"),
    "rev.reversal_family": (
        r"For every $\eta\ge0$, $\mathrm dY = (Y + (1 + \eta^2/2)\nabla\log q_{T-t}(Y))\,\mathrm dt + "
        r"\eta\,\mathrm dB$ from $Y_0\sim q_T$ has $Y_t\sim q_{T-t}$.",
        "A result of this book, joining Theorems 2.1 and 5.1 of the tutorial of Tang and Zhao.", _B),
    "rev.exp_integrator": (
        r"With the score frozen on $[kh, (k+1)h]$ the step is exactly $e^hx + 2(e^h - 1)s + "
        r"\mathcal N(0, (e^{2h} - 1)I)$.",
        "The third deferred proof of the lecture slides.", _S),
    "rev.pf_ode": (
        r"The probability-flow ODE $\dot Y = Y + \nabla\log q_{T-t}(Y)$ has the same "
        r"marginals as the reverse SDE.",
        "Theorem 5.1 of Tang and Zhao.", _T),
    "rev.time_reversal_general": (
        r"The general time-reversal formula: the reversal of $\mathrm dX = f\,\mathrm dt + "
        r"g\,\mathrm dB$ is $\mathrm dY = (-f + g^2\nabla\log p_{T-t})\,\mathrm dt + g\,"
        r"\mathrm dB$, for the VP, VE, sub-VP, contractive VP and general OU examples.",
        "Theorem 2.1 of Tang and Zhao.", _T),
    "rev.discretisation_order": (
        r"Weak error of Euler-Maruyama and of the exponential integrator as $h\to0$: the "
        r"measured orders.",
        "Section 6.3 of Tang and Zhao.", _T),
    "rev.pc_corrector": (
        r"A Langevin corrector step with step $\epsilon$ on $\mathcal N(0, v)$ maps the "
        r"variance $w$ to $(1 - \epsilon/v)^2w + 2\epsilon$; its fixed point is "
        r"$v/(1 - \epsilon/(2v))$, not $v$.",
        "Equation 6.18 of Tang and Zhao.", _T),
    "rev.ei_general": (
        r"Exponential integrator for the reversal $\mathrm dY = (f(T-t)Y + g(T-t)^2s)\,\mathrm dt + "
        r"g(T-t)\,\mathrm dB$ of $\mathrm dX = -fX\,\mathrm dt + g\,\mathrm dB$, with $s$ frozen: the weights "
        r"carry $\Psi(u, t_{k+1})$ inside the integrals (which differs from $\Psi(t_k, u)$ for sub-VP).",
        "Equations 6.19-6.20 of Tang and Zhao.", _T),
    "rev.ula_bias": (
        r"The unadjusted Langevin algorithm is biased by $O(h)$ at stationarity.",
        "Derived in chapter 3 of this book.", _B),
    "rev.ode_vs_sde_paths": (
        r"The probability-flow ODE matches the marginals of the SDE but not its joint laws in "
        r"time.",
        "Derived in chapter 3 of this book.", _B),
    # ------------------------------------------------------------------ 4. Girsanov
    "gir.discrete_lr": (
        r"For discretised paths, $\log(L_Q/L_P) = -\tfrac14\sum h\|b-b'\|^2 + "
        r"\tfrac1{\sqrt2}\sum\langle\sqrt h\,g,\ b-b'\rangle$.",
        "The heuristic proof of Girsanov's theorem in the lecture slides.", _S),
    "gir.martingale": (
        rf"${_E}_P[\mathrm dQ/\mathrm dP] = 1$",
        "Proposition 3.1 of the expository report on Benton et al.", _R),
    "gir.kl_path": (
        rf"${_KL}(Q\Vert P) \le \tfrac14{_E}_Q\int\|b_t - b'_t\|^2\,\mathrm dt$ for a well-posed $P$ "
        r"equation, with equality when the Girsanov exponential is a martingale (linear drifts: "
        r"an exactly computable Gaussian path KL).",
        "The Girsanov slides; Proposition 3.2 of the expository report on Benton et al.",
        f"{_S},{_R}"),
    "gir.kl_chain": (
        rf"${_KL}(Q\Vert P^\pi) = {_KL}(Q\Vert P^{{q_T}}) + {_KL}(q_T\Vert\pi)$",
        "Equation 15 of the expository report on Benton et al.", _R),
    "gir.dpi": (
        rf"${_KL}(q_\delta\Vert p_{{t_N}}) \le {_KL}(Q\Vert P^\pi)$",
        "Equation 10 of the expository report on Benton et al.", _R),
    "gir.diffusion_kl": (
        rf"${_KL}(\text{{reverse path}}\Vert\text{{algorithm path}}) = \sum_k\int{_E}\|"
        r"\nabla\log q_{T-t}(Y_t) - s(Y_{t_k})\|^2\,\mathrm dt$",
        "The Girsanov slides; equations 14 and 16 of the expository report on Benton et al.",
        f"{_S},{_R}"),
    "gir.langevin": (
        r"ULA against Langevin: the KL bound and its scaling in $h$ for a strongly "
        r"log-concave target.",
        "The Langevin warm-up of the lecture slides.", _S),
    "gir.chen_tv": (
        r"The TV bound of Chen et al. (2023), constants unspecified: the ratio of the measured "
        r"TV for a 1-D mixture to the bracket stays bounded along sweeps in $h$ and $T$.",
        "The convergence guarantee in the lecture slides.", f"{_S},chen2023sampling"),
    "gir.ei_tv_order": (
        r"With the exact score and smooth data, the TV distance of the exponential integrator's "
        r"output to the data decreases like $h$ (order one), not like the $\sqrt h$ of the "
        r"Girsanov bracket (observed on a 1-D mixture).",
        "An observation of this book (the weak order of the scheme).", _B),
    "gir.brownian_shift": (
        r"Under the Girsanov-weighted law, $B_t - \int_0^t b_r\,\mathrm dr$ is a Brownian "
        r"motion (mean $0$, variance $T$, fourth moment $3T^2$).",
        "Proposition 3.1 of the expository report on Benton et al.", _R),
    "gir.talagrand": (
        rf"For $\alpha$-strongly log-concave $q$: $W_2^2(\nu, q) \le \tfrac2\alpha{_KL}"
        r"(\nu\Vert q)$, with equality for translates of $\mathcal N(0, I/\alpha)$ (the slides "
        r"drop the $2$).",
        "The Langevin slides of the lecture slides.", _S),
    "conv.init_dpi": (
        rf"The exact reverse SDE started from $\mathcal N(0,I)$ instead of $q_T$: ${_KL}"
        rf"(q\Vert p_T) \le {_KL}(q_T\Vert\mathcal N(0,I))$",
        "The slide on the initialisation error, in the lecture slides.", _S),
    "conv.space_disc": (
        rf"${_E}\|X_{{T-t}} - X_{{T-kh}}\|^2 = (1-e^{{-\tau}})^2{_E}\|X_{{T-t}}\|^2 + "
        r"(1-e^{-2\tau})d$, $\tau = t - kh$ (an equality, not only an upper bound).",
        "The slides on space discretisation, in the lecture slides.", _S),
    "conv.time_disc": (
        rf"$p' = p*\mathcal N(0,\sigma^2 I)$, $-\nabla^2\log p\preceq LI$: ${_E}_{{p'}}\|"
        r"\nabla\log p - \nabla\log p'\|^2 \le L^2\sigma^2 d$",
        "The slides on time discretisation, in the lecture slides.", _S),
    # ------------------------------------------------------------------ 5. stochastic localization
    "sl.sde": (
        rf"$U_t = t x^* + B_t$ solves $\mathrm dU = a_t(U)\,\mathrm dt + \mathrm dB$, "
        rf"$a_t(u) = {_E}[x\mid t x + \sqrt t\,G = u]$.",
        "Proposition 4.1 of the expository report on Benton et al.", _R),
    "sl.equivalence": (
        r"$(U_s)$ and $(s\,e^{t(s)}X_{t(s)})$ have the same law, $t(s) = \tfrac12\log(1 + 1/s)$ "
        r"(finite-dimensional distributions).",
        "Theorem 4.3 of the expository report on Benton et al.; the stochastic-localization "
        "slides.", f"{_R},{_S}"),
    "sl.martingale": (
        rf"$\mu_t$ is a measure-valued martingale: ${_E}[\mu_t(A)] = \mu(A)$, "
        rf"${_E}[L_s(x)] = 1$.",
        "The stochastic-localization slides; the expository report on Benton et al.",
        f"{_S},{_R}"),
    "sl.prop1": (
        r"$\mathrm dL_s(x) = L_s(x)\,(x - a_s)\cdot\mathrm dB_s$",
        "Proposition 4.2 of the expository report on Benton et al. (Proposition 1 of the "
        "paper).", _R),
    "sl.prop2": (
        rf"$\tfrac{{\mathrm d}}{{\mathrm ds}}{_E}[A_s] = -{_E}[A_s^2]$",
        "Proposition 4.3 of the expository report on Benton et al. (Proposition 2 of the "
        "paper).", _R),
    "sl.localizes": (
        r"$\mu_t \to \delta_{x^*}$, and the limit point has law $\mu$.",
        "Section 4.2 of the expository report on Benton et al.", _R),
    "sl.tilt": (
        r"The normalised tilt $e^{\langle u, x\rangle - t\|x\|^2/2}\mu(\mathrm dx)$ is the "
        r"posterior of $x$ given $t x + \sqrt t\,G = u$, i.e. the OU posterior at "
        r"$t' = \tfrac12\log(1 + 1/t)$.",
        "Equation 29 of the expository report on Benton et al.; the stochastic-localization "
        "slides.", f"{_R},{_S}"),
    "sl.logL_drift": (
        r"$\mathrm d\log L_s(x) = (x - a_s)\cdot\mathrm d\bar B_s - \tfrac12\|x - a_s\|^2\,"
        r"\mathrm ds$ with the innovation Brownian motion (the source's proof flips the "
        r"drift's sign).",
        "The proof of Proposition 4.2 in the expository report on Benton et al.", _R),
    "sl.posterior_mean_qv": (
        rf"$a_s = {_E}x^* + \int_0^s A_r\,\mathrm d\bar B_r$, so ${_E}A_s = "
        rf"\operatorname{{Cov}}(x^*) - \int_0^s{_E}A_r^2\,\mathrm dr$ (the proof omits "
        rf"$a_0 = {_E}x^*$).",
        "The proof of Proposition 4.3 in the expository report on Benton et al.", _R),
    "sl.reverse_reparam": (
        r"The reverse SDE in localization time, and $c_s = \sqrt{s(s+1)}\,X_s$ solving "
        r"$\mathrm dc = m\,\mathrm ds + \mathrm dB$.",
        "The slides on stochastic localization and diffusion, in the lecture slides.", _S),
    # ------------------------------------------------------------------ 6. BBDD23 proof
    "bbdd.schedule": (
        r"The schedule (uniform on $[0, T-1]$, then exponential up to $T - \delta$) "
        r"satisfies $\gamma_k \le \kappa\min\{1, T - t_{k+1}\}$.",
        "Section 3.2 of the expository report on Benton et al.", _R),
    "bbdd.lemma34": (
        rf"$\frac{{\sigma_t^3}}{{2\sigma_t'}}\frac{{\mathrm d}}{{\mathrm dt}}{_E}[\Sigma_t] = "
        rf"{_E}[\Sigma_t^2]$",
        "Lemma 3.4 of the expository report on Benton et al.", _R),
    "bbdd.hessian_energy": (
        rf"${_E}\|\nabla^2\log q_t\|_F^2 = d\sigma^{{-4}} - 2\sigma'\sigma^{{-5}}{_E}"
        rf"\operatorname{{tr}}\Sigma_t + \sigma'^2\sigma^{{-6}}{_E}\operatorname{{tr}}"
        r"\Sigma_t^2$",
        "Section 3.3.3 of the expository report on Benton et al.", _R),
    "bbdd.lemma2": (
        rf"The Itô dynamics of $E_{{s,t}} = {_E}\|\nabla\log q_{{T-t}}(Y_t) - \nabla\log "
        r"q_{T-s}(Y_s)\|^2$ as stated (the lemma is right; the sign slip is in the proof of "
        r"Proposition 4.2).",
        "Lemma 3.5 of the expository report on Benton et al.", _R),
    "bbdd.error3": (
        rf"$\sum_k\int{_E}\|\nabla\log q_{{T-t}}(Y_t) - \nabla\log q_{{T-t_k}}(Y_{{t_k}})\|^2"
        r"\,\mathrm dt \lesssim \kappa^2 dN + \kappa dT$",
        "Equations 19 and 25 of the expository report on Benton et al.", _R),
    "bbdd.error3_explicit": (
        r"$\mathrm{Error}_3 \le \big(\tfrac1{2c_0} + \tfrac1{c_0^2}\big)\kappa^2 dN + "
        r"\tfrac{2}{c_0^2}\kappa(1+\kappa)d\,(1 + \log(1/\delta))$, "
        r"$c_0 = 1 - e^{-2}$, for $\gamma_k \le \kappa\min(1, T - t_{k+1})$, $\kappa \le 1$, "
        r"$\operatorname{tr}\operatorname{Cov}X_0 \le d$, $\delta < 1 \le T$; and each step of its proof.",
        "Derived in chapter 6 of this book (completing equation 25 of the expository report on Benton et al.).", _B),
    "bbdd.theorem1": (
        rf"${_KL}(q_\delta\Vert p_{{t_N}}) \le 2\varepsilon_{{\mathrm{{score}}}}^2 + "
        rf"2\,\mathrm{{Error}}_3 + {_KL}(q_T\Vert\pi) \le 2\varepsilon^2 + "
        r"14.6\,(\kappa^2dN + \kappa dT) - \tfrac d2\log(1 - e^{-2T})$, every term exact for "
        r"Gaussian data; mixtures by quadrature.",
        "Theorem 3.2 of the expository report on Benton et al.", _R),
    "bbdd.d_linear": (
        r"The number of steps needed for a fixed KL grows at most linearly in $d$ (log-log "
        r"slope $\le 1$; about $\tfrac12$ for Gaussian data, where the terminal KL scales like "
        r"$\kappa^2$); for a non-product target $\mathrm{Error}_3$ grows linearly in $d$, below "
        r"$7.3\,(\kappa^2dN + \kappa dT)$.",
        "Theorem 3.1 of the expository report on Benton et al.", _R),
    "bbdd.rates_table": (
        r"The rates of Chen et al. (2023), Chen, Lee and Lu (2023) and Benton et al. (2024) "
        r"side by side.",
        "Section 3.4 of the expository report on Benton et al.", _R),
    "bbdd.score_sde": (
        r"Along the exact reverse process, $\mathrm dS_t = -S_t\,\mathrm dt + \sqrt2\,H_t\,"
        rf"\mathrm dB'_t$; equivalently ${_E}[S_t\cdot S_s] = e^{{-(t-s)}}{_E}\|S_s\|^2$.",
        "The root of Lemma 3.5 in the expository report on Benton et al.", _R),
    "bbdd.eq23": (
        rf"$\frac{{\mathrm dE_{{s,t}}}}{{\mathrm dt}} \le \tfrac12{_E}\|S_s\|^2 + 2{_E}\|"
        rf"H_t\|_F^2 \le {_E}\|S_s\|^2 + 2{_E}\|H_t\|_F^2$",
        "Equation 23 of the expository report on Benton et al.", _R),
    "bbdd.hessian_bound": (
        rf"${_E}\|\nabla^2\log q_t\|_F^2 \le d\sigma_t^{{-4}} + \tfrac12\frac{{\mathrm d}}"
        rf"{{\mathrm dt}}\big(\sigma_t^{{-4}}{_E}\operatorname{{tr}}\Sigma_t\big)$, with the "
        rf"exact slack $\tfrac12\sigma_t^{{-2}}\frac{{\mathrm d}}{{\mathrm dt}}{_E}"
        r"\operatorname{tr}\Sigma_t$",
        "Section 3.3.3 of the expository report on Benton et al.", _R),
    "bbdd.eq24": (
        r"$E_{t_k,t} \le \int_{t_k}^t\big[d\sigma_{T-t_k}^{-2} + 2d\sigma_{T-r}^{-4}\big]"
        r"\mathrm dr - [\varphi(t) - \varphi(t_k)]$, $\varphi(r) = \sigma_{T-r}^{-4}"
        rf"{_E}\operatorname{{tr}}\Sigma_{{T-r}}$",
        "Equation 24 of the expository report on Benton et al.", _R),
    "bbdd.error_split": (
        r"Equation 17: the path KL is at most $2\times$(score error) $+\ 2\,\mathrm{Error}_3$, "
        r"every term exact for Gaussian data; without the factors $2$ it fails.",
        "Equation 17 of the expository report on Benton et al.", _R),
    "bbdd.tuning": (
        r"$T = \tfrac12\log(d/\varepsilon^2)$, with $N$ and $\kappa$ as in Section 3.2, makes "
        r"each term of Theorem 1 at most $\varepsilon^2$, and the schedule fits in $N$ steps.",
        "Section 3.2 of the expository report on Benton et al.", _R),
    "bbdd.path_vs_terminal": (
        r"For Gaussian data the path KL scales like $\kappa$, the terminal KL like "
        r"$\kappa^2$.",
        "The analysis in Section 3 of the expository report on Benton et al.", _R),
    # ------------------------------------------------------------------ 7. TV and W2
    "conv.tv_score": (
        r"$\mathrm{TV}(\mathrm{Law}\,Y_T, p_{\mathrm{data}}) \le \mathrm{TV}(p(T), "
        r"p_{\mathrm{noise}}) + \tfrac\varepsilon2\big(\int_0^T g^2\big)^{1/2}$ "
        r"($\varepsilon\sqrt{T/2}$ for the book's OU); the extracted $\varepsilon\sqrt T/2$ "
        r"fails.",
        "Theorem 6.2 of Tang and Zhao.", _T),
    "conv.tv_vp": (
        rf"VP: $\mathrm{{TV}} \le \tfrac12 e^{{-B/2}}\big({_E}\|x\|^2 + \frac{{de^{{-B}}}}"
        r"{2(1-e^{-B})}\big)^{1/2} + \tfrac\varepsilon2 B^{1/2}$, $B = \int_0^T\beta$",
        "Corollary 6.3 of Tang and Zhao.", _T),
    "conv.w2_coupling": (
        r"Gronwall bound $W_2^2 \le e^{u(T)}W_2^2(p(T), p_{\mathrm{noise}}) + "
        r"\frac{\varepsilon^2}{2h}\int g^2 e^{u(T) - u(T-t)}\,\mathrm dt$ by synchronous "
        r"coupling (informative for contractive designs).",
        "Theorem 6.5 of Tang and Zhao.", _T),
    "conv.vp_logconcavity": (
        r"For $\kappa$-strongly log-concave data the VP marginal is $\kappa_t$-strongly "
        r"log-concave, $\kappa_t = \kappa/(e^{-B(t)} + \kappa(1 - e^{-B(t)}))$.",
        "The proof of Theorem 6.6 in Tang and Zhao.", _T),
    "conv.w2_vp": (
        r"Corrected Theorem 6.6 ($\kappa > \tfrac12$, $0 < h < \min(\kappa,1) - \tfrac12$, "
        r"$c' = 2\min(\kappa,1) - 1 - 2h$): $W_2^2 \le e^{-c'B}W_2^2(p(T), \mathcal N(0,I)) + "
        r"\varepsilon^2(1 - e^{-c'B})/(2hc')$, asymptotically sharp.",
        "Theorem 6.6 of Tang and Zhao.", _T),
    "conv.table2_rates": (
        r"Discretisation error of Euler-Maruyama in TV and $W_2$: exponent in the step "
        r"$\ge\tfrac12$ ($1$ for smooth data), exponent in $d$ equal to $\tfrac12$.",
        "Table 2 of Tang and Zhao.", _T),
    # ------------------------------------------------------------------ 8. I-MMSE
    "rp.comparison_law": (
        r"$Y_k = t_kX + W_k$ with $\operatorname{Cov}(W_k, W_m) = \min(t_k, t_m)I$; "
        r"$\mathrm{Law}(Y_k/t_k) = \mu * \mathcal N(0, I/t_k)$",
        "Equations 2-3 of Reeves and Pfister.", _P),
    "rp.markov": (
        rf"Lemma 1: ${_E}[X\mid Y_1,\dots,Y_k] = {_E}[X\mid Y_k]$, and $Y_k = "
        r"\frac{t_k}{t_{k+1}}Y_{k+1} + \sqrt{t_k/t_{k+1}}\,B_k$ with $B_k$ independent of the "
        r"future.",
        "Lemma 1 of Reeves and Pfister.", _P),
    "rp.immse": (
        r"$I(b) - I(a) = \tfrac12\int_a^b M(s)\,\mathrm ds$ (Gaussian exactly; binary input and "
        r"mixtures by quadrature).",
        "Section 2 of Reeves and Pfister (the I-MMSE relation of Guo, Shamai and Verdú).",
        f"{_P},guo2005mutual"),
    "rp.sandwich": (
        r"$\tfrac{\delta_k}2M(t_k) \le I(t_k) - I(t_{k-1}) \le \tfrac{\delta_k}2M(t_{k-1})$",
        "Equation 6 of Reeves and Pfister.", _P),
    "rp.lemma2": (
        r"$\Delta_n = \sum_k\tfrac{\delta_k}2M(t_{k-1}) - I(t_n) + \sum_k\tfrac{\delta_k}2"
        rf"{_E}\|f_k - {_E}[X\mid Y_{{k-1}}]\|^2$, against an independent exact path KL for "
        r"Gaussian $X$.",
        "Lemma 2 of Reeves and Pfister.", _P),
    "rp.theorem1": (
        r"$\Delta_n \le \tfrac{\delta_{\max}}2\operatorname{tr}\operatorname{Cov}X + $ a "
        r"score-error term; with uniform steps, $T\operatorname{tr}\operatorname{Cov}X/(2n)$.",
        "Theorem 1 and Remark 1 of Reeves and Pfister.", _P),
    "rp.theorem2": (
        r"Geometric steps $t_k = \frac{\alpha^k - 1}{\alpha^n - 1}T$: the bound of Theorem 2.",
        "Theorem 2 of Reeves and Pfister.", _P),
    "rp.corollary1": (
        r"$\Delta_n \le \frac{d(\log T_n)^2}{2n}(1 + o(1))$ with $\alpha_n = (T_n\log "
        r"T_n)^{1/n}$",
        "Corollary 1 of Reeves and Pfister.", _P),
    "rp.gaussian_max": (
        r"$I(s) \le \tfrac12\log\det(I + s\operatorname{Cov}X) \le \tfrac d2\log(1 + "
        r"sM(0)/d)$, with equality if and only if $X$ is Gaussian.",
        "Section 4.1 of Reeves and Pfister.", _P),
    "rp.figure1": (
        r"Figure 1 re-created: $\Delta_n$ is half the area between $\int M$ and its left "
        r"Riemann sum; steps proportional to $1/\sqrt{-M'}$ leave less red than uniform or "
        r"geometric steps.",
        "Figure 1 of Reeves and Pfister.", _P),
    "rp.sharp_rate": (
        r"Exact means, grid $t_k = \varphi(k/n)$: $n\Delta_n \to \tfrac14\int_0^1\varphi'^2"
        r"(-M'\circ\varphi)$; uniform steps give $\tfrac T4(M(0) - M(T))$, half the telescoped "
        r"bound, and steps $\propto 1/\sqrt{-M'}$ the least, $\tfrac14(\int_0^T\sqrt{-M'})^2$.",
        "This book (Theorem 1 of Reeves and Pfister made sharp).", _P),
    "rp.sampler": (
        r"The sampler $Z_k = Z_{k-1} + \delta_kf_k(Z_{k-1}) + \sqrt{\delta_k}\,N_k$ with exact "
        r"$f_k$ does not reproduce $\mu * \mathcal N(0, I/t_n)$ (it under-disperses); "
        r"$D(\mathrm{Law}\,Y_n\Vert\mathrm{Law}\,Z_n) \le \Delta_n \to 0$.",
        "Equation 1 of Reeves and Pfister.", _P),
    "rp.mean_score": (
        rf"${_E}[X\mid Y = y] = y/t + \nabla\log p_Y(y)$ for $Y = tX + \sqrt t\,N$",
        "Footnote 1 and Appendix B of Reeves and Pfister.", _P),
    "rp.posterior_sampling": (
        r"Drawing $X_k$ from the exact posterior given $Y_{k-1}$ (equation 7) reproduces "
        r"$\mathrm{Law}(Y_1,\dots,Y_n)$ exactly.",
        "Equation 7 of Reeves and Pfister.", _P),
    "rp.marginal_dpi": (
        r"$D(\mathrm{Law}\,Y_n\Vert\mathrm{Law}\,Z_n) \le \Delta_n$ and $\mathrm{TV} \le "
        r"\sqrt{\Delta_n/2}$",
        "Remark 3 of Reeves and Pfister.", _P),
    "rp.chain_rule": (
        rf"$\Delta_n = \sum_k{_E}\,D\big(P_k(\cdot\mid Y_{{k-1}})\Vert Q_k(\cdot\mid "
        r"Y_{k-1})\big)$, computed without I-MMSE, equals Lemma 2.",
        "Equations 5 and 10 of Reeves and Pfister.", _P),
    "rp.telescoped": (
        r"Exact $f$: $\Delta_n \le \sum_k\tfrac{\delta_k}2(M(t_{k-1}) - M(t_k)) \le "
        r"\tfrac{\delta_{\max}}2(M(0) - M(t_n))$",
        "The proof of Theorem 1 in Reeves and Pfister.", _P),
    "rp.entropy_limit": (
        r"$I$ is concave and increasing; $I(s)\to H(X)$ for discrete $X$, and $I(s)\sim"
        r"\tfrac d2\log s$ with a density.",
        "Section 4.1 of Reeves and Pfister.", _P),
    # ------------------------------------------------------------------ 9. moment matching
    "mm.remark5": (
        r"The kernel $Z_k = Z_{k-1} + \delta f + (\delta^2\Sigma + \delta I)^{1/2}N$ matches "
        r"the first two conditional moments.",
        "Remark 5 of Reeves and Pfister.", _P),
    "mm.theorem3": (
        r"$\Delta_n$ decays like $n^{-m}$: measured slope $-1$ for mean matching, $-2$ for "
        r"mean and covariance matching (exact $\Delta_n$ by quadrature in $d = 1$).",
        "Theorem 3 of Reeves and Pfister.", _P),
    "mm.lemma3": (
        r"$D(\mu * \mathcal N(1/s)\Vert\nu * \mathcal N(1/s)) = O(s^{m+1})$ when $\mu$ and "
        r"$\nu$ share $m$ moments (Rademacher against $\mathcal N(0,1)$: $m = 3$, slope $4$).",
        "Lemma 3 of Reeves and Pfister.", _P),
    "mm.remark5_logdet": (
        r"For the kernel of Remark 5, $\Delta_n = \tfrac12\sum_k\mathbb E\log\det(I + "
        r"\delta_k\Sigma_k(Y_{k-1})) - I(t_n)$ for any prior with finite second moments; hence "
        r"it is never worse than the mean kernel, and exact for Gaussian data.",
        "This book (Remark 5 of Reeves and Pfister).", _P),
    "mm.sharp_rate": (
        r"The rates are attained (Rademacher, uniform steps): $n\Delta_n \to \tfrac T4(M(0) - M(T))$ "
        r"for the mean kernel and $n^2\Delta_n \to \tfrac{T^2}{12}\int_0^T\mathbb E\kappa_3^2$ for the "
        r"Remark 5 kernel, with $M'' = 2\mathbb E\Sigma^3 - \mathbb E\kappa_3^2$.",
        "This book (Theorem 3 of Reeves and Pfister made sharp).", _P),
    "mm.gaussian_exact": (
        r"For Gaussian $X$ the kernel of Remark 5 is exact: $\Delta_n = 0$.",
        "Remark 5 of Reeves and Pfister.", _P),
    "mm.lemma3_constant": (
        rf"Sharp small-$s$ form in 1-D: $D = \frac{{s^{{m+1}}({_E}A^{{m+1}} - "
        rf"{_E}B^{{m+1}})^2}}{{2\,(m+1)!}}(1 + O(s))$ (Rademacher against $\mathcal N(0,1)$: "
        r"$s^4/12$).",
        "Lemma 3 of Reeves and Pfister and the reference it relies on.", _P),
    "mm.convexity_bound": (
        r"$D(\mu * \mathcal N(1/s)\Vert\nu * \mathcal N(1/s)) \le \tfrac s2W_2^2(\mu, \nu)$",
        "The proof of Lemma 3 in Reeves and Pfister.", _P),
    # ------------------------------------------------------------------ 10. ODE, consistency
    "ode.pf_marginals": (
        r"The VP and VE probability-flow ODEs reproduce the SDE marginals.",
        "Theorem 5.1 and equations 5.9-5.10 of Tang and Zhao.", _T),
    "ode.reparam": (
        r"Sampling the VP process with the VE score through the space-time change of "
        r"equations 5.11-5.13.",
        "Section 5.1 of Tang and Zhao.", _T),
    "ode.flow_group": (
        r"The ODE flow satisfies $F(t, s, Y_s) = Y_t$ and composes: $F(t,s,F(s,r,y)) = "
        r"F(t,r,y)$.",
        "Equation 5.14 of Tang and Zhao.", _T),
    "ode.cd_vs_ct": (
        r"$W_2^2$ between the consistency-distillation pairs and the consistency-training pairs "
        r"drawn with independent noise, for a point mass: $2d\big(t^2 + (t-\delta)^2 - "
        r"\sqrt{t^4 + (t-\delta)^4}\big) \to 2(2-\sqrt2)t^2d$",
        "Equation 5.17 of Tang and Zhao.", _T),
    "ode.monotone_map": (
        r"In 1-D the probability-flow map is the monotone transport $F(t, s, y) = "
        r"Q_t(C_s(y))$.",
        "Equation 5.14 of Tang and Zhao.", _T),
    "ode.consistency_pde": (
        r"The consistency function solves $\partial_tF - t\nabla\log p\cdot\nabla F = 0$ (VE, "
        r"$\sigma = t$); the distillation loss with the exact score is $O(\delta^2)$ while the "
        r"independent-pair training loss tends to a positive constant.",
        "Equations 5.15-5.19 of Tang and Zhao.", _T),
    "ode.ct_unbiased": (
        rf"${_E}[(Y_t - x)/t\mid Y_t = y] = -t\nabla\log p(t, y)$: with shared noise the "
        r"training partner has the distillation partner (exact score) as conditional mean, so a "
        r"frozen linear target gives the distillation objective up to a constant.",
        "Equations 5.18-5.19 of Tang and Zhao.", _T),
    "ode.ct_limits": (
        r"Gaussian data, $F = k(t)y$: a frozen target with shared noise converges to the "
        r"consistency function at rate $O(\delta)$; independent noise collapses to $F = 0$; the "
        r"squared loss minimised jointly converges to a different function.",
        "This book (consistency training as in Song et al.).", _T),
    # ------------------------------------------------------------------ 11. learning, fine-tuning
    "stat.small_noise": (
        r"Linear class: $\operatorname{tr}(G^{-1}\Omega) = p/\sigma^2 + \operatorname{tr}(G^{-1}"
        r"\mathbb E[\Phi^\top(bb^\top + \nabla^2\log q)\Phi])$, so the sample error at time $t$ is "
        r"about $p/(n\sigma_t^2)$.",
        "This book (Theorem 7.2 of Tang and Zhao made precise).", _T),
    "stat.vp_tweedie_param": (
        rf"VP: $\nabla\log p(t, x) = \frac{{\sqrt\gamma\,{_E}[X_0\mid X_t = x] - x}}"
        r"{1-\gamma}$, $\gamma(t) = e^{-\int_0^t\beta}$",
        "Equations 7.7-7.8 of Tang and Zhao.", _T),
    "stat.ism_minimizer": (
        r"For $p_\theta\propto e^{\theta\cdot F}$ the implicit score-matching minimiser "
        rf"$\theta^* = -{_E}[\nabla F\nabla F^\top]^{{-1}}{_E}[\Delta F]$ is the true "
        r"parameter.",
        "Theorem 7.1 of Tang and Zhao.", _T),
    "stat.sm_efficiency": (
        r"$\Gamma_{\mathrm{SM}} \succeq \Gamma_{\mathrm{MLE}}$ (strictly for a quartic family; "
        r"equality for a Gaussian precision).",
        "Section 7.1 of Tang and Zhao.", _T),
    "stat.error_decomp": (
        r"Score error of the fitted model = approximation error + sample error, the excess "
        r"decaying like $\operatorname{tr}(G^{-1}\Omega)/n$.",
        "Theorem 7.2 of Tang and Zhao.", _T),
    "rl.kl_path_bound": (
        rf"${_KL}(p_\theta(T)\Vert p_{{\mathrm{{pre}}}}(T)) \le$ path KL $= \tfrac12\int g^2"
        rf"{_E}\|\mu_\theta - s_{{\mathrm{{pre}}}}\|^2$: the running-cost objective is a lower "
        r"bound of equation 7.13, not an equivalent form.",
        "Equations 7.13-7.14 of Tang and Zhao.", _T),
    "rl.policy_gradient": (
        r"Theorem 7.3 in a linear-quadratic case: finite differences of $J$, the "
        r"policy-gradient formula and its Monte Carlo estimate agree.",
        "Theorem 7.3 of Tang and Zhao.", _T),
    "rl.q_zero_mean": (
        r"The full continuous-time q-function has mean zero under the policy; the printed $q$ "
        r"differs by a baseline.",
        "Equations 7.15-7.17 of Tang and Zhao.", _T),
    # ------------------------------------------------------------------ appendix: Itô
    "ito.quadratic_variation": (
        r"$\sum(\Delta B)^2 \to t$",
        "Section 4.1 of the expository report on Benton et al.", _R),
    "ito.lemma": (
        r"Itô's lemma for $g(t, X_t)$, checked pathwise as the step shrinks.",
        "Theorem 4.1 of the expository report on Benton et al.", _R),
    "ito.isometry": (
        r"$\mathbb E\big(\int X\,\mathrm dB\big)^2 = \mathbb E\int X^2\,\mathrm dt$",
        "Theorem 4.2 of the expository report on Benton et al.", _R),
    "ito.dds": (
        r"$\int_0^s\sqrt2\,e^r\,\mathrm dB_r$ is a Brownian motion run at the clock "
        r"$e^{2s} - 1$.",
        "Equation 33 of the expository report on Benton et al.", _R),
    "ito.lemma_d": (
        r"Itô's formula in $d$ dimensions, $\mathrm dg = \partial_tg\,\mathrm dt + \nabla g\cdot"
        r"\mathrm dX + \tfrac12\operatorname{tr}(vv^\top\nabla^2g)\,\mathrm dt$: for $X = vB$ and "
        r"$Y = e^{\lambda\cdot X - ct/2}$ with $c = \lambda^\top vv^\top\lambda$, the remainder "
        r"$Y_T - 1 - \sum_kY_{t_k}\lambda\cdot\Delta X_k$ has mean square "
        r"$(e^{cT} - 1)(e^{ch} - 1 - ch)/(e^{ch} - 1)$.",
        "Chapter 4 of Øksendal's textbook.", "oksendal2003stochastic"),
    "ito.martingale": (
        r"For adapted $H$ with $\mathbb E\int_0^T|H_t|^2\,\mathrm dt < \infty$, $M = \int H\cdot"
        r"\mathrm dB$ is a martingale: $\mathbb EM_T = 0$ and $\mathbb E[(M_T - M_s)Z] = 0$ for "
        r"bounded $\mathcal F_s$-measurable $Z$.",
        "Chapter 3 of Øksendal's textbook.", "oksendal2003stochastic"),
    "ito.well_posed": (
        r"Locally Lipschitz coefficients with linear growth give a unique strong solution that "
        r"does not explode; for the reverse SDE of a Gaussian mixture, whose score is not "
        r"globally Lipschitz, Euler-Maruyama paths driven by one Brownian path converge, with "
        r"mean square gaps of order $h^2$.",
        "Section 5.2 of Karatzas and Shreve.", "karatzas1991brownian"),
    "ito.generator": (
        r"$\big(\mathbb Ef(X_h) - f(x)\big)/h \to \mathcal Lf(x) = b\cdot\nabla f + \tfrac12"
        r"\operatorname{tr}(GG^\top\nabla^2f)$, at rate $h$.",
        "Chapter 7 of Øksendal's textbook.", "oksendal2003stochastic"),
    "ito.fokker_planck": (
        r"The density of $\mathrm dX = b\,\mathrm dt + G\,\mathrm dB$ solves $\partial_tp = "
        r"-\sum_i\partial_i(b_ip) + \tfrac12\sum_{ij}\partial_i\partial_j(A_{ij}p)$ with "
        r"$A = GG^\top$ (checked with position-dependent $b$ and $A$).",
        "Chapter 8 of Øksendal's textbook.", "oksendal2003stochastic"),
}


def statement_tex(identity_id):
    """The statement of a registered id as prose with ``$...$`` math (the plain registry
    statement for an id that has no entry here)."""
    entry = CATALOGUE.get(identity_id)
    if entry is None:
        return registry.get(identity_id).statement.replace("$", r"\$")
    return entry[0]


def source_words(identity_id):
    """Where the statement comes from, in words (the registry's code when not described)."""
    entry = CATALOGUE.get(identity_id)
    return entry[1] if entry is not None else registry.get(identity_id).source


def source_keys(identity_id):
    """The BibTeX keys to cite for the statement's source (a list, possibly empty)."""
    entry = CATALOGUE.get(identity_id)
    if entry is None:
        return []
    return [k for k in entry[2].split(",") if k]


_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")


def pieces(text):
    """Split prose with ``$...$`` math into ``(is_math, text)`` pieces, in order."""
    out, pos = [], 0
    for m in _MATH.finditer(text):
        if m.start() > pos:
            out.append((False, text[pos:m.start()].replace(r"\$", "$")))
        out.append((True, m.group(1)))
        pos = m.end()
    if pos < len(text):
        out.append((False, text[pos:].replace(r"\$", "$")))
    return out


def statement_html(identity_id):
    r"""The statement as HTML, math between ``\(...\)`` for MathJax (escaped)."""
    return "".join(f'<span class="math">\\({html.escape(t)}\\)</span>' if is_math
                   else html.escape(t) for is_math, t in pieces(statement_tex(identity_id)))
