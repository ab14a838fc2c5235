"""Argument checks shared by the public functions: each raises ValueError naming the argument."""
import numbers

import numpy as np


def check_int(value, name, low=None, high=None):
    """Return ``value`` as a Python int, or raise ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_float(value, name, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float inside the stated interval, or raise ValueError."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {x}")
    if high is not None and (x > high or (high_open and x == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {x}")
    return x


def check_array(value, name, ndim=None, shape=None, finite=True):
    """Return ``value`` as a C-contiguous float64 array with the stated dimensions.

    ``shape`` may contain None for a free axis.
    """
    try:
        a = np.array(value, dtype=float, order="C")
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers") from None
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if shape is not None:
        if a.ndim != len(shape) or any(s is not None and s != t for s, t in zip(shape, a.shape)):
            want = tuple("n" if s is None else s for s in shape)
            raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must not contain NaN or infinite values")
    return a


def check_points(x, d, name="x"):
    """Accept one point of shape (d,) or a batch (n, d); return (batch, was_single)."""
    a = check_array(x, name)
    if a.ndim == 1 and a.shape[0] == d:
        return a[None, :], True
    if a.ndim == 2 and a.shape[1] == d:
        return a, False
    raise ValueError(f"{name} must have shape ({d},) or (n, {d}), got {a.shape}")


def check_seed(seed):
    return check_int(seed, "seed", low=0, high=2**64 - 1)
