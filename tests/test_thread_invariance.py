"""Every parallel kernel gives the same bits with one thread and with two.

The random numbers are counter-based (a particle's noise is named by its seed, its stream and
its step), so a kernel whose threads share nothing must give exactly the same result whatever
the number of threads. A data race breaks this only when two threads happen to meet in the same
buffer, so each case runs enough work to keep both threads busy at once (tens of thousands of
particle-steps per call) and repeats the two-thread call ``REPEATS`` times: the old fine-tuning
kernel, whose two threads shared their normal draws, differed in 18 of 20 such calls on a 2-core
machine, so five calls leave it a chance of about 1e-5 to pass. The static reading of
``tests/test_parallel_kernels.py`` sees such a race every time; this test checks what the
reading cannot: that the kernels really do agree bit for bit.

Bits are compared within one process, on one machine: the same compiled code with other thread
counts. Nothing here compares bits across processors.
"""
import numpy as np
import pytest

import companion as cp
from companion import (bbdd, bench, finetune, girsanov, info, ito, localization, moments, ou,
                       samplers, sde)

from test_parallel_kernels import KERNELS

REPEATS = 5
BIMODAL = cp.targets.bimodal()


def _arrays(result):
    if isinstance(result, np.ndarray):
        return [result]
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _arrays(r)]
    if hasattr(result, "_fields"):
        return _arrays(tuple(result))
    if hasattr(result, "__dict__"):
        return _arrays([v for v in vars(result).values() if isinstance(v, np.ndarray)])
    return [np.asarray(result, dtype=float)]


def _noise_only(d):
    def run():
        out = np.empty(20_000)
        bench._noise_only(20_000, d, 8, np.uint64(3), out)
        return out
    return run


GRID = cp.schedules.uniform(2.0, 20, delta=0.05)
SL_GRID = np.linspace(0.05, 2.0, 25)
CASES = {
    "bbdd._pair_kernel": lambda: bbdd.pair_moments(
        BIMODAL, 2.0, np.linspace(0.0, 1.5, 40), np.linspace(0.2, 1.8, 40), order=60),
    "bbdd._error3_mc_kernel": lambda: bbdd.error3_mc(
        cp.targets.ring(d=3, k=5), 3.0, cp.schedules.bbdd23(3.0, 1e-2, 0.2), 40_000, seed=1),
    "bench._noise_only": lambda: (_noise_only(2)(), _noise_only(9)()),
    "finetune._pg_kernel": lambda: finetune.policy_gradient_mc(
        finetune.LQFineTuning(), 0.3, 20_000, 20, seed=9),
    "girsanov._lr_kernel": lambda: girsanov.log_ratio_paths(
        girsanov.Drift(-np.eye(2), k=[0.5, 1.0]), girsanov.Drift(-np.eye(2)),
        np.zeros((20_000, 2)), 1.0, 20, seed=4, world="p"),
    "girsanov._ei_density_step": lambda: girsanov.density_ei_1d(
        BIMODAL, 2.0, np.linspace(0.0, 1.95, 8), np.linspace(-8, 8, 1601)),
    "info._chain_step_kernel": lambda: [info.delta_n(BIMODAL, np.linspace(0.0, 4.0, 9), kernel=k)
                                        for k in ("mean", "moment2")],
    "info._sampler_kernel": lambda: [
        info.sampler(cp.targets.ring(d=2, k=4), np.linspace(0.0, 3.0, 16), 4_000, seed=2,
                     kernel=k) for k in ("mean", "moment2")] + [
        info.posterior_sampler(cp.targets.ring(d=2, k=4), np.linspace(0.0, 3.0, 16), 4_000,
                               seed=2)],
    "info._propagate_kernel": lambda: info.sampler_marginal_density(
        cp.targets.rademacher(), [0.0, 1.0, 2.0], np.linspace(-12, 12, 2401)),
    "ito._sums_kernel": lambda: ito.brownian_sums(1.0, 20, 20_000, seed=0),
    "ito._dds_kernel": lambda: ito.dds_samples([0.5, 1.0], 40, 20_000, seed=0),
    "ito._exp_kernel": lambda: ito.exp_martingale_sums([[1.0, 0.0], [0.9, 0.6]], [0.6, -0.9],
                                                       0.34, 1.0, 20, 20_000, seed=0),
    "ito._sine_kernel": lambda: ito.sine_sums(1.0, 20, 20_000, seed=0),
    "ito._refine_kernel": lambda: ito.reverse_sde_refinements(
        cp.targets.ring(), cp.rng.normals(2_000, 2, seed=1), 1.0, 0.5, [5, 10, 20], seed=2),
    "localization._paths_kernel": lambda: [
        localization.paths(cp.targets.ring(), SL_GRID, 2_000, seed=1, method=m)
        for m in localization.METHODS],
    "moments._rad_delta_kernel": lambda: [moments.rademacher_delta_n(np.linspace(0, 4, 41), k)
                                          for k in ("mean", "moment2")],
    "ou._ito_kernel": lambda: ou.ito_integral(1.0, 20, 20_000, seed=0),
    "samplers._reverse_kernel_low": lambda: [
        samplers.sample(cp.targets.ring(d=2, k=8), 2.0, GRID, 5_001, seed=2, method=m)
        for m in samplers.METHODS],
    "samplers._reverse_kernel_block": lambda: [
        samplers.sample(cp.targets.ring(d=9, k=4), 2.0, GRID, 1_001, seed=2, method=m)
        for m in samplers.METHODS],
    "sde._em_kernel": lambda: sde.euler_maruyama(sde.OU(), np.zeros((20_000, 2)), 1.0, 20, seed=0),
    "sde._langevin_kernel": lambda: sde.langevin_em(
        BIMODAL, np.zeros((20_000, 1)), 1.0, 0.01, 20, seed=0),
    "targets._eval_kernel": lambda: (cp.targets.ring(d=3, k=6).score(
        cp.rng.normals(20_000, 3, seed=1)), cp.targets.ring(d=3, k=6).hessian(
        cp.rng.normals(20_000, 3, seed=1))),
    "targets._posterior_kernel": lambda: cp.targets.ring(d=3, k=6).posterior(
        cp.rng.normals(20_000, 3, seed=1), 0.7, 0.5),
    "targets._sample_kernel": lambda: cp.targets.ring(d=3, k=6).sample(40_000, seed=3),
}


def test_every_parallel_kernel_has_a_case():
    assert sorted(CASES) == sorted(f"{m}.{n}" for m, n, _ in KERNELS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_bits_with_one_or_two_threads(name, with_threads):
    run = CASES[name]
    one = [a.tobytes() for a in _arrays(with_threads(1, run))]
    assert one and all(len(a) for a in one)           # precondition: the case computed something
    for _ in range(REPEATS):
        two = [a.tobytes() for a in _arrays(with_threads(2, run))]
        assert two == one
