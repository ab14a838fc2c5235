"""companion.score_matching against independent references: closed forms (conjugate Gaussians,
the Rademacher prior), the mixture oracle, SciPy quadrature, finite differences and plain
NumPy re-implementations; and every public function's refusal of bad input."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import integrate, stats  # noqa: E402

import companion as cp  # noqa: E402
from companion import score_matching as sm  # noqa: E402


def sig(t):
    return np.sqrt(-np.expm1(-2 * t))


# ------------------------------------------------------------------ plain NumPy references
def ref_rbf(x, centers, width, affine=True):
    """Features (n, d, p) and their divergences (n, p), written out column by column."""
    n, d = x.shape
    cols, divs = [], []
    if affine:
        for a in range(d):
            e = np.zeros((n, d))
            e[:, a] = 1.0
            cols.append(e)
            divs.append(np.zeros(n))
        cols.append(x.copy())
        divs.append(np.full(n, float(d)))
    for c in centers:
        psi = np.exp(-np.sum((x - c) ** 2, axis=1) / (2 * width**2))
        for a in range(d):
            f = np.zeros((n, d))
            f[:, a] = psi
            cols.append(f)
            divs.append(-(x[:, a] - c[a]) / width**2 * psi)
    return np.stack(cols, axis=2), np.stack(divs, axis=1)


@pytest.fixture(scope="module")
def model2():
    centers = np.array([[0.0, 0.0], [1.0, -0.5], [-1.2, 0.8]])
    return sm.RBFScoreModel(centers, 0.9)


@pytest.fixture(scope="module")
def points2():
    return cp.rng.normals(300, 2, seed=11) * 1.5


# ------------------------------------------------------------------------------- Tweedie
def test_tweedie_mean_matches_conjugate_gaussian():
    # X ~ N(m, C), Y = a X + sigma N: E[X | y] = m + a C (a^2 C + sigma^2 I)^{-1} (y - a m)
    m = np.array([0.5, -1.0])
    C = np.array([[1.0, 0.3], [0.3, 0.5]])
    a, s = 0.7, 0.4
    y = cp.rng.normals(50, 2, seed=1)
    gain = a * C @ np.linalg.inv(a * a * C + s * s * np.eye(2))
    ref = m + (y - a * m) @ gain.T
    got = sm.tweedie_mean(cp.gaussian(m, C), y, a=a, sigma=s)
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_tweedie_mean_rademacher_tanh():
    # discrete prior on {-1, 1}: E[X | a X + sigma N = y] = tanh(a y / sigma^2)
    y = np.linspace(-3, 3, 41)[:, None]
    for a, s in [(1.0, 0.5), (0.3, 1.2), (-2.0, 0.7)]:
        got = sm.tweedie_mean(cp.targets.rademacher(1), y, a=a, sigma=s)
        np.testing.assert_allclose(got[:, 0], np.tanh(a * y[:, 0] / s**2), atol=1e-12)


def test_tweedie_mean_and_noise_match_the_posterior():
    ring = cp.targets.ring()
    y = ring.channel(0.8, 0.6).sample(500, seed=2)
    post = ring.posterior_mean(y, a=0.8, sigma=0.6)
    np.testing.assert_allclose(sm.tweedie_mean(ring, y, 0.8, 0.6), post, atol=1e-12)
    np.testing.assert_allclose(sm.tweedie_noise(ring, y, 0.8, 0.6), y - 0.8 * post, atol=1e-12)
    one = sm.tweedie_mean(ring, y[0], 0.8, 0.6)
    assert one.shape == (2,) and np.allclose(one, post[0])
    assert sm.tweedie_noise(ring, y[0], 0.8, 0.6).shape == (2,)


def test_ou_score_and_hessian_from_posterior_moments():
    ring = cp.targets.ring()
    for t in [0.05, 0.7, 2.5]:
        q = ring.at(t)
        x = q.sample(300, seed=3)
        m, S = ring.posterior(x, np.exp(-t), sig(t))
        np.testing.assert_allclose(sm.ou_score_from_mean(x, m, t), q.score(x), atol=1e-10)
        np.testing.assert_allclose(sm.ou_hessian_from_cov(S, t), q.hessian(x), atol=1e-9)
    # Rademacher data in closed form: q_t = (N(a, s^2) + N(-a, s^2)) / 2, m_t = tanh(a x / s^2)
    t = 0.4
    a, s2 = np.exp(-t), sig(t) ** 2
    x = np.linspace(-3, 3, 13)[:, None]
    score = (-x + a * np.tanh(a * x / s2)) / s2
    np.testing.assert_allclose(sm.ou_score_from_mean(x, np.tanh(a * x / s2), t), score, atol=1e-12)
    var = 1 - np.tanh(a * x / s2) ** 2
    hess = -1 / s2 + a * a / s2**2 * var
    got = sm.ou_hessian_from_cov(var[:, :, None], t)[:, :, 0]
    np.testing.assert_allclose(got, hess, atol=1e-12)
    assert sm.ou_hessian_from_cov(np.eye(2), 1.0).shape == (2, 2)


def test_tweedie_bad_input():
    mu = cp.targets.bimodal()
    with pytest.raises(ValueError, match="mixture"):
        sm.tweedie_mean("not a mixture", [[0.0]])
    with pytest.raises(ValueError, match="a must be non-zero"):
        sm.tweedie_mean(mu, [[0.0]], a=0.0)
    with pytest.raises(ValueError, match="sigma"):
        sm.tweedie_mean(mu, [[0.0]], sigma=0.0)
    with pytest.raises(ValueError, match="y"):
        sm.tweedie_mean(mu, [[0.0, 1.0]])
    with pytest.raises(ValueError, match="sigma"):
        sm.tweedie_noise(mu, [[0.0]], sigma=-1.0)
    with pytest.raises(ValueError, match="mixture"):
        sm.tweedie_noise(None, [[0.0]])
    with pytest.raises(ValueError, match="t"):
        sm.ou_score_from_mean([[0.0]], [[0.0]], 0.0)
    with pytest.raises(ValueError, match="m"):
        sm.ou_score_from_mean([[0.0]], [[0.0, 1.0]], 1.0)
    with pytest.raises(ValueError, match="cov"):
        sm.ou_hessian_from_cov(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="t"):
        sm.ou_hessian_from_cov(np.zeros((2, 2)), -1.0)


# -------------------------------------------------------------------------- the RBF model
def test_rbf_features_match_reference(model2, points2):
    phi, dphi = model2.features(points2)
    ref_phi, ref_d = ref_rbf(points2, model2.centers, model2.width)
    np.testing.assert_allclose(phi, ref_phi, atol=1e-14)
    np.testing.assert_allclose(dphi, ref_d, atol=1e-14)
    m0 = sm.RBFScoreModel(model2.centers, 0.9, affine=False)
    assert m0.n_params == 6
    phi0, d0 = m0.features(points2)
    r0, rd0 = ref_rbf(points2, m0.centers, 0.9, affine=False)
    np.testing.assert_allclose(phi0, r0, atol=1e-14)
    np.testing.assert_allclose(d0, rd0, atol=1e-14)


def test_rbf_field_divergence_and_jacobian(model2, points2):
    theta = cp.rng.normals(1, model2.n_params, seed=4)[0]
    ref_phi, _ = ref_rbf(points2, model2.centers, model2.width)
    s = model2.score(theta, points2)
    np.testing.assert_allclose(s, ref_phi @ theta, atol=1e-13)
    J_fd = sm.fd_jacobian(lambda y: model2.score(theta, y), points2, 1e-5)
    J = model2.jacobian(theta, points2)
    np.testing.assert_allclose(J, J_fd, atol=1e-8)
    np.testing.assert_allclose(model2.divergence(theta, points2), np.trace(J_fd, axis1=1, axis2=2),
                               atol=1e-8)
    # Jacobians of the features, contracted with theta, give the Jacobian of the field
    JF = model2.jacobian_features(points2)
    np.testing.assert_allclose(JF @ theta, J, atol=1e-13)
    # one point in, one point out
    assert model2.score(theta, points2[0]).shape == (2,)
    assert isinstance(model2.divergence(theta, points2[0]), float)
    assert model2.jacobian(theta, points2[0]).shape == (2, 2)


def test_rbf_chunking_does_not_change_results(model2):
    x = cp.rng.normals(sm._CHUNK + 37, 2, seed=5)
    theta = cp.rng.normals(1, model2.n_params, seed=6)[0]
    ref_phi, ref_d = ref_rbf(x, model2.centers, model2.width)
    np.testing.assert_allclose(model2.score(theta, x), ref_phi @ theta, atol=1e-13)
    np.testing.assert_allclose(model2.divergence(theta, x), ref_d @ theta, atol=1e-13)
    A, _, g = sm.normal_equations(model2, x)
    P = ref_phi.reshape(-1, model2.n_params)
    np.testing.assert_allclose(A, P.T @ P / x.shape[0], atol=1e-12)
    np.testing.assert_allclose(g, ref_d.mean(axis=0), atol=1e-13)


def test_on_grid():
    m = sm.RBFScoreModel.on_grid(4, 1.5, d=2)
    assert m.centers.shape == (16, 2) and np.isclose(m.width, 1.0) and m.n_params == 35
    assert sm.RBFScoreModel.on_grid(3, 1.0, d=1, width=0.3, affine=False).n_params == 3
    assert "K=16" in repr(m)


def test_rbf_bad_input(model2):
    with pytest.raises(ValueError, match="centers"):
        sm.RBFScoreModel(np.zeros((0, 2)), 1.0)
    with pytest.raises(ValueError, match="centers"):
        sm.RBFScoreModel([0.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="width"):
        sm.RBFScoreModel([[0.0]], 0.0)
    with pytest.raises(ValueError, match="affine"):
        sm.RBFScoreModel([[0.0]], 1.0, affine="yes")
    with pytest.raises(ValueError, match="theta"):
        model2.score(np.zeros(3), [[0.0, 0.0]])
    with pytest.raises(ValueError, match="x"):
        model2.score(np.zeros(model2.n_params), [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="k"):
        sm.RBFScoreModel.on_grid(1, 1.0)
    with pytest.raises(ValueError, match="half_width"):
        sm.RBFScoreModel.on_grid(3, -1.0)


# --------------------------------------------------------------------- the objectives
def test_objective_terms_match_reference(model2, points2):
    theta = cp.rng.normals(1, model2.n_params, seed=7)[0]
    ref_phi, ref_d = ref_rbf(points2, model2.centers, model2.width)
    s = ref_phi @ theta
    target = np.sin(points2)
    np.testing.assert_allclose(sm.esm_terms(model2, theta, points2, target),
                               np.sum((s - target) ** 2, axis=1), atol=1e-12)
    np.testing.assert_allclose(sm.ism_terms(model2, theta, points2),
                               np.sum(s**2, axis=1) + 2 * ref_d @ theta, atol=1e-12)
    x0 = cp.rng.normals(300, 2, seed=8)
    alpha, sigma = 0.8, 0.6
    cond = -(points2 - alpha * x0) / sigma**2
    dsm = sm.dsm_terms(model2, theta, points2, x0, alpha, sigma)
    np.testing.assert_allclose(dsm, np.sum((s - cond) ** 2, axis=1), atol=1e-10)
    g = (points2 - alpha * x0) / sigma
    np.testing.assert_allclose(sm.noise_prediction_terms(model2, theta, points2, g, sigma),
                               sigma**2 * dsm, rtol=1e-10)
    # sliced: the same probes rebuilt from rng, and a finite-difference Jacobian
    J = sm.fd_jacobian(lambda y: model2.score(theta, y), points2, 1e-5)
    quad = np.zeros(300)
    for j in range(3):
        v = cp.rng.normals(300, 2, seed=9, step=j)
        quad += np.einsum("na,nab,nb->n", v, J, v)
    np.testing.assert_allclose(sm.sliced_terms(model2, theta, points2, seed=9, n_probes=3),
                               np.sum(s**2, axis=1) + 2 * quad / 3, atol=1e-7)


def test_ism_equals_esm_minus_energy_by_quadrature():
    """Hyvarinen's identity with 1-D quadrature (SciPy) for a bimodal q_t."""
    q = cp.targets.bimodal().at(0.3)
    model = sm.RBFScoreModel([[-1.0], [0.5]], 0.8)
    rng_theta = cp.rng.normals(3, model.n_params, seed=10)

    def integral(fn):      # Gauss-Legendre of high order (SciPy), vectorised over nodes
        return integrate.fixed_quad(lambda u: q.pdf(u[:, None]) * fn(u[:, None]), -12, 12, n=800)[0]

    energy = integral(lambda x: np.sum(q.score(x) ** 2, axis=1))
    for th in rng_theta:
        esm = integral(lambda x: sm.esm_terms(model, th, x, q.score(x)))
        ism = integral(lambda x: sm.ism_terms(model, th, x))
        assert abs(ism - (esm - energy)) < 1e-9


def test_objective_bad_input(model2, points2):
    th = np.zeros(model2.n_params)
    with pytest.raises(ValueError, match="model"):
        sm.esm_terms("model", th, points2, points2)
    with pytest.raises(ValueError, match="score"):
        sm.esm_terms(model2, th, points2, points2[:5])
    with pytest.raises(ValueError, match="model"):
        sm.ism_terms(None, th, points2)
    with pytest.raises(ValueError, match="n_probes"):
        sm.sliced_terms(model2, th, points2, seed=0, n_probes=0)
    with pytest.raises(ValueError, match="seed"):
        sm.sliced_terms(model2, th, points2, seed=-1)
    with pytest.raises(ValueError, match="sigma"):
        sm.dsm_terms(model2, th, points2, points2, 1.0, 0.0)
    with pytest.raises(ValueError, match="x0"):
        sm.dsm_terms(model2, th, points2, points2[:3], 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        sm.dsm_terms(model2, th, points2, points2, "a", 1.0)
    with pytest.raises(ValueError, match="noise"):
        sm.noise_prediction_terms(model2, th, points2, points2[:3], 1.0)
    with pytest.raises(ValueError, match="sigma"):
        sm.noise_prediction_terms(model2, th, points2, points2, -1.0)



def test_dsm_terms_over_time_match_reference_and_closed_form():
    data = cp.gaussian([0.0, 0.0], 0.5 * np.eye(2))
    times = np.array([0.1, 0.7])
    fields = [lambda t, x: data.at(t).score(x), lambda t, x: -x]
    terms = sm.dsm_terms_over_time(data, fields, times, n=2000, seed=5)
    assert terms.shape == (2, 2, 2000)
    # the same pairs rebuilt by hand
    for j, t in enumerate(times):
        x0 = data.sample(2000, seed=5 + 2 * j)
        xt = np.exp(-t) * x0 + sig(t) * cp.rng.normals(2000, 2, seed=5 + 2 * j + 1)
        cond = -(xt - np.exp(-t) * x0) / sig(t) ** 2
        for i, f in enumerate(fields):
            np.testing.assert_allclose(terms[i, j], np.sum((f(t, xt) - cond) ** 2, axis=1),
                                       rtol=1e-12)
    # with the exact score the mean is C_t = d / v - d / (c m^2 + v), here for OU and for VE
    ve = cp.sde.VE(sigma_min=0.1, sigma_max=5.0, T=1.0)
    for sde in (None, ve):
        m = np.exp(-times) if sde is None else ve.mean_coeff(times)
        v = sig(times) ** 2 if sde is None else ve.marginal_var(times)
        exact = [lambda t, x, s=sde: -x / (0.5 * (np.exp(-2 * t) if s is None else 1.0)
                                           + (sig(t) ** 2 if s is None else float(ve.marginal_var(t))))]
        got = sm.dsm_terms_over_time(data, exact, times, n=200_000, seed=7, sde=sde)[0]
        floor = 2 / v - 2 / (0.5 * m**2 + v)
        se = got.std(axis=1) / np.sqrt(got.shape[1])
        assert np.all(np.abs(got.mean(axis=1) - floor) < 5 * se), (got.mean(axis=1), floor, se)
        # the target -g/sigma alone (a zero field) has mean d / v: the wrong power of v fails
        zero = sm.dsm_terms_over_time(data, [lambda t, x: 0 * x], times, n=20_000, seed=9, sde=sde)[0]
        assert np.all(np.abs(zero.mean(axis=1) - 2 / v) < 5 * zero.std(axis=1) / np.sqrt(20_000))


def test_dsm_terms_over_time_bad_input():
    data = cp.gaussian([0.0], [[1.0]])
    ok = [lambda t, x: -x]
    with pytest.raises(ValueError, match="data"):
        sm.dsm_terms_over_time("data", ok, [0.5], n=3, seed=0)
    with pytest.raises(ValueError, match="scores"):
        sm.dsm_terms_over_time(data, [], [0.5], n=3, seed=0)
    with pytest.raises(ValueError, match="scores"):
        sm.dsm_terms_over_time(data, ["s"], [0.5], n=3, seed=0)
    with pytest.raises(ValueError, match="times"):
        sm.dsm_terms_over_time(data, ok, [0.0, 0.5], n=3, seed=0)
    with pytest.raises(ValueError, match="n"):
        sm.dsm_terms_over_time(data, ok, [0.5], n=0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        sm.dsm_terms_over_time(data, ok, [0.5], n=3, seed=-1)
    with pytest.raises(ValueError, match="sde"):
        sm.dsm_terms_over_time(data, ok, [0.5], n=3, seed=0, sde="VP")
    with pytest.raises(ValueError, match="scores"):
        sm.dsm_terms_over_time(data, [lambda t, x: x[:1]], [0.5], n=3, seed=0)

# ------------------------------------------------------------------------------ fits
def test_least_squares_fits_match_lstsq(model2, points2):
    ref_phi, ref_d = ref_rbf(points2, model2.centers, model2.width)
    P = ref_phi.reshape(-1, model2.n_params)
    y = np.cos(points2)
    ref = np.linalg.lstsq(P, y.reshape(-1), rcond=None)[0]
    np.testing.assert_allclose(sm.fit_least_squares(model2, points2, y), ref, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sm.fit_esm(model2, points2, y), ref, rtol=1e-7, atol=1e-9)
    # weights: the same as repeating points
    w = np.ones(300)
    w[:100] = 2.0
    rep = np.vstack([points2, points2[:100]])
    yrep = np.vstack([y, y[:100]])
    np.testing.assert_allclose(sm.fit_least_squares(model2, points2, y, weights=w),
                               sm.fit_least_squares(model2, rep, yrep), rtol=1e-8, atol=1e-10)
    # ridge
    lam = 0.3
    A = P.T @ P / 300
    c = P.T @ y.reshape(-1) / 300
    np.testing.assert_allclose(sm.fit_least_squares(model2, points2, y, ridge=lam),
                               np.linalg.solve(A + lam * np.eye(A.shape[0]), c), rtol=1e-9)
    # ISM: the gradient of the empirical objective vanishes at the fit (finite differences)
    th = sm.fit_ism(model2, points2)
    np.testing.assert_allclose(th, -np.linalg.solve(A, ref_d.mean(axis=0)), rtol=1e-7, atol=1e-9)
    obj = lambda th_: sm.ism_terms(model2, th_, points2).mean()  # noqa: E731
    for j in range(model2.n_params):
        e = np.zeros(model2.n_params)
        e[j] = 1e-4
        assert abs(obj(th + e) - obj(th - e)) / 2e-4 < 1e-6
    # DSM and noise prediction
    x0 = cp.rng.normals(300, 2, seed=12)
    g = cp.rng.normals(300, 2, seed=13)
    alpha, sigma = 0.9, 0.5
    xt = alpha * x0 + sigma * g
    P_t = ref_rbf(xt, model2.centers, model2.width)[0].reshape(-1, model2.n_params)
    ref_dsm = np.linalg.lstsq(P_t, (-g / sigma).reshape(-1), rcond=None)[0]
    np.testing.assert_allclose(sm.fit_dsm(model2, xt, x0, alpha, sigma), ref_dsm,
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sm.fit_noise_prediction(model2, xt, g, sigma), ref_dsm, rtol=1e-6,
                               atol=1e-8)


def test_sandwich_formulas_match_reference(model2, points2):
    ref_phi, ref_d = ref_rbf(points2, model2.centers, model2.width)
    P = ref_phi.reshape(-1, model2.n_params)
    Ai = np.linalg.inv(P.T @ P / 300)
    r = np.sin(3 * points2)
    z = np.einsum("nap,na->np", ref_phi, r)
    np.testing.assert_allclose(sm.sandwich_least_squares(model2, points2, r),
                               Ai @ np.cov(z.T) @ Ai, rtol=1e-8)
    theta = cp.rng.normals(1, model2.n_params, seed=14)[0]
    z2 = np.einsum("nap,na->np", ref_phi, ref_phi @ theta) + ref_d
    np.testing.assert_allclose(sm.sandwich_ism(model2, theta, points2), Ai @ np.cov(z2.T) @ Ai,
                               rtol=1e-8)


def test_sandwich_least_squares_predicts_the_spread_of_fits():
    """Replicated least-squares fits in 1-D: their covariance is the sandwich / n."""
    model = sm.RBFScoreModel([[0.0]], 1.0, affine=True)          # 3 parameters
    mu = cp.gaussian([0.0], [[1.0]])
    n, R = 300, 800
    fits = []
    for r in range(R):
        x = mu.sample(n, seed=1000 + r)
        y = np.sin(2 * x) + 0.5 * cp.rng.normals(n, 1, seed=5000 + r)
        fits.append(sm.fit_least_squares(model, x, y))
    fits = np.array(fits)
    big = mu.sample(400_000, seed=9)
    yb = np.sin(2 * big) + 0.5 * cp.rng.normals(400_000, 1, seed=10)
    theta_inf = sm.fit_least_squares(model, big, yb)
    G = sm.sandwich_least_squares(model, big, yb - model.score(theta_inf, big))
    emp = np.cov(fits.T)
    # relative se of a variance from 800 replicates is about sqrt(2/800) = 5%
    np.testing.assert_allclose(np.diag(emp), np.diag(G) / n, rtol=0.2)


def test_fit_bad_input(model2, points2):
    with pytest.raises(ValueError, match="model"):
        sm.normal_equations("m", points2)
    with pytest.raises(ValueError, match="y"):
        sm.normal_equations(model2, points2, y=points2[:4])
    with pytest.raises(ValueError, match="weights"):
        sm.normal_equations(model2, points2, weights=-np.ones(300))
    with pytest.raises(ValueError, match="weights"):
        sm.normal_equations(model2, points2, weights=np.ones(3))
    with pytest.raises(ValueError, match="ridge"):
        sm.fit_least_squares(model2, points2, points2, ridge=-1.0)
    with pytest.raises(ValueError, match="singular"):
        sm.fit_ism(model2, points2[:2])
    with pytest.raises(ValueError, match="sigma"):
        sm.fit_dsm(model2, points2, points2, 1.0, 0.0)
    with pytest.raises(ValueError, match="noise"):
        sm.fit_noise_prediction(model2, points2, points2[:5], 1.0)
    with pytest.raises(ValueError, match="sigma"):
        sm.fit_noise_prediction(model2, points2, points2, 0.0)
    with pytest.raises(ValueError, match="residual"):
        sm.sandwich_least_squares(model2, points2, points2[:5])
    with pytest.raises(ValueError, match="theta"):
        sm.sandwich_ism(model2, np.zeros(2), points2)
    with pytest.raises(ValueError, match="at least 2"):
        sm.sandwich_ism(model2, np.zeros(model2.n_params), points2[:1])


# --------------------------------------------------------------- the exponential family
@pytest.fixture(scope="module")
def double_well():
    return sm.PolynomialExpFamily([2, 4]), np.array([1.0, -0.5])


def quad_expect(theta, powers, fn):
    f = lambda x: np.exp(sum(th * x**k for th, k in zip(theta, powers)))  # noqa: E731
    z = integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
    num = integrate.quad(lambda x: fn(x) * f(x), -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
    return num / z


def test_family_moments_match_scipy_quad(double_well):
    fam, th = double_well
    ref_mean = [quad_expect(th, [2, 4], lambda x, k=k: x**k) for k in (2, 4)]
    np.testing.assert_allclose(fam.mean(th), ref_mean, rtol=1e-10)
    ref_cov = np.array([[quad_expect(th, [2, 4], lambda x, i=i, j=j: x**i * x**j) for j in (2, 4)]
                        for i in (2, 4)]) - np.outer(ref_mean, ref_mean)
    np.testing.assert_allclose(fam.cov(th), ref_cov, rtol=1e-9)
    total = integrate.quad(lambda u: np.exp(fam.logpdf(th, u)), -np.inf, np.inf)[0]
    assert abs(total - 1) < 1e-10
    np.testing.assert_allclose(fam.expect(th, np.ones(fam.grid.size)), 1.0, rtol=1e-12)
    np.testing.assert_allclose(fam.statistics(np.array([2.0])), [[4.0, 16.0]])


def test_family_score_features():
    fam = sm.PolynomialExpFamily([1, 2, 4])
    th = np.array([0.3, 0.5, -0.2])
    x = np.linspace(-2, 2, 9)[:, None]
    u = x[:, 0]
    np.testing.assert_allclose(fam.score(th, x)[:, 0], 0.3 + 1.0 * u - 0.8 * u**3, atol=1e-13)
    np.testing.assert_allclose(fam.divergence(th, x), 1.0 - 2.4 * u**2, atol=1e-13)
    np.testing.assert_allclose(fam.jacobian(th, x)[:, 0, 0], 1.0 - 2.4 * u**2, atol=1e-13)
    np.testing.assert_allclose(fam.jacobian_features(x) @ th, fam.jacobian(th, x), atol=1e-13)
    # the score is the derivative of the log density
    h = 1e-5
    fd = (fam.logpdf(th, u + h) - fam.logpdf(th, u - h)) / (2 * h)
    np.testing.assert_allclose(fam.score(th, x)[:, 0], fd, atol=1e-8)


def test_family_sampling_matches_the_density(double_well):
    fam, th = double_well
    x = fam.sample(th, 20_000, seed=3)[:, 0]
    def cdf(v):
        return np.array([integrate.quad(lambda u: np.exp(fam.logpdf(th, u)), -np.inf, w)[0]
                         for w in np.atleast_1d(v)])

    grid = np.sort(x)[::200]
    D = np.max(np.abs(cdf(grid) - np.searchsorted(np.sort(x), grid, side="right") / x.size))
    assert D < stats.kstwo.isf(1e-4, x.size)
    assert fam.sample(th, 5, seed=3).shape == (5, 1)


def test_family_ism_is_consistent_and_estimator_matches_fit_ism(double_well):
    fam, th = double_well
    A, b = fam.ism_parameters(th)
    np.testing.assert_allclose(-np.linalg.solve(A, b), th, atol=1e-10)
    x = fam.sample(th, 3000, seed=4)
    est = fam.sm_estimates(x[:, 0].reshape(3, 1000))
    for r in range(3):
        np.testing.assert_allclose(est[r], sm.fit_ism(fam, x[1000 * r:1000 * (r + 1)]), rtol=1e-10)


def test_family_sandwich(double_well):
    fam, th = double_well
    x = fam.sample(th, 400_000, seed=5)
    plug_in = sm.sandwich_ism(fam, th, x)
    np.testing.assert_allclose(fam.sandwich(th), plug_in, rtol=0.05)
    # explicit formula by SciPy quadrature
    m2, m4, m6 = (quad_expect(th, [2, 4], lambda u, k=k: u**k) for k in (2, 4, 6))
    A = np.array([[4 * m2, 8 * m4], [8 * m4, 16 * m6]])

    def z(u):
        phi = np.array([2 * u, 4 * u**3])
        return phi * (phi @ th) + np.array([2.0, 12 * u**2])

    meat = np.array([[quad_expect(th, [2, 4], lambda u, i=i, j=j: z(u)[i] * z(u)[j])
                      for j in range(2)] for i in range(2)])
    Ai = np.linalg.inv(A)
    np.testing.assert_allclose(fam.sandwich(th), Ai @ meat @ Ai, rtol=1e-8)


def test_gaussian_family_score_matching_is_efficient():
    """For the Gaussian family the score-matching estimator is the MLE: Gamma_SM = I^{-1}."""
    fam = sm.PolynomialExpFamily([1, 2])
    th = np.array([0.4, -0.8])
    np.testing.assert_allclose(fam.sandwich(th), np.linalg.inv(fam.cov(th)), rtol=1e-9)


def test_family_bad_input(double_well):
    fam, th = double_well
    with pytest.raises(ValueError, match="powers"):
        sm.PolynomialExpFamily([])
    with pytest.raises(ValueError, match="powers"):
        sm.PolynomialExpFamily([2, 2])
    with pytest.raises(ValueError, match="powers"):
        sm.PolynomialExpFamily([1, 3])
    with pytest.raises(ValueError, match="powers"):
        sm.PolynomialExpFamily([0, 2])
    with pytest.raises(ValueError, match="powers"):
        sm.PolynomialExpFamily(3)
    with pytest.raises(ValueError, match="support"):
        sm.PolynomialExpFamily([2], support=(1.0, -1.0))
    with pytest.raises(ValueError, match="support"):
        sm.PolynomialExpFamily([2], support=1.0)
    with pytest.raises(ValueError, match="n_grid"):
        sm.PolynomialExpFamily([2], n_grid=10)
    with pytest.raises(ValueError, match="theta"):
        fam.mean(np.array([1.0, 0.5]))
    with pytest.raises(ValueError, match="support"):
        sm.PolynomialExpFamily([2], support=(-2.0, 2.0)).mean(np.array([-0.1]))
    with pytest.raises(ValueError, match="theta"):
        fam.sandwich(np.array([1.0]))
    with pytest.raises(ValueError, match="n"):
        fam.sample(th, 0, seed=1)
    with pytest.raises(ValueError, match="samples"):
        fam.sm_estimates(np.zeros(5))
    with pytest.raises(ValueError, match="values"):
        fam.expect(th, np.ones(7))
    with pytest.raises(ValueError, match="x"):
        fam.statistics(np.zeros((2, 2)))


# ------------------------------------------------------------------ Monte Carlo tools
def test_hutchinson_divergence():
    J = cp.rng.normals(6, 3, seed=20).reshape(2, 3, 3) + np.eye(3)
    est, se = sm.hutchinson_divergence(J, n_probes=20_000, seed=21)
    tr = np.trace(J, axis1=1, axis2=2)
    assert np.all(np.abs(est - tr) < 5 * se)
    S = 0.5 * (J + np.swapaxes(J, 1, 2))
    np.testing.assert_allclose(se, np.sqrt(2 * np.sum(S**2, axis=(1, 2)) / 20_000), rtol=0.05)
    # Rademacher probes are exact on diagonal matrices
    D = np.diag([1.0, -2.0, 5.0])[None]
    est_r, se_r = sm.hutchinson_divergence(D, n_probes=10, seed=22, probes="rademacher")
    assert np.allclose(est_r, 4.0) and np.allclose(se_r, 0.0)
    # the probes are the documented rng streams
    v = cp.rng.normals(2, 3, seed=21, step=0)
    est2, _ = sm.hutchinson_divergence(J, n_probes=2, seed=21)
    v1 = cp.rng.normals(2, 3, seed=21, step=1)
    ref = 0.5 * (np.einsum("na,nab,nb->n", v, J, v) + np.einsum("na,nab,nb->n", v1, J, v1))
    np.testing.assert_allclose(est2, ref, atol=1e-13)


def test_sliced_divergence_matches_laplacian():
    q = cp.targets.ring().at(0.3)
    x = q.sample(50, seed=23)
    lap = np.trace(q.hessian(x), axis1=1, axis2=2)
    est, se = sm.sliced_divergence(q.score, x, n_probes=4000, seed=24, h=1e-4)
    assert np.all(np.abs(est - lap) < 5 * se + 1e-5)
    # a linear field: every probe gives v^T M v exactly
    M = np.array([[1.0, 2.0], [0.0, -3.0]])
    est_lin, _ = sm.sliced_divergence(lambda y: y @ M.T, np.zeros((1, 2)), n_probes=3, seed=25)
    v = np.stack([cp.rng.normals(1, 2, seed=25, step=j)[0] for j in range(3)])
    np.testing.assert_allclose(est_lin[0], np.mean(np.einsum("ja,ab,jb->j", v, M, v)), atol=1e-9)


def test_fd_jacobian_is_second_order():
    q = cp.targets.ring().at(0.5)
    x = q.sample(20, seed=26)
    H = q.hessian(x)
    errs = [np.abs(sm.fd_jacobian(q.score, x, h) - H).max() for h in (0.02, 0.01, 0.005)]
    p = np.polyfit(np.log([0.02, 0.01, 0.005]), np.log(errs), 1)[0]
    assert abs(p - 2) < 0.1










def test_family_estimates_are_the_same_in_blocks():
    fam = sm.PolynomialExpFamily([2, 4])
    th = np.array([1.0, -0.5])
    x = fam.sample(th, 3 * 2**19, seed=5)[:, 0].reshape(3, 2**19)     # blocks of 2 rows
    est = fam.sm_estimates(x)
    for i in range(3):
        np.testing.assert_allclose(est[i], fam.sm_estimates(x[i:i + 1])[0], rtol=1e-12)


def test_monte_carlo_tools_bad_input():
    with pytest.raises(ValueError, match="jac"):
        sm.hutchinson_divergence(np.zeros((2, 3)), 10, 0)
    with pytest.raises(ValueError, match="jac"):
        sm.hutchinson_divergence(np.zeros((2, 3, 2)), 10, 0)
    with pytest.raises(ValueError, match="n_probes"):
        sm.hutchinson_divergence(np.zeros((2, 3, 3)), 1, 0)
    with pytest.raises(ValueError, match="probes"):
        sm.hutchinson_divergence(np.zeros((2, 3, 3)), 10, 0, probes="uniform")
    with pytest.raises(ValueError, match="seed"):
        sm.hutchinson_divergence(np.zeros((2, 3, 3)), 10, -2)
    with pytest.raises(ValueError, match="field"):
        sm.sliced_divergence(3.0, np.zeros((2, 2)), 10, 0)
    with pytest.raises(ValueError, match="field"):
        sm.sliced_divergence(lambda y: y[:, :1], np.zeros((2, 2)), 10, 0)
    with pytest.raises(ValueError, match="h"):
        sm.sliced_divergence(lambda y: y, np.zeros((2, 2)), 10, 0, h=0.0)
    with pytest.raises(ValueError, match="x"):
        sm.sliced_divergence(lambda y: y, np.zeros(2), 10, 0)
    with pytest.raises(ValueError, match="field"):
        sm.fd_jacobian("f", np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="field"):
        sm.fd_jacobian(lambda y: y[:, :1], np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError, match="h"):
        sm.fd_jacobian(lambda y: y, np.zeros((2, 2)), -0.1)


# --------------------------------------------------------------------------- the widget
def test_tweedie_explorer_builds_and_redraws():
    box = cp.widgets.tweedie_denoiser_explorer(cp.targets.ring(), sigma0=0.4)
    (slider,) = box.sliders.values()
    assert slider.value == 0.4 and len(box.output.outputs) == 1
    slider.value = 1.0
    assert len(box.output.outputs) == 1 and len(box.redraw_times) == 2


def test_tweedie_figure_arrows_end_at_the_posterior_mean():
    ring = cp.targets.ring()
    ax = cp.widgets.tweedie_denoiser_figure(ring, 0.5, n_arrows=5)
    quiv = [c for c in ax.collections if isinstance(c, matplotlib.quiver.Quiver)][0]
    start = quiv.get_offsets()
    end = start + np.column_stack([quiv.U, quiv.V])
    np.testing.assert_allclose(end, ring.posterior_mean(start, 1.0, 0.5), atol=1e-10)


def test_tweedie_widget_bad_input():
    with pytest.raises(ValueError, match="mixture"):
        cp.widgets.tweedie_denoiser_figure(cp.targets.bimodal(), 0.5)
    with pytest.raises(ValueError, match="sigma"):
        cp.widgets.tweedie_denoiser_figure(cp.targets.ring(), 0.0)
    with pytest.raises(ValueError, match="n_arrows"):
        cp.widgets.tweedie_denoiser_figure(cp.targets.ring(), 0.5, n_arrows=1)
    with pytest.raises(ValueError, match="sigma0"):
        cp.widgets.tweedie_denoiser_explorer(cp.targets.ring(), sigma0=5.0)
    with pytest.raises(ValueError, match="mixture"):
        cp.widgets.tweedie_denoiser_explorer(cp.targets.bimodal())
