"""companion: the tested numerics behind the executable lecture notes on diffusion models.

Every target law is a Gaussian mixture (``targets``), so every score, posterior and noised
marginal has a closed form; ``verify`` turns each identity of the book into a check that
fails loudly. Kernels are Numba functions with ``cache=True``; random draws come from the
counter-based generator in ``rng`` and do not depend on the number of threads.

The benchmark is a script, ``python -m companion.bench``; it is not imported here.
"""
from . import (bbdd, bounds, catalogue, consistency, divergences, finetune, girsanov,
               guarantees, info, ito, localization, moments, ou, plotting, registry, rng,
               samplers, schedules, score_matching, sde, stats, targets, time, verify, widgets)
from .targets import GaussianMixture, discrete, gaussian

__all__ = ["bbdd", "bounds", "catalogue", "consistency", "divergences", "finetune", "girsanov",
           "guarantees", "info", "ito", "localization", "moments", "ou", "plotting",
           "registry", "rng", "samplers", "schedules", "score_matching", "sde", "stats",
           "targets", "time", "verify", "widgets", "GaussianMixture", "discrete", "gaussian"]
__version__ = "0.1.0"
