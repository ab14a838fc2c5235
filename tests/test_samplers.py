"""Reverse-time samplers against independent references: the exact Gaussian output law, the
NumPy implementation on the same noise, and the thread count."""
import numpy as np
import pytest

import companion as cp
from companion import bench, samplers

T = 3.0


def gauss2():
    return cp.gaussian([1.0, -0.5], [[0.5, 0.2], [0.2, 0.8]])


@pytest.mark.parametrize("method", samplers.METHODS)
def test_simulation_matches_exact_gaussian_output_law(method):
    q = gauss2()
    grid = cp.schedules.uniform(T, 20, delta=0.05)
    n = 100_000
    y = samplers.sample(q, T, grid, n, seed=3, method=method)
    mean, cov = samplers.gaussian_output_law(q, T, grid, method=method)
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(y.mean(0) - mean) < 5 * se_mean)
    emp = np.cov(y.T)
    se_cov = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)
    assert np.all(np.abs(emp - cov) < 5 * se_cov)


def test_heun_is_the_deterministic_affine_map_of_the_exact_law():
    # for Gaussian data the ODE sampler is y -> A y + c; from y = 0 it returns c, the mean
    # of the output law when the start is N(0, I)
    q = gauss2()
    grid = cp.schedules.uniform(T, 15, delta=0.05)
    y = samplers.sample(q, T, grid, 1, seed=0, method="heun", start=np.zeros((1, 2)))
    mean, _ = samplers.gaussian_output_law(q, T, grid, method="heun")
    np.testing.assert_allclose(y[0], mean, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 9])
@pytest.mark.parametrize("method", samplers.METHODS)
def test_kernel_matches_numpy_path_on_the_same_noise(d, method):
    mu = cp.targets.ring(d=d, k=5) if d >= 2 else cp.targets.bimodal()
    grid = cp.schedules.uniform(T, 12, delta=0.05)
    n = 11                                   # not a multiple of the group size 4
    fast = samplers.sample(mu, T, grid, n, seed=5, method=method, score_error=0.1)
    slow = samplers.sample(mu, T, grid, n, seed=5, method=method, score_error=0.1,
                           score=lambda tau, x: mu.at(tau).score(x))
    # same noise, same algorithm; only the order of floating-point sums differs
    np.testing.assert_allclose(fast, slow, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("d", [2, 5, 9])
@pytest.mark.parametrize("method", ["em", "pc", "heun"])
def test_same_bits_with_one_or_two_threads(d, method, with_threads):
    mu = cp.targets.ring(d=d, k=8)
    grid = cp.schedules.uniform(T, 10, delta=0.05)
    run = lambda: samplers.sample(mu, T, grid, 3001, seed=2, method=method)
    assert with_threads(1, run).tobytes() == with_threads(2, run).tobytes()


@pytest.mark.parametrize("d", [1, 2, 4, 9])
def test_a_particle_does_not_depend_on_its_group(d):
    # the kernels advance blocks of particles in SIMD lanes (16 below d = 8, 32 from it on):
    # a particle's bits must not depend on its lane or its companions
    mu = cp.targets.ring(d=d, k=4) if d >= 2 else cp.targets.bimodal()
    grid = cp.schedules.uniform(T, 8, delta=0.05)
    y0 = cp.rng.normals(40, d, seed=1)
    together = samplers.sample(mu, T, grid, 40, seed=4, start=y0, method="heun")
    for i in (5, 21, 39):
        alone = samplers.sample(mu, T, grid, 1, seed=4, start=y0[i:i + 1], method="heun")
        assert together[i].tobytes() == alone[0].tobytes()


def test_path_and_end_agree():
    mu = cp.targets.bimodal()
    grid = cp.schedules.uniform(T, 10, delta=0.05)
    path = samplers.sample(mu, T, grid, 7, seed=1, return_path=True)
    end = samplers.sample(mu, T, grid, 7, seed=1)
    assert path.shape == (7, 11, 1)
    np.testing.assert_array_equal(path[:, -1], end)


def test_exact_start_and_score_error():
    q = gauss2()
    grid = cp.schedules.uniform(T, 10, delta=0.05)
    y0 = samplers.sample(q, T, grid[:1].tolist() + [1e-9], 5, seed=1, start="exact")
    assert y0.shape == (5, 2)
    m0, _ = samplers.gaussian_output_law(q, T, grid, start="exact")
    m1, _ = samplers.gaussian_output_law(q, T, grid, start="exact", score_error=0.5)
    assert m1[0] > m0[0] + 0.1 and abs(m1[1] - m0[1]) < abs(m1[0] - m0[0])


def test_bad_input():
    mu = cp.targets.bimodal()
    grid = cp.schedules.uniform(T, 5, delta=0.1)
    with pytest.raises(ValueError, match="method"):
        samplers.sample(mu, T, grid, 3, seed=1, method="rk4")
    with pytest.raises(ValueError, match="grid"):
        samplers.sample(mu, T, [0.0, 2.0, 1.0], 3, seed=1)
    with pytest.raises(ValueError, match="grid"):
        samplers.sample(mu, T, [0.0, 4.0], 3, seed=1)
    with pytest.raises(ValueError, match="start"):
        samplers.sample(mu, T, grid, 3, seed=1, start=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="start"):
        samplers.sample(mu, T, grid, 3, seed=1, start="uniform")
    with pytest.raises(ValueError, match="score"):
        samplers.sample(mu, T, grid, 3, seed=1, score=3.0)
    with pytest.raises(ValueError, match="score"):
        samplers.sample(mu, T, grid, 3, seed=1, score=lambda tau, x: np.zeros((1, 1)))
    with pytest.raises(ValueError, match="delta"):
        samplers.sample(cp.targets.rademacher(1), T, cp.schedules.uniform(T, 5), 3, seed=1,
                        method="heun")
    with pytest.raises(ValueError, match="target"):
        samplers.sample("mu", T, grid, 3, seed=1)
    with pytest.raises(ValueError, match="score_error"):
        samplers.sample(mu, T, grid, 3, seed=1, score_error=-1.0)
    with pytest.raises(ValueError, match="target"):
        samplers.gaussian_output_law(cp.targets.ring(), T, grid)
    with pytest.raises(ValueError, match="start"):
        samplers.gaussian_output_law(gauss2(), T, grid, start=np.zeros((3, 2)))


def test_bbdd23_schedule():
    for T_, delta, kappa in [(3.0, 0.01, 0.2), (1.0, 0.1, 0.05), (6.5, 1e-3, 0.5)]:
        g = cp.schedules.bbdd23(T_, delta, kappa)
        assert g[0] == 0.0 and abs(g[-1] - (T_ - delta)) < 1e-12
        steps = np.diff(g)
        assert np.all(steps > 0)
        assert np.all(steps <= kappa * np.minimum(1.0, T_ - g[1:]) * (1 + 1e-12))
    with pytest.raises(ValueError, match="T"):
        cp.schedules.bbdd23(0.5, 0.01, 0.1)
    with pytest.raises(ValueError, match="kappa"):
        cp.schedules.bbdd23(3.0, 0.01, 0.0)
    with pytest.raises(ValueError, match="delta"):
        cp.schedules.bbdd23(3.0, 0.0, 0.1)


def test_exp_helper_matches_numpy():
    from numba import njit
    from companion.samplers import _exp_nonpos_vec

    @njit(fastmath=True)
    def vec(x):
        out = np.empty(x.size)
        for i in range(x.size):
            out[i] = _exp_nonpos_vec(x[i])
        return out

    x = -np.concatenate([np.random.Generator(np.random.Philox(1)).uniform(0, 700, 100_000),
                         np.random.Generator(np.random.Philox(2)).uniform(0, 1, 100_000), [0.0]])
    ref = np.exp(x)
    np.testing.assert_allclose(vec(x), ref, rtol=2e-13)
    # below -708 the weight is clamped at e^-708, relative 3e-308: immaterial, and finite
    assert 0.0 < vec(np.array([-800.0]))[0] < 1e-307


def test_benchmark_references_agree():
    q = gauss2()
    grid = cp.schedules.uniform(bench.T, 10, delta=bench.DELTA)
    y0 = cp.rng.normals(40_000, 2, seed=1)
    a = bench.numpy_matmul(q, grid, y0, 3)
    b = bench.numpy_broadcast(q, grid, y0, 3)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)        # same noise, same algorithm
    mean, cov = samplers.gaussian_output_law(q, bench.T, grid, start="gaussian")
    # y0 ~ N(0, I): the references run the exponential integrator, whose exact law is known
    assert np.all(np.abs(a.mean(0) - mean) < 5 * np.sqrt(np.diag(cov) / a.shape[0]))


def test_benchmark_runs_and_reports():
    res = bench.run(cases=[(2, 2, 200)], n_steps=3, repeat=1, use_jax=False)
    r = res[0]
    for v in (r["speedup"]["numpy-broadcast"], r["speedup"]["numpy-matmul"], r["noise_share"],
              r["particle_steps_per_s"]["companion"], r["gemm_fraction"],
              r["noise_per_core_per_s"], r["pcg64_per_core_per_s"]):
        assert np.isfinite(v) and v > 0
    assert "| 2 | 2 | 200 | 3 |" in bench.format_table(res)


def _scalar_output_law(m0, c0, T, grid, method, corrector_step=0.1):
    """Mean and variance of a 1-D sampler's output, written step by step for N(m0, c0) data with
    the exact start, independently of gaussian_output_law."""
    mean = np.exp(-T) * m0
    var = np.exp(-2 * T) * c0 + 1 - np.exp(-2 * T)
    taus = T - np.asarray(grid)

    def score_coeffs(tau):                    # s(y) = -y / v + a m0 / v
        a = np.exp(-tau)
        v = a * a * c0 + 1 - a * a
        return 1 / v, a * m0 / v

    for k in range(len(grid) - 1):
        h = grid[k + 1] - grid[k]
        p, r = score_coeffs(taus[k])
        if method == "em":
            slope, shift, noise = 1 + h - 2 * h * p, 2 * h * r, 2 * h
        elif method in ("ei", "pc"):
            slope, shift, noise = np.exp(h) - 2 * (np.exp(h) - 1) * p, 2 * (np.exp(h) - 1) * r, np.exp(2 * h) - 1
        else:                                 # Heun: y1 = y + h v0(y), v = y + s(y)
            p1, r1 = score_coeffs(taus[k + 1])
            v0 = (1 - p, r)
            pred = (1 + h * v0[0], h * v0[1])
            v1 = ((1 - p1) * pred[0], (1 - p1) * pred[1] + r1)
            slope, shift, noise = 1 + 0.5 * h * (v0[0] + v1[0]), 0.5 * h * (v0[1] + v1[1]), 0.0
        mean, var = slope * mean + shift, slope * slope * var + noise
        if method == "pc":
            p1, r1 = score_coeffs(taus[k + 1])
            e = corrector_step * (1 - np.exp(-2 * taus[k + 1]))
            mean, var = (1 - e * p1) * mean + e * r1, (1 - e * p1) ** 2 * var + 2 * e
    return mean, var


@pytest.mark.parametrize("method", samplers.METHODS)
def test_gaussian_output_law_against_a_scalar_recursion(method):
    q = cp.gaussian([0.8], [[1.29]])
    for grid in (cp.schedules.uniform(T, 7, delta=0.05), cp.schedules.bbdd23(T, 0.02, 0.3)):
        m, c = samplers.gaussian_output_law(q, T, grid, method=method, start="exact")
        mr, vr = _scalar_output_law(0.8, 1.29, T, grid, method)
        np.testing.assert_allclose([m[0], c[0, 0]], [mr, vr], rtol=1e-12)


def test_kernel_sees_components_of_different_sizes():
    """The fused kernel's responsibilities carry each component's determinant: against the NumPy
    path with the oracle score, for a mixture whose components have different determinants."""
    mu = cp.targets.lopsided(2)
    grid = cp.schedules.uniform(T, 8, delta=0.05)
    for method in samplers.METHODS:
        fast = samplers.sample(mu, T, grid, 9, seed=5, method=method)
        slow = samplers.sample(mu, T, grid, 9, seed=5, method=method,
                               score=lambda tau, x: mu.at(tau).score(x))
        np.testing.assert_allclose(fast, slow, rtol=1e-11, atol=1e-11)


def test_one_ei_step_is_the_exact_frozen_score_step():
    q = cp.targets.lopsided()
    y0 = q.at(T).sample(50, seed=6)
    h = 0.4
    y1 = samplers.sample(q, T, [0.0, h], 50, seed=7, method="ei", start=y0)
    s = q.at(T).score(y0)
    ref = np.exp(h) * y0 + 2 * (np.exp(h) - 1) * s + np.sqrt(np.exp(2 * h) - 1) * cp.rng.normals(50, 1, 7, step=1)
    np.testing.assert_allclose(y1, ref, rtol=1e-12, atol=1e-12)
    y_em = samplers.sample(q, T, [0.0, h], 50, seed=7, method="em", start=y0)
    ref_em = y0 + h * (y0 + 2 * s) + np.sqrt(2 * h) * cp.rng.normals(50, 1, 7, step=1)
    np.testing.assert_allclose(y_em, ref_em, rtol=1e-12, atol=1e-12)
def test_benchmark_flop_count():
    # K (d + 2 d^2 + 2 d + 2 d) + 5 d, counted term by term for K = 8, d = 64
    K, d = 8, 64
    assert bench.flops_per_particle_step(K, d) == K * (d + 2 * d * d + 2 * d + 2 * d) + 5 * d


def test_benchmark_times_every_chapters_explorer():
    # the benchmark's explorer table must cover every chapter that has an explorer
    import pathlib
    import re
    book = pathlib.Path(__file__).resolve().parents[1] / "book"
    chapters = {p.name[:2] for p in book.glob("[0-9][0-9]_*.md")
                if re.search(r"cp\.widgets\.\w*explorer\(", p.read_text())}
    assert chapters, "no chapter with an explorer found"
    assert chapters <= {name[:2] for name in bench._explorers()}
