"""Time grids for the forward and reverse processes."""
import numpy as np

from ._validate import check_float, check_int

__all__ = ["uniform", "bbdd23"]


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


def bbdd23(T, delta, kappa):
    """The schedule of Benton, De Bortoli, Doucet and Deligiannidis (2024), in reverse time.

    Uniform steps of size at most ``kappa`` on [0, T - 1], then steps that shrink
    geometrically towards T - delta: the remaining time T - t is divided by (1 + kappa) at each
    step, so gamma_k = kappa (T - t_{k+1}), and the last point is exactly T - delta. Every step
    then satisfies gamma_k <= kappa min{1, T - t_{k+1}}.

    Examples
    --------
    >>> import numpy as np
    >>> g = bbdd23(3.0, 0.01, 0.2)
    >>> float(g[0]), round(float(g[-1]), 12)
    (0.0, 2.99)
    >>> bool(np.all(np.diff(g) <= 0.2 * np.minimum(1.0, 3.0 - g[1:]) + 1e-12))
    True
    """
    T = check_float(T, "T", low=1.0)
    delta = check_float(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    kappa = check_float(kappa, "kappa", low=0.0, high=1.0, low_open=True)
    n1 = int(np.ceil((T - 1.0) / kappa - 1e-12)) if T > 1.0 else 0
    first = np.linspace(0.0, T - 1.0, n1 + 1) if n1 > 0 else np.array([0.0])
    n2 = int(np.ceil(np.log(1.0 / delta) / np.log1p(kappa) - 1e-12))
    remaining = (1.0 + kappa) ** -np.arange(1, n2, dtype=float)
    remaining = np.append(remaining[remaining > delta], delta)
    return np.concatenate([first, T - remaining])
