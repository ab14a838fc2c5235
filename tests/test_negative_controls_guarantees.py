"""Negative controls for chapter 7 (guarantees in TV and W_2): each check of the chapter, given
the source's version or another perturbed statement, must fail, while the true one passes."""
import numpy as np
import pytest
from scipy import integrate, optimize

import companion as cp
from companion import bounds, guarantees as gr, verify
from companion.divergences import gaussian_tv, gaussian_w2

OU = cp.sde.OU()
VP20 = cp.sde.VP(0.1, 20.0, 1.0)
B20 = float(VP20.int_beta(1.0))


def test_reverse_law_without_the_factor_g_squared_fails():
    """The biased OU sampler's mean is 2 eps (1 - e^{-T}); eps (1 - e^{-T}) forgets g^2 = 2."""
    m, v = gr.reverse_moments(OU, 0.0, 1.0, 1.0, eps=0.05)
    verify.close("conv.reverse_gaussian_law", [m, v], [0.1 * -np.expm1(-1.0), 1.0], atol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("conv.reverse_gaussian_law", [m, v], [0.05 * -np.expm1(-1.0), 1.0], atol=1e-9)


def test_exact_tv_without_the_half_fails():
    """Equal variances: TV = 2 Phi(|m1 - m2| / (2 sqrt v)) - 1, not 2 Phi(|m1 - m2| / sqrt v) - 1."""
    from scipy.stats import norm

    quad = cp.divergences.tv_grid(cp.gaussian([1.0], [[1.0]]), cp.gaussian([0.0], [[1.0]]), 20_001)
    verify.close("conv.exact_tv", gaussian_tv(1.0, 1.0, 0.0, 1.0), quad, atol=1e-6)
    with pytest.raises(AssertionError):
        verify.close("conv.exact_tv", 2 * norm.cdf(1.0) - 1, quad, atol=1e-6)


def _tstar():
    return optimize.minimize_scalar(lambda T: np.expm1(-T) / np.sqrt(T), bounds=(0.5, 3.0),
                                    method="bounded", options={"xatol": 1e-10}).x


def test_extracted_theorem_62_constant_fails():
    """C28: TV(Law Y_T, p_data) <= eps sqrt(T)/2 is false for OU at T ~ 1.256; eps sqrt(T/2) holds."""
    eps, T = 0.05, _tstar()
    m, v = gr.reverse_moments(OU, 0.0, 1.0, T, eps=eps)
    tv = gaussian_tv(m, v, 0.0, 1.0)
    verify.leq("conv.tv_score", tv, bounds.tv_score_bound(0.0, eps, 2 * T))
    with pytest.raises(AssertionError):
        verify.leq("conv.tv_score", tv, eps * np.sqrt(T) / 2)
    # and the exceedance is not a rounding effect: about 1.8 %
    assert tv / (eps * np.sqrt(T) / 2) > 1.015


@pytest.mark.parametrize("process, T", [(cp.sde.VP(0.1, 20.0, 1.0), 1.0),
                                        (cp.sde.ConstantLinear(10.0, np.sqrt(20.0)), 0.2)])
def test_both_readings_of_theorem_62_fail_for_noisier_processes(process, T):
    """C28, decisive: for VP and for a sped-up OU both eps sqrt(T)/2 and eps sqrt(T/2) are
    exceeded, while the corrected (eps/2) sqrt(int g^2) holds."""
    eps = 0.05
    m, v = gr.reverse_moments(process, 0.0, 1.0, T, eps=eps)
    tv = gaussian_tv(m, v, 0.0, 1.0)
    int_g2 = float(integrate.quad(lambda t: float(process.g(t)) ** 2, 0.0, T)[0])
    verify.leq("conv.tv_score", tv, bounds.tv_score_bound(0.0, eps, int_g2))
    for reading in (eps * np.sqrt(T) / 2, eps * np.sqrt(T / 2)):
        with pytest.raises(AssertionError):
            verify.leq("conv.tv_score", tv, reading)


def test_corollary_63_without_the_half_fails():
    """C29: the printed (a) (no 1/2) exceeds e^{-B} E|x|^2; the corrected value does not."""
    B, s0sq = float(cp.sde.VP(0.1, 2.0, 1.0).int_beta(1.0)), 0.5
    correct = bounds.vp_init_kl(B, s0sq, 1)
    verify.leq("conv.tv_vp", correct, np.exp(-B) * s0sq)
    with pytest.raises(AssertionError):
        verify.leq("conv.tv_vp", 2 * correct, np.exp(-B) * s0sq)


@pytest.mark.parametrize("factor", [4.0, 8.0])
def test_theorem_65_with_a_smaller_young_constant_fails(factor):
    """C30: the score term needs eps^2/(2h); eps^2/(4h) or eps^2/(8h) is beaten by the CVP example."""
    cvp = gr.CVP(0.1, 20.0, 1.0)
    c, eps, h = 50.0, 0.1, 0.25
    a = float(cvp.mean_coeff(1.0))
    pT = (0.0, a * a * c + float(cvp.marginal_var(1.0)))
    msd = gr.coupling_moments(cvp, 0.0, c, 1.0, eps=eps, start_v=pT)["msd"]
    B = float(cvp.int_beta(1.0))
    good = bounds.w2_coupling_bound(B, -1 + 2 / c + 2 * h, eps, h, 0.0)
    verify.leq("conv.w2_coupling", msd, good)
    with pytest.raises(AssertionError):
        verify.leq("conv.w2_coupling", msd, good * 2.0 / factor)


def test_kappa_t_without_the_convolution_fails():
    """kappa_t = kappa e^{B} (scaling only, no added noise) overstates the log-concavity."""
    mix = cp.GaussianMixture([0.5, 0.5], [[-0.5], [0.5]], [[[1.0]], [[1.0]]])
    x = np.linspace(-8.0, 8.0, 3201)[:, None]
    Bs = -np.log([0.9, 0.5, 0.1])
    grid_min = np.array([(-mix.channel(np.exp(-b / 2), np.sqrt(-np.expm1(-b))).hessian(x)[:, 0, 0]).min()
                         for b in Bs])
    verify.leq("conv.vp_logconcavity", gr.vp_kappa(0.75, Bs), grid_min, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.leq("conv.vp_logconcavity", 0.75 * np.exp(Bs), grid_min, atol=1e-12)


def test_theorem_66_with_a_smaller_constant_fails():
    """C31: for kappa = 1 the bound eps^2 (1 - e^{-c'B})/(2hc') is nearly attained, so
    eps^2/(4hc') fails."""
    eps, h = 0.3, 0.25
    m, v = gr.reverse_moments(VP20, 0.0, 1.0, 1.0, eps=eps)
    w2sq = gaussian_w2(m, v, 0.0, 1.0) ** 2
    c = 2 * 1.0 - 1 - 2 * h
    verify.leq("conv.w2_vp", w2sq, bounds.w2_vp_bound(B20, 1.0, eps, h, 0.0))
    with pytest.raises(AssertionError):
        verify.leq("conv.w2_vp", w2sq, eps ** 2 / (4 * h * c))


def test_theorem_66_initial_term_with_d_over_4_fails():
    """C31: W_2^2(p(T), N(0, I)) <= e^{-B} E|x|^2 + (d/4) e^{-2B} is false (data near 0)."""
    d, s0sq, B = 3, 0.01, np.log(2.0)
    exact = gaussian_w2(np.zeros(d), (np.exp(-B) * s0sq - np.expm1(-B)) * np.eye(d), np.zeros(d),
                        np.eye(d)) ** 2
    verify.leq("conv.w2_vp", exact, bounds.w2_vp_init_bound(B, d * s0sq, d))
    with pytest.raises(AssertionError):
        verify.leq("conv.w2_vp", exact, np.exp(-B) * d * s0sq + d / 4 * np.exp(-2 * B))


def test_theorem_66_proof_step_with_beta_max_fails():
    """C31: the printed step u_VP(T) <= beta_max (1 + 2h - 2 min(kappa, 1)) T goes the wrong way;
    with B(T) >= beta_min T in its place it holds. Exponent by quadrature of its definition."""
    kappa, h, T = 1.0, 0.25, 1.0
    rate = lambda s: float(VP20.beta(s)) * (1 + 2 * h - 2 * float(gr.vp_kappa(kappa, float(VP20.int_beta(s)))))
    u = integrate.quad(rate, 0.0, T, epsabs=0, epsrel=1e-12)[0]
    c = 2 * min(kappa, 1) - 1 - 2 * h
    verify.leq("conv.w2_vp", u, -c * VP20.beta_min * T)
    with pytest.raises(AssertionError):
        verify.leq("conv.w2_vp", u, -c * VP20.beta_max * T)


def test_table2_linear_growth_in_d_fails():
    """The TV of Euler-Maruyama's output grows like sqrt(d), not like d."""
    gauss4 = cp.gaussian([0.0], [[4.0]])
    V = cp.samplers.gaussian_output_law(gauss4, 2.0, cp.schedules.uniform(2.0, 400), method="em",
                                        start="exact")[1][0, 0]
    ds = 2 ** np.arange(2, 9)
    tv = [gaussian_tv(np.zeros(d), V, np.zeros(d), 4.0) for d in ds]
    verify.slope("conv.table2_rates", ds, tv, expected=0.5, tol=0.05)
    with pytest.raises(AssertionError):
        verify.slope("conv.table2_rates", ds, tv, expected=1.0, tol=0.05)


def test_table2_step_exponent_half_is_not_what_euler_maruyama_does():
    """For Gaussian data the step exponent is 1: a claimed exact exponent 1/2 fails."""
    gauss4 = cp.gaussian([0.0], [[4.0]])
    Ns = np.array([25, 50, 100, 200, 400])
    V = np.array([cp.samplers.gaussian_output_law(gauss4, 2.0, cp.schedules.uniform(2.0, N),
                                                  method="em", start="exact")[1][0, 0] for N in Ns])
    err = np.abs(np.sqrt(V) - 2.0)
    verify.slope("conv.table2_rates", 2.0 / Ns, err, expected=1.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("conv.table2_rates", 2.0 / Ns, err, expected=0.5, tol=0.1)
