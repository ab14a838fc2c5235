"""Time grids for the forward and reverse processes."""
import numpy as np

from ._validate import check_float, check_int

__all__ = ["uniform"]


def uniform(T, n_steps, delta=0.0):
    """Uniform grid 0 = t_0 < ... < t_N = T - delta in reverse time.

    Examples
    --------
    >>> uniform(1.0, 4)
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    delta = check_float(delta, "delta", low=0.0, high=T, high_open=True)
    return np.linspace(0.0, T - delta, n_steps + 1)
