"""Counter-based random numbers shared by every kernel.

Every random draw in ``companion`` comes from Philox4x64-10 (Salmon et al., 2011), the
generator that NumPy ships as :class:`numpy.random.Philox`. A Philox block is a pure function
of a 256-bit counter and a 128-bit key, so a kernel can compute the numbers of particle ``i``
at step ``k`` directly, without a shared state: the result is the same whichever thread
handles the particle and however many threads there are.

Layout of the counter used by every kernel::

    counter = (block, step, stream, lane)      key = (seed, 0)

``stream`` is the particle index, ``step`` the time step, ``block`` numbers the successive
blocks of four 64-bit words one particle needs in one step, and ``lane`` separates uses
(``LANE_NORMAL`` for Gaussian draws, ``LANE_UNIFORM`` for uniforms such as component
choices). Because NumPy's bit generator runs the same function, the raw stream is tested
bit for bit against :class:`numpy.random.Philox` (NumPy increments its counter *before*
each block, so its state must start one below ours).
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from ._validate import check_int

__all__ = ["philox_block", "normals", "uniforms", "LANE_NORMAL", "LANE_UNIFORM"]

LANE_NORMAL = 0
LANE_UNIFORM = 1

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_TWO_M53 = 2.0 ** -53
_TWO_PI = 2.0 * np.pi


@intrinsic
def _mulhilo_native(typingctx, a, b):
    """(hi, lo) words of the 128-bit product of two uint64, as one native multiplication."""
    if a != types.uint64 or b != types.uint64:
        return None
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        prod = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        lo = builder.trunc(prod, ir.IntType(64))
        hi = builder.trunc(builder.lshr(prod, ir.Constant(i128, 64)), ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, [hi, lo])

    return sig, codegen


@intrinsic
def _float_bits_as_int(typingctx, x):
    """The int64 holding the IEEE-754 bit pattern of the float64 ``x``."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _int_bits_as_float(typingctx, bits):
    """The float64 whose IEEE-754 bit pattern is the int64 ``bits``."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _fdiv(typingctx, a, b):
    """a / b as the bare IEEE-754 division: no zero-divisor test (which would stop a loop
    from vectorising); only used where b > 0."""
    if a != types.float64 or b != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.fdiv(args[0], args[1])

    return types.float64(types.float64, types.float64), codegen


_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_TWO52 = 4503599627370496.0
_EXP_BITS_2_52 = 0x4330000000000000


@njit(cache=True, inline="always")
def _log_unit(u):
    """log(u) for 0 < u < 1 (normal numbers), within one ulp: the algorithm of fdlibm's log
    (u = 2^k (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2), log(1 + f) = f - s (f - R(s^2)) with
    s = f / (2 + f)), written without branches or integer-float conversions so that a loop
    of them vectorises."""
    bits = _float_bits_as_int(u)
    hx = (bits >> 32) & 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000               # 1 when the mantissa is >= sqrt(2)
    ebits = (bits >> 52) + (i >> 20)            # biased exponent, adjusted
    k = (_int_bits_as_float(ebits | _EXP_BITS_2_52) - _TWO52) - 1023.0
    x = _int_bits_as_float((bits & 0x000FFFFFFFFFFFFF) | ((i ^ 0x3FF00000) << 32))
    f = x - 1.0
    s = _fdiv(f, 2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    R = t2 + t1
    hfsq = 0.5 * f * f
    big = k * _LN2_HI - ((hfsq - (s * (hfsq + R) + k * _LN2_LO)) - f)
    small = k * _LN2_HI - ((s * (f - R) - k * _LN2_LO) - f)
    return big if ((hx - 0x6147A) | (0x6B851 - hx)) > 0 else small


@njit(cache=True, inline="always")
def _mulhilo(a, b):
    return _mulhilo_native(a, b)


@njit(cache=True, inline="always")
def _mulhilo_portable(a, b):
    # The same product from four 32 x 32 -> 64-bit products: the reference for the intrinsic.
    a_lo = a & _MASK32
    a_hi = a >> _S32
    b_lo = b & _MASK32
    b_hi = b >> _S32
    ll = a_lo * b_lo
    hl = a_hi * b_lo
    lh = a_lo * b_hi
    hh = a_hi * b_hi
    cross = (ll >> _S32) + (hl & _MASK32) + lh
    hi = hh + (hl >> _S32) + (cross >> _S32)
    lo = (cross << _S32) | (ll & _MASK32)
    return hi, lo


@njit(cache=True, inline="always")
def _philox(c0, c1, c2, c3, k0, k1):
    for r in range(10):
        if r > 0:
            k0 = k0 + _W0
            k1 = k1 + _W1
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def _u01(x):
    # 53 random bits, shifted by half a unit: strictly inside (0, 1), so log() is finite.
    return ((x >> _S11) + 0.5) * _TWO_M53


@njit(cache=True, inline="always")
def _sincos_2pi(u):
    """(cos 2 pi u, sin 2 pi u) for 0 < u < 1, to within two ulps of the C library.

    The reduction is exact: v = u - q/4 with q = round(4u) is computed without rounding, so
    phi = 2 pi v lies in [-pi/4, pi/4], where Taylor polynomials of degrees 16 and 17 are
    accurate to below 1e-17; the quadrant q then rotates the pair.
    """
    q = np.floor(4.0 * u + 0.5)
    phi = _TWO_PI * (u - 0.25 * q)
    z = phi * phi
    s = phi * (1.0 + z * (-0.16666666666666666 + z * (0.008333333333333333 + z * (-0.0001984126984126984 + z * (2.7557319223985893e-06 + z * (-2.505210838544172e-08
                 + z * (1.6059043836821613e-10 + z * (-7.647163731819816e-13 + z * 2.8114572543455206e-15))))))))
    c = 1.0 + z * (-0.5 + z * (0.041666666666666664 + z * (-0.001388888888888889 + z * (2.48015873015873e-05 + z * (-2.755731922398589e-07 + z * (2.08767569878681e-09
              + z * (-1.1470745597729725e-11 + z * 4.779477332387385e-14)))))))
    # the quadrant q (0..4, where 4 is 0) rotates the pair; selects rather than branches, so
    # that a loop over pairs vectorises
    swap = (q == 1.0) | (q == 3.0)
    x = s if swap else c
    y = c if swap else s
    cos = -x if ((q == 1.0) | (q == 2.0)) else x
    sin = -y if ((q == 2.0) | (q == 3.0)) else y
    return cos, sin


@njit(cache=True, inline="always")
def _uniform(seed, step, stream):
    """One U(0, 1) draw for (stream, step), from the uniform lane."""
    w0, w1, w2, w3 = _philox(np.uint64(0), np.uint64(step), np.uint64(stream),
                             np.uint64(LANE_UNIFORM), np.uint64(seed), np.uint64(0))
    return _u01(w0)


@njit(cache=True, inline="always")
def _box_muller(u1, u2):
    r = np.sqrt(-2.0 * _log_unit(u1))
    c, s = _sincos_2pi(u2)
    return r * c, r * s


@njit(cache=True, inline="always")
def _fill_normals(seed, step, stream, out):
    """Fill the 1-D array ``out`` with the N(0, 1) draws of (stream, step).

    Block b gives entries 4b..4b+3: Box-Muller on its first two words, then on its last two;
    the second pair of the last block is computed only when it is used. Two passes: the
    Philox blocks first (their uniforms stored in ``out``), then Box-Muller over all pairs of
    the full blocks in one loop without branches, which vectorises.
    """
    d = out.shape[0]
    nfull = d // 4
    for b in range(nfull):
        w0, w1, w2, w3 = _philox(np.uint64(b), np.uint64(step), np.uint64(stream),
                                 np.uint64(LANE_NORMAL), np.uint64(seed), np.uint64(0))
        j = 4 * b
        out[j] = _u01(w0)
        out[j + 1] = _u01(w1)
        out[j + 2] = _u01(w2)
        out[j + 3] = _u01(w3)
    j = 4 * nfull
    if j < d:                                   # the last, partial block
        w0, w1, w2, w3 = _philox(np.uint64(nfull), np.uint64(step), np.uint64(stream),
                                 np.uint64(LANE_NORMAL), np.uint64(seed), np.uint64(0))
        x, y = _box_muller(_u01(w0), _u01(w1))
        out[j] = x
        if j + 1 < d:
            out[j + 1] = y
        if j + 2 < d:
            out[j + 2], y = _box_muller(_u01(w2), _u01(w3))
    for m in range(2 * nfull):
        out[2 * m], out[2 * m + 1] = _box_muller(out[2 * m], out[2 * m + 1])


@njit(cache=True, inline="always")
def _fill_normals_lanes(seed, step, i0, U, Z):
    """Z[a, j] = entry a of the N(0, 1) draws of (stream i0 + j, step), for the G particles
    of a block laid out one per column (the same numbers as :func:`_fill_normals`).

    Two passes: the Philox blocks of every particle (their uniforms stored in U, 4 per block
    and particle), then Box-Muller on the pairs, each pair for all G particles in one loop
    without branches, which vectorises across particles.
    """
    d, G = Z.shape
    for j in range(G):
        for b in range((d + 3) // 4):
            w0, w1, w2, w3 = _philox(np.uint64(b), np.uint64(step), np.uint64(i0 + j),
                                     np.uint64(LANE_NORMAL), np.uint64(seed), np.uint64(0))
            U[4 * b, j] = _u01(w0)
            U[4 * b + 1, j] = _u01(w1)
            U[4 * b + 2, j] = _u01(w2)
            U[4 * b + 3, j] = _u01(w3)
    for p in range((d + 1) // 2):
        if 2 * p + 1 < d:
            for j in range(G):
                Z[2 * p, j], Z[2 * p + 1, j] = _box_muller(U[2 * p, j], U[2 * p + 1, j])
        else:                                   # odd d: the last pair's second draw is unused
            for j in range(G):
                Z[2 * p, j], _ = _box_muller(U[2 * p, j], U[2 * p + 1, j])


@njit(cache=True)
def _blocks_kernel(c0, c1, c2, c3, k0, nblocks, out):
    for b in range(nblocks):
        w0, w1, w2, w3 = _philox(np.uint64(c0 + b), np.uint64(c1), np.uint64(c2),
                                 np.uint64(c3), np.uint64(k0), np.uint64(0))
        out[4 * b] = w0
        out[4 * b + 1] = w1
        out[4 * b + 2] = w2
        out[4 * b + 3] = w3


@njit(cache=True)
def _normals_kernel(seed, step, n, out):
    for i in range(n):
        _fill_normals(seed, step, i, out[i])


@njit(cache=True)
def _uniforms_kernel(seed, step, out):
    for i in range(out.shape[0]):
        out[i] = _uniform(seed, step, i)


def philox_block(counter, seed, nblocks=1):
    """Raw Philox4x64-10 output: ``nblocks`` consecutive blocks of four 64-bit words.

    Parameters
    ----------
    counter : sequence of 4 non-negative ints
        The starting counter ``(block, step, stream, lane)``; the first word is incremented
        from block to block.
    seed : int
        The first key word (the second is 0), ``0 <= seed < 2**64``.
    nblocks : int
        Number of blocks.

    Returns
    -------
    numpy.ndarray of uint64, shape (4 * nblocks,)

    Examples
    --------
    >>> import numpy as np
    >>> ours = philox_block((5, 0, 0, 0), seed=7, nblocks=2)
    >>> ref = np.random.Philox(key=7, counter=4).random_raw(8)
    >>> bool((ours == ref).all())
    True
    """
    if len(counter) != 4:
        raise ValueError("counter must have 4 entries (block, step, stream, lane)")
    c = [check_int(v, f"counter[{i}]", low=0, high=2**64 - 1) for i, v in enumerate(counter)]
    seed = check_int(seed, "seed", low=0, high=2**64 - 1)
    nblocks = check_int(nblocks, "nblocks", low=1)
    out = np.empty(4 * nblocks, dtype=np.uint64)
    _blocks_kernel(np.uint64(c[0]), np.uint64(c[1]), np.uint64(c[2]), np.uint64(c[3]),
                   np.uint64(seed), nblocks, out)
    return out


def normals(n, d, seed, step=0):
    """Standard normal draws of shape ``(n, d)``: row ``i`` is stream ``i`` at ``step``.

    These are exactly the numbers a kernel draws for particle ``i`` at time step ``step``,
    so tests can rebuild a kernel's noise outside it.

    Examples
    --------
    >>> z = normals(3, 2, seed=1)
    >>> z.shape
    (3, 2)
    """
    n = check_int(n, "n", low=1)
    d = check_int(d, "d", low=1)
    seed = check_int(seed, "seed", low=0, high=2**64 - 1)
    step = check_int(step, "step", low=0, high=2**63 - 1)
    out = np.empty((n, d))
    _normals_kernel(np.uint64(seed), np.uint64(step), n, out)
    return out


def uniforms(n, seed, step=0):
    """U(0, 1) draws of shape ``(n,)`` from the uniform lane: entry ``i`` is stream ``i``.

    Examples
    --------
    >>> u = uniforms(4, seed=3)
    >>> bool(((u > 0) & (u < 1)).all())
    True
    """
    n = check_int(n, "n", low=1)
    seed = check_int(seed, "seed", low=0, high=2**64 - 1)
    step = check_int(step, "step", low=0, high=2**63 - 1)
    out = np.empty(n)
    _uniforms_kernel(np.uint64(seed), np.uint64(step), out)
    return out
