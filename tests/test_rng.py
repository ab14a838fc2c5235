"""The counter-based generator: bit-for-bit against NumPy's Philox, and thread independence."""
import numpy as np
import pytest
from scipy import stats

import companion as cp
from companion import rng


@pytest.mark.parametrize("counter,seed", [((0, 0, 0, 0), 0), ((5, 0, 0, 0), 7),
                                          ((3, 5, 11, 1), 2**40 + 3), ((1, 2**63, 9, 0), 2**64 - 1)])
def test_raw_stream_matches_numpy_philox(counter, seed):
    as_int = counter[0] | (counter[1] << 64) | (counter[2] << 128) | (counter[3] << 192)
    # NumPy increments its counter before producing a block: start one below.
    ref = np.random.Philox(key=seed, counter=as_int - 1 if as_int else 2**256 - 1).random_raw(12)
    np.testing.assert_array_equal(rng.philox_block(counter, seed, nblocks=3), ref)


def test_normals_are_standard_normal():
    z = rng.normals(100_000, 3, seed=1).ravel()
    assert stats.kstest(z, "norm").pvalue > 1e-4
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)


def test_normals_independent_across_streams_and_steps():
    a = rng.normals(20_000, 2, seed=3, step=0)
    b = rng.normals(20_000, 2, seed=3, step=1)
    r = np.corrcoef(a[:, 0], b[:, 0])[0, 1]
    assert abs(r) < 5 / np.sqrt(20_000)
    assert abs(np.corrcoef(a[:, 0], a[:, 1])[0, 1]) < 5 / np.sqrt(20_000)


def test_uniforms_are_uniform():
    u = rng.uniforms(100_000, seed=2)
    assert np.all((u > 0) & (u < 1))
    assert stats.kstest(u, "uniform").pvalue > 1e-4


@pytest.mark.parametrize("make", [
    lambda: cp.targets.ring().sample(5000, seed=11),
    lambda: cp.ou.euler_maruyama(np.ones((3000, 2)), 1.0, 20, seed=4),
    lambda: cp.ou.ito_integral(1.0, 50, 3000, seed=5),
    lambda: rng.normals(3000, 5, seed=6),
    lambda: cp.targets.ring().posterior(np.ones((500, 2)), 0.7, 0.5)[1],
])
def test_same_bits_with_one_or_two_threads(make, with_threads):
    one = with_threads(1, make)
    two = with_threads(2, make)
    assert one.tobytes() == two.tobytes()


def test_seed_changes_stream():
    assert not np.array_equal(rng.normals(4, 2, seed=1), rng.normals(4, 2, seed=2))


@pytest.mark.parametrize("kwargs,name", [
    (dict(n=0, d=2, seed=1), "n"), (dict(n=2, d=0, seed=1), "d"),
    (dict(n=2, d=2, seed=-1), "seed"), (dict(n=2, d=2, seed=1.5), "seed"),
    (dict(n=2, d=2, seed=1, step=-1), "step"),
])
def test_normals_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        rng.normals(**kwargs)


def test_philox_block_bad_input():
    with pytest.raises(ValueError, match="counter"):
        rng.philox_block((1, 2, 3), seed=0)
    with pytest.raises(ValueError, match="nblocks"):
        rng.philox_block((1, 2, 3, 4), seed=0, nblocks=0)
    with pytest.raises(ValueError, match="seed"):
        rng.uniforms(3, seed=2**64)


def test_native_and_portable_128_bit_products_agree():
    from numba import njit
    from companion.rng import _mulhilo, _mulhilo_portable

    @njit
    def both(a, b):
        return _mulhilo(a, b), _mulhilo_portable(a, b)

    vals = np.random.Generator(np.random.Philox(5)).integers(0, 2**64, 200, dtype=np.uint64, endpoint=False)
    for a, b in zip(vals[::2], vals[1::2]):
        native, portable = both(a, b)
        assert native == portable
        assert (int(native[0]) << 64) | int(native[1]) == int(a) * int(b)


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_normals_are_the_blocks_box_muller_pairs(d):
    # entries 4b..4b+3 of a row come from block b, whatever the row length
    full = rng.normals(6, 8, seed=9, step=3)
    np.testing.assert_array_equal(rng.normals(6, d, seed=9, step=3), full[:, :d])


def test_sincos_matches_the_c_library():
    from numba import njit
    from companion.rng import _sincos_2pi

    @njit
    def many(u):
        c = np.empty(u.size)
        s = np.empty(u.size)
        for i in range(u.size):
            c[i], s[i] = _sincos_2pi(u[i])
        return c, s

    u = np.concatenate([np.random.Generator(np.random.Philox(3)).random(200_000),
                        [1e-300, 0.125, 0.25, 0.375, 0.5, 0.75, 1 - 2**-53]])
    c, s = many(u)
    # reference in extended precision: forming 2 pi u in doubles alone costs up to 4e-16
    two_pi = 2 * np.longdouble("3.14159265358979323846264338327950288")
    ul = u.astype(np.longdouble)
    assert np.max(np.abs(c - np.cos(two_pi * ul))) < 2.5e-16
    assert np.max(np.abs(s - np.sin(two_pi * ul))) < 2.5e-16


def test_box_muller_matches_its_formula():
    # the kernel's normals are sqrt(-2 log u1) (cos, sin)(2 pi u2) of the raw stream's uniforms
    raw = rng.philox_block((0, 1, 4, 0), seed=6)
    u = ((raw >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53
    r1, r2 = np.sqrt(-2 * np.log(u[0])), np.sqrt(-2 * np.log(u[2]))
    expected = [r1 * np.cos(2 * np.pi * u[1]), r1 * np.sin(2 * np.pi * u[1]),
                r2 * np.cos(2 * np.pi * u[3]), r2 * np.sin(2 * np.pi * u[3])]
    got = rng.normals(5, 4, seed=6, step=1)[4]
    np.testing.assert_allclose(got, expected, rtol=0, atol=4e-15)


def test_branch_free_log_matches_the_c_library():
    # the Box-Muller radius uses a vectorisable log (fdlibm's algorithm): within one ulp
    from numba import njit
    from companion.rng import _log_unit

    @njit
    def vec(u):
        out = np.empty(u.size)
        for i in range(u.size):
            out[i] = _log_unit(u[i])
        return out

    gen = np.random.Generator(np.random.Philox(3))
    u = np.concatenate([gen.uniform(0, 1, 200_000), 2.0 ** -gen.uniform(0, 53, 100_000),
                        1 - 2.0 ** -gen.uniform(1, 53, 100_000),
                        [2**-53 * 0.5, 0.5, 2**-0.5, 0.7071067811865476, 1 - 2**-53]])
    ref = np.log(u)
    err = np.abs(vec(u) - ref) / np.spacing(np.abs(ref))
    assert err.max() <= 1.0


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 7])
def test_lane_layout_draws_the_same_normals(d):
    # the low-dimensional sampler kernel draws a block's noise one particle per column
    from numba import njit
    from companion.rng import _fill_normals_lanes

    @njit
    def lanes(seed, step, i0, G, d):
        Z = np.empty((d, G))
        _fill_normals_lanes(seed, step, i0, np.empty((4 * ((d + 3) // 4), G)), Z)
        return Z

    Z = lanes(np.uint64(9), 3, 32, 16, d)
    np.testing.assert_array_equal(Z.T, rng.normals(48, d, seed=9, step=3)[32:])
