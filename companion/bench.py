"""Benchmark of the fused reverse-time sampler against two NumPy implementations.

Run with ``python -m companion.bench`` (``--quick`` for a smaller run). All three run the same
algorithm, the exponential-integrator sampler with the exact score of a K-component Gaussian
mixture, on the same starting points, in the same process:

* ``companion``: :func:`companion.samplers.sample`, one fused parallel Numba kernel per run
  (score, update and counter-based noise for each particle and step);
* ``numpy-broadcast``: the score by broadcasting over (particles, components, d, d), in chunks
  of particles that keep the temporary arrays near 64 MB;
* ``numpy-matmul``: the score with one matrix product per component (BLAS), which is how a
  careful NumPy user would write it.

The report gives particle-steps per second, the speed-up of the companion kernel over each
NumPy version, and the share of the kernel's time spent drawing the Gaussian noise (measured
by a kernel that draws the same numbers and does nothing else). Timings are the best of
``--repeat`` runs after a warm-up run that compiles the kernels.

The second table times the chapters' interactive explorers (:func:`companion.widgets.explorer`):
every slider is moved through all its values, one at a time, and each redraw (figure and its
PNG for the notebook) is timed after a warm-up draw. Below ``widgets.REDRAW_BUDGET`` (0.1 s)
an explorer follows the slider continuously, above it its redraws are debounced. The table
also gives the time and size of the website version (precomputed frames). ``--only
explorers`` (or ``sampler``) runs one of the two parts.
"""
import argparse
import json
import re
import time

import numpy as np
from numba import njit, prange

from . import rng, samplers, schedules, targets
from .targets import _gaussian_params

CASES = [(8, 2, 100_000), (8, 64, 20_000)]
N_STEPS = 50
T, DELTA = 3.0, 0.01


def _step_params(target, tau):
    q = target.at(tau)
    prec, logdet = _gaussian_params(q.covs)
    return q.means, prec, logdet


def numpy_broadcast(target, grid, y, seed):
    """Reference 1: exponential integrator, the score by plain broadcasting."""
    n, d = y.shape
    K = target.n_components
    gen = np.random.default_rng(seed)
    log_w = np.log(target.weights)
    chunk = max(1, 2**23 // (K * d * d))
    for k in range(grid.size - 1):
        centers, prec, logdet = _step_params(target, T - grid[k])
        score = np.empty_like(y)
        for a in range(0, n, chunk):
            diff = y[a:a + chunk, None, :] - centers[None]                  # (m, K, d)
            pd = (prec[None] * diff[:, :, None, :]).sum(-1)                 # (m, K, d)
            lk = log_w - 0.5 * ((pd * diff).sum(-1) + logdet)
            lk -= lk.max(axis=1, keepdims=True)
            r = np.exp(lk)
            r /= r.sum(axis=1, keepdims=True)
            score[a:a + chunk] = -(r[:, :, None] * pd).sum(axis=1)
        h = grid[k + 1] - grid[k]
        y = np.exp(h) * y + 2 * np.expm1(h) * score + np.sqrt(np.expm1(2 * h)) * gen.standard_normal((n, d))
    return y


def numpy_matmul(target, grid, y, seed):
    """Reference 2: exponential integrator, one matrix product per component for the score."""
    n, d = y.shape
    K = target.n_components
    gen = np.random.default_rng(seed)
    log_w = np.log(target.weights)
    lk = np.empty((n, K))
    pd = np.empty((K, n, d))
    for k in range(grid.size - 1):
        centers, prec, logdet = _step_params(target, T - grid[k])
        for c in range(K):
            diff = y - centers[c]
            pd[c] = diff @ prec[c]
            lk[:, c] = log_w[c] - 0.5 * (np.einsum("ij,ij->i", pd[c], diff) + logdet[c])
        lk -= lk.max(axis=1, keepdims=True)
        r = np.exp(lk)
        r /= r.sum(axis=1, keepdims=True)
        score = -np.einsum("ic,cij->ij", r, pd)
        h = grid[k + 1] - grid[k]
        y = np.exp(h) * y + 2 * np.expm1(h) * score + np.sqrt(np.expm1(2 * h)) * gen.standard_normal((n, d))
    return y


@njit(cache=True, parallel=True)
def _noise_only(n, d, n_steps, seed, out):
    for i in prange(n):
        z = np.empty(d)
        acc = 0.0
        for k in range(n_steps):
            rng._fill_normals(seed, k + 1, i, z)
            acc += z[d - 1]
        out[i] = acc


def _best(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(cases=CASES, n_steps=N_STEPS, repeat=3, reference_repeat=1):
    """Time the three implementations on each (K, d, n) case; returns a list of dicts."""
    results = []
    for K, d, n in cases:
        target = targets.ring(d=d, k=K)
        grid = schedules.uniform(T, n_steps, delta=DELTA)
        y0 = rng.normals(n, d, seed=1)
        # warm-up: compile (or load from cache) every kernel involved
        samplers.sample(target, T, grid[:3], 16, seed=1, start=y0[:16])
        _noise_only(16, d, 2, np.uint64(1), np.empty(16))
        t_comp = _best(lambda: samplers.sample(target, T, grid, n, seed=1, start=y0), repeat)
        t_noise = _best(lambda: _noise_only(n, d, n_steps, np.uint64(1), np.empty(n)), repeat)
        t_mat = _best(lambda: numpy_matmul(target, grid, y0, 1), reference_repeat)
        t_bc = _best(lambda: numpy_broadcast(target, grid, y0, 1), reference_repeat)
        ps = n * n_steps
        results.append({
            "K": K, "d": d, "n": n, "steps": n_steps,
            "companion_s": t_comp, "numpy_matmul_s": t_mat, "numpy_broadcast_s": t_bc,
            "companion_particle_steps_per_s": ps / t_comp,
            "numpy_matmul_particle_steps_per_s": ps / t_mat,
            "numpy_broadcast_particle_steps_per_s": ps / t_bc,
            "speedup_vs_broadcast": t_bc / t_comp, "speedup_vs_matmul": t_mat / t_comp,
            "noise_share": t_noise / t_comp,
        })
    return results


def format_table(results):
    lines = ["| K | d | n | steps | companion (particle-steps/s) | NumPy matmul | NumPy broadcast "
             "| vs broadcast | vs matmul | noise share |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['K']} | {r['d']} | {r['n']} | {r['steps']} "
            f"| {r['companion_particle_steps_per_s']:.3g} | {r['numpy_matmul_particle_steps_per_s']:.3g} "
            f"| {r['numpy_broadcast_particle_steps_per_s']:.3g} | {r['speedup_vs_broadcast']:.1f}x "
            f"| {r['speedup_vs_matmul']:.1f}x | {r['noise_share']:.0%} |")
    return "\n".join(lines)


def _explorers():
    """name -> a function building the explorer as its chapter does (add new chapters here)."""
    from . import targets, widgets

    ring, bimodal = targets.ring(), targets.bimodal()
    return {
        "01 ou_marginal_explorer": lambda: widgets.ou_marginal_explorer(bimodal, t0=0.3),
        "02 tweedie_denoiser_explorer": lambda: widgets.tweedie_denoiser_explorer(ring, sigma0=0.5),
        "03 sampler_explorer": lambda: widgets.sampler_explorer(ring, T=3.0, delta=0.01),
    }


def explorer_times(builders=None):
    """Redraw times of each explorer over every single-slider move; returns a list of dicts."""
    import matplotlib

    matplotlib.use("Agg")
    from . import plotting, widgets

    plotting.use_book_style()
    builders = _explorers() if builders is None else builders
    results = []
    for name, build in builders.items():
        box = build()
        box.redraw()                                   # warm-up: compiled kernels, fonts
        n_warm = len(box.redraw_times)
        cpu = []
        for slider in box.sliders.values():
            start = slider.value
            for value in [v for _, v in slider.options] + [start]:
                if value != slider.value:
                    c0 = time.process_time()
                    slider.value = value               # redraws (no event loop: at once)
                    cpu.append(time.process_time() - c0)
        times = np.array(box.redraw_times[n_warm:])
        t0 = time.perf_counter()
        html = box.static_html()
        t_static = time.perf_counter() - t0
        results.append({"explorer": name, "redraws": int(times.size),
                        "median_s": float(np.median(times)), "max_s": float(times.max()),
                        "median_cpu_s": float(np.median(cpu)),
                        "mode": "continuous" if np.median(times) < widgets.REDRAW_BUDGET
                        else "debounced",
                        "frames": len(json.loads(re.search(
                            r'class="cp-explorer-frames">(.*?)</script>', html, re.S).group(1))["frames"]),
                        "static_s": t_static, "static_kB": len(html) / 1e3})
    return results


def format_explorer_table(results):
    lines = ["| explorer | redraws | median redraw (s) | slowest (s) | median CPU (s) "
             "| update mode | website frames | frames built in (s) | page weight (kB) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['explorer']} | {r['redraws']} | {r['median_s']:.3f} | {r['max_s']:.3f} "
                     f"| {r['median_cpu_s']:.3f} "
                     f"| {r['mode']} | {r['frames']} | {r['static_s']:.1f} | {r['static_kB']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    import numba

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the particles")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--only", choices=["sampler", "explorers"],
                    help="run only the sampler benchmark or only the explorer timings")
    args = ap.parse_args(argv)
    report = {}
    if args.only != "explorers":
        cases = [(K, d, max(1000, n // 10)) for K, d, n in CASES] if args.quick else CASES
        print(f"numba threads: {numba.get_num_threads()}; exponential integrator, "
              f"{N_STEPS} steps, exact mixture score")
        report["sampler"] = run(cases, repeat=args.repeat)
        print(format_table(report["sampler"]))
    if args.only != "sampler":
        print("\ninteractive explorers: redraw time per slider move")
        report["explorers"] = explorer_times()
        print(format_explorer_table(report["explorers"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
