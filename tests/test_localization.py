"""companion.localization against independent references: direct Bayes on discrete priors,
brute-force quadrature, scipy, the OU posterior, and the thread count."""
import numpy as np
import pytest
from scipy import integrate, stats

import companion as cp
from companion import localization as sl


@pytest.fixture(scope="module")
def mu():
    return cp.targets.bimodal()


def test_time_change_round_trip_and_scale():
    s = np.array([0.01, 0.3, 1.0, 7.0])
    t = cp.time.ou_time(s)
    np.testing.assert_allclose(sl.scale(s), s * np.exp(t), rtol=1e-13)
    for si in s:
        t1, x = sl.sl_to_ou(si, [2.0])
        s2, u = sl.ou_to_sl(t1, x)
        assert s2 == pytest.approx(si, rel=1e-12) and u[0] == pytest.approx(2.0, rel=1e-12)


def test_tilt_of_a_discrete_prior_is_bayes_by_hand():
    cube = cp.targets.rademacher(3)
    u, s = np.array([0.4, -1.2, 2.0]), 0.8
    w = np.exp(cube.means @ u - 0.5 * s * np.sum(cube.means**2, 1))
    np.testing.assert_allclose(sl.tilt(cube, u, s).weights, w / w.sum(), atol=1e-14)


def test_tilt_of_a_gaussian_is_the_conjugate_posterior():
    c, u, s = 2.0, 0.7, 1.5
    nu = sl.tilt(cp.gaussian([0.3], [[c]]), [u], s)
    prec = s + 1 / c
    assert nu.cov()[0, 0] == pytest.approx(1 / prec, rel=1e-13)
    assert nu.mean()[0] == pytest.approx((u + 0.3 / c) / prec, rel=1e-13)


def test_tilt_matches_one_dimensional_quadrature(mu):
    u, s = 0.9, 1.3
    dens = lambda x, p: x**p * np.exp(u * x - s * x * x / 2 + mu.logpdf(np.array([[x]]))[0])
    z = integrate.quad(dens, -10, 10, args=(0,), epsabs=1e-14)[0]
    m = integrate.quad(dens, -10, 10, args=(1,), epsabs=1e-14)[0] / z
    nu = sl.tilt(mu, [u], s)
    assert nu.mean()[0] == pytest.approx(m, abs=1e-10)


def test_tilt_at_zero_is_the_prior(mu):
    assert sl.tilt(mu, [3.0], 0.0) is mu


def test_likelihood_ratio_against_direct_normaliser(mu):
    u, s, x = np.array([[0.4], [-1.0]]), 0.9, 0.25
    z = [integrate.quad(lambda y: np.exp(ui * y - s * y * y / 2) * mu.pdf([y]), -10, 10,
                        epsabs=1e-14)[0] for ui in u[:, 0]]
    direct = np.exp(u[:, 0] * x - s * x * x / 2) / np.array(z)
    np.testing.assert_allclose(sl.likelihood_ratio(mu, u, s, [x]), direct, rtol=1e-9)


def test_expectation_against_scipy(mu):
    s = 0.7
    nu = mu.channel(s, np.sqrt(s))
    ref = integrate.quad(lambda v: np.cos(v) * nu.pdf([v]), -30, 30, epsabs=1e-14)[0]
    assert sl.expectation(mu, s, lambda U: np.cos(U[:, 0])) == pytest.approx(ref, abs=1e-12)
    ring = cp.targets.ring()
    assert np.allclose(sl.expectation(ring, 1.0, lambda U: U), ring.mean(), atol=1e-12)


def test_paths_exact_is_s_xstar_plus_brownian_and_a_is_the_tilt_mean(mu):
    grid = np.linspace(0.0, 1.0, 6)
    p = sl.paths(mu, grid, 4, seed=3, method="exact")
    incr = np.diff(p.U[:, :, 0], axis=1) - np.outer(p.xstar[:, 0], np.diff(grid))
    z = incr / np.sqrt(np.diff(grid))
    ref = np.stack([cp.rng.normals(4, 1, seed=3, step=k + 1)[:, 0] for k in range(5)], axis=1)
    np.testing.assert_allclose(z, ref, atol=1e-12)
    for i in range(4):
        for j in (1, 3, 5):
            nu = sl.tilt(mu, p.U[i, j], grid[j])
            np.testing.assert_allclose(p.a[i, j], nu.mean(), atol=1e-12)
            np.testing.assert_allclose(p.A[i, j], nu.cov(), atol=1e-12)
    np.testing.assert_allclose(p.a[:, 0], np.broadcast_to(mu.mean(), (4, 1)), atol=0)
    lz = sl.path_log_likelihood_ratio(p, [0.5])[:, 3]
    np.testing.assert_allclose(lz, sl.log_likelihood_ratio(mu, p.U[:, 3], grid[3], [0.5]),
                               atol=1e-12)


@pytest.mark.parametrize("method", sl.METHODS)
def test_paths_same_bits_with_one_or_two_threads(method, with_threads):
    ring = cp.targets.ring()
    grid = np.linspace(0.05, 2.0, 30)
    run = lambda: sl.paths(ring, grid, 64, seed=1, method=method).U
    assert with_threads(1, run).tobytes() == with_threads(2, run).tobytes()


def test_fdd_closed_form_against_ou_paths_covariance(mu):
    s = np.array([0.0, 0.4, 1.5])
    x = sl.ou_paths(mu, s, 60_000, seed=2)[:, 1:, 0]
    c, se = cp.stats.covariance_with_stderr(x)
    assert np.all(np.abs(c - sl.ou_fdd(mu, s[1:]).cov()) < 5 * se)


def test_reverse_drift_forms_agree_on_the_ring():
    ring = cp.targets.ring()
    x = ring.at(0.3).sample(20, seed=0)
    np.testing.assert_allclose(sl.reverse_drift(ring, 2.0, x, "score"),
                               sl.reverse_drift(ring, 2.0, x, "tweedie"), atol=1e-11)


@pytest.mark.parametrize("call, word", [
    (lambda m: sl.tilt(m, [1.0], -1.0), "s"),
    (lambda m: sl.tilt(m, [1.0, 2.0], 1.0), "u"),
    (lambda m: sl.tilt("mu", [1.0], 1.0), "target"),
    (lambda m: sl.paths(m, [0.0, 1.0], 0, seed=0), "n"),
    (lambda m: sl.paths(m, [1.0, 0.5], 5, seed=0), "s"),
    (lambda m: sl.paths(m, [0.0, 1.0], 5, seed=0, method="reverse"), "s"),
    (lambda m: sl.paths(m, [0.0, 1.0], 5, seed=0, method="euler"), "method"),
    (lambda m: sl.ou_paths(m, [0.0], 5, seed=0), "s"),
    (lambda m: sl.likelihood_ratio(m, [1.0], 0.0, [1.0]), "s"),
    (lambda m: sl.expectation(m, 1.0, 3.0), "f"),
    (lambda m: sl.sl_fdd(m, [0.0, 1.0]), "s"),
    (lambda m: sl.reverse_drift(m, 1.0, [0.0], form="ode"), "form"),
    (lambda m: sl.scale(-1.0), "s"),
])
def test_bad_input_names_the_argument(mu, call, word):
    with pytest.raises(ValueError, match=word):
        call(mu)
