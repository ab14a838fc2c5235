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

* ``jax-gemm`` and ``jax-einsum`` (only when JAX is importable: ``pip install .[bench]``):
  the same sampler as one ``jax.jit``-compiled loop in float64, the quadratic forms as one
  matrix product against all K precision matrices side by side, or as an ``einsum``; the
  noise is JAX's own. Before timing, each is run on companion's noise and must agree with
  companion to 1e-10.

The report gives particle-steps per second and the speed-up of the companion kernel over each
other implementation; the kernel's arithmetic rate as a fraction of this machine's float64
matrix-product rate, timed in the same run: its practical peak (NumPy's BLAS on a 2048 x 2048
product) and the rate of a product of the same shape as the quadratic forms; the share of the kernel's time spent drawing the Gaussian noise
(a kernel that draws the same numbers and does nothing else) and the noise rate on one core
against NumPy's PCG64 ``standard_normal``; and the time of the first call of the sampler
with an empty Numba cache (a fresh process with ``NUMBA_CACHE_DIR`` in a new temporary
directory). The implementations are interleaved, round after round, so that a change in the
machine's load affects them alike; each timing is the best of ``--repeat`` rounds after a
warm-up run that compiles the kernels.

The second table times the chapters' interactive explorers (:func:`companion.widgets.explorer`):
every slider is moved through all its values, one at a time, and each redraw (figure and its
PNG for the notebook) is timed after a warm-up draw. Below ``widgets.REDRAW_BUDGET`` (0.1 s)
an explorer follows the slider continuously, above it its redraws are debounced. The table
also gives the time and size of the website version (precomputed frames). ``--only
explorers`` (or ``sampler``) runs one of the two parts.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
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
    # the noise exactly as the sampler kernels draw it: by blocks of particles laid out one
    # per column below samplers._GROUP_FROM_D, particle by particle from it on
    if d < samplers._GROUP_FROM_D:
        G = samplers._LANES
        for c in prange((n + G - 1) // G):
            Z = np.empty((d, G))
            U = np.empty((4 * ((d + 3) // 4), G))
            for j in range(G):
                if G * c + j < n:
                    out[G * c + j] = 0.0
            for k in range(n_steps):
                rng._fill_normals_lanes(seed, k + 1, G * c, U, Z)
                for j in range(G):
                    if G * c + j < n:
                        out[G * c + j] += Z[d - 1, j]
    else:
        for i in prange(n):
            z = np.empty(d)
            acc = 0.0
            for k in range(n_steps):
                rng._fill_normals(seed, k + 1, i, z)
                acc += z[d - 1]
            out[i] = acc


def flops_per_particle_step(K, d):
    """Floating-point operations of one exponential-integrator step of one particle: per
    component the difference (d), the quadratic form (2 d^2 + 2 d) and its share of the
    score (2 d), then the update (5 d); the K exponentials are not counted."""
    return K * (2 * d * d + 5 * d) + 5 * d


def _jax_params(target, grid):
    taus = T - grid[:-1]
    K, d = target.n_components, target.dim
    centers = np.empty((taus.size, K, d))
    prec = np.empty((taus.size, K, d, d))
    c0 = np.empty((taus.size, K))
    for j, tau in enumerate(taus):
        m, p, logdet = _step_params(target, tau)
        centers[j], prec[j], c0[j] = m, p, np.log(target.weights) - 0.5 * logdet
    h = np.diff(grid)
    return centers, prec, c0, np.exp(h), 2 * np.expm1(h), np.sqrt(np.expm1(2 * h))


def jax_sampler(target, grid, variant):
    """The exponential-integrator sampler in JAX (float64, one ``jit``): ``variant`` "gemm"
    computes all K quadratic forms with one matrix product y @ [P_1 ... P_K], "einsum" with
    an einsum over (particle, component). Returns ``run(y0, seed)`` (JAX's own noise) and
    ``run_on(y0, Z)`` (the noise Z[k] at step k), both returning a NumPy array."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    centers, prec, c0, ca, cs, cz = (jnp.asarray(a) for a in _jax_params(target, grid))
    N, K, d = centers.shape
    pcat = jnp.transpose(prec, (0, 2, 1, 3)).reshape(N, d, K * d)    # [P_1 ... P_K], P symmetric
    pm = jnp.einsum("nkab,nkb->nka", prec, centers)                   # P_k m_k

    def score(y, k):
        diff = y[:, None, :] - centers[k][None]
        if variant == "gemm":
            pd = (y @ pcat[k]).reshape(y.shape[0], K, d) - pm[k][None]
        else:
            pd = jnp.einsum("nkb,kab->nka", diff, prec[k])
        lk = c0[k][None] - 0.5 * jnp.sum(pd * diff, axis=-1)
        r = jax.nn.softmax(lk, axis=1)
        return -jnp.einsum("nk,nka->na", r, pd)

    def step(k, y, z):
        return ca[k] * y + cs[k] * score(y, k) + cz[k] * z

    @jax.jit
    def _run(y, key):
        def body(k, carry):
            y, key = carry
            key, sub = jax.random.split(key)
            return step(k, y, jax.random.normal(sub, y.shape, dtype=jnp.float64)), key
        return jax.lax.fori_loop(0, N, body, (y, key))[0]

    @jax.jit
    def _run_on(y, Z):
        return jax.lax.fori_loop(0, N, lambda k, y: step(k, y, Z[k]), y)

    def run(y0, seed):
        return np.asarray(_run(jnp.asarray(y0), jax.random.PRNGKey(seed)).block_until_ready())

    def run_on(y0, Z):
        return np.asarray(_run_on(jnp.asarray(y0), jnp.asarray(Z)).block_until_ready())

    return run, run_on


def _jax_available():
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _matmul_rate(m, k, n, repeat):
    """float64 GFLOP/s of NumPy's matrix product (m, k) @ (k, n), on the same threads."""
    gen = np.random.default_rng(0)
    a, b = gen.standard_normal((m, k)), gen.standard_normal((k, n))
    out = np.empty((m, n))
    np.matmul(a, b, out=out)
    t = min(_timed(lambda: np.matmul(a, b, out=out)) for _ in range(max(3, repeat)))
    return 2.0 * m * k * n / t / 1e9


def _noise_rates(d, n_steps, repeat):
    """Normals per second on one core: the kernels' generator against NumPy's PCG64."""
    import numba
    n = max(1, 2_000_000 // (d * n_steps))
    out = np.empty(n)
    buf = np.empty(n * n_steps * d)
    gen = np.random.default_rng(1)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        ours, pcg = [], []
        for _ in range(repeat):
            ours.append(_timed(lambda: _noise_only(n, d, n_steps, np.uint64(1), out)))
            pcg.append(_timed(lambda: gen.standard_normal(out=buf)))
    finally:
        numba.set_num_threads(threads)
    return buf.size / min(ours), buf.size / min(pcg)


_COMPILE_SCRIPT = """
import json, time
import numpy as np
t0 = time.perf_counter()
import companion as cp
t1 = time.perf_counter()
res = {"import_s": t1 - t0}
for d in (2, 64):
    mu = cp.targets.ring(d=d, k=8)
    grid = cp.schedules.uniform(3.0, 4, delta=0.01)
    t = time.perf_counter()
    cp.samplers.sample(mu, 3.0, grid, 16, seed=1)
    res[f"first_call_d{d}_s"] = time.perf_counter() - t
    t = time.perf_counter()
    cp.samplers.sample(mu, 3.0, grid, 16, seed=1)
    res[f"second_call_d{d}_s"] = time.perf_counter() - t
print(json.dumps(res))
"""


def compile_times():
    """First and second call of :func:`companion.samplers.sample` at d = 2 and d = 64 in a
    fresh process whose Numba cache directory is new and empty (then, with the filled
    cache, in a second fresh process: what a warmed-up install pays)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
        res = {}
        for label in ("cold", "cached"):
            out = subprocess.run([sys.executable, "-c", _COMPILE_SCRIPT], env=env, check=True,
                                 capture_output=True, text=True).stdout
            res[label] = json.loads(out.strip().splitlines()[-1])
    return res


def run(cases=CASES, n_steps=N_STEPS, repeat=3, reference_repeat=1, use_jax=None):
    """Time the implementations on each (K, d, n) case, interleaved round by round; returns
    a list of dicts."""
    if use_jax is None:
        use_jax = _jax_available()
    results = []
    peak = _matmul_rate(2048, 2048, 2048, repeat)      # the machine's practical peak, once
    for K, d, n in cases:
        target = targets.ring(d=d, k=K)
        grid = schedules.uniform(T, n_steps, delta=DELTA)
        y0 = rng.normals(n, d, seed=1)
        # warm-up: compile (or load from cache) every kernel involved
        samplers.sample(target, T, grid[:3], 16, seed=1, start=y0[:16])
        _noise_only(16, d, 2, np.uint64(1), np.empty(16))
        impls = {"companion": lambda: samplers.sample(target, T, grid, n, seed=1, start=y0)}
        agree = {}
        if use_jax:
            m = 64
            ref = samplers.sample(target, T, grid, m, seed=1, start=y0[:m])
            Z = np.stack([rng.normals(m, d, 1, step=k + 1) for k in range(n_steps)])
            for variant in ("gemm", "einsum"):
                run_j, run_on = jax_sampler(target, grid, variant)
                agree[f"jax-{variant}"] = float(np.abs(run_on(y0[:m], Z) - ref).max())
                if agree[f"jax-{variant}"] > 1e-10:
                    raise AssertionError(f"jax-{variant} disagrees with companion: "
                                         f"{agree[f'jax-{variant}']:.2e}")
                run_j(y0, 1)                                   # compile
                impls[f"jax-{variant}"] = (lambda r: lambda: r(y0, 1))(run_j)
        times = {name: [] for name in impls}
        noise = []
        for _ in range(repeat):
            for name, fn in impls.items():
                times[name].append(_timed(fn))
            noise.append(_timed(lambda: _noise_only(n, d, n_steps, np.uint64(1), np.empty(n))))
        t = {name: min(v) for name, v in times.items()}
        t["numpy-matmul"] = min(_timed(lambda: numpy_matmul(target, grid, y0, 1))
                                for _ in range(reference_repeat))
        t["numpy-broadcast"] = min(_timed(lambda: numpy_broadcast(target, grid, y0, 1))
                                   for _ in range(reference_repeat))
        ps = n * n_steps
        gemm = _matmul_rate(n, d, K * d, repeat)     # the shape of the quadratic forms
        ours_rate, pcg_rate = _noise_rates(d, n_steps, repeat)
        gflops = flops_per_particle_step(K, d) * ps / t["companion"] / 1e9
        results.append({
            "K": K, "d": d, "n": n, "steps": n_steps,
            "seconds": t,
            "particle_steps_per_s": {name: ps / v for name, v in t.items()},
            "speedup": {name: v / t["companion"] for name, v in t.items() if name != "companion"},
            "jax_max_abs_diff": agree,
            "companion_gflops": gflops, "gemm_gflops": gemm, "gemm_fraction": gflops / gemm,
            "peak_gemm_gflops": peak, "peak_fraction": gflops / peak,
            "noise_share": min(noise) / t["companion"],
            "noise_per_core_per_s": ours_rate, "pcg64_per_core_per_s": pcg_rate,
        })
    return results


def format_table(results):
    names = list(results[0]["particle_steps_per_s"])
    head = "| K | d | n | steps | " + " | ".join(f"{m} (particle-steps/s)" if m == "companion"
                                                   else f"{m} (companion/it)" for m in names)
    lines = [head + " | GFLOP/s | of peak GEMM | of same-shape GEMM | noise share "
             "| noise vs PCG64 (1 core) |",
             "|" + "---|" * (4 + len(names) + 5)]
    for r in results:
        cells = [f"{r['particle_steps_per_s']['companion']:.3g}"]
        cells += [f"{r['particle_steps_per_s'][m]:.3g} ({r['speedup'][m]:.2f}x)"
                  for m in names if m != "companion"]
        lines.append(
            f"| {r['K']} | {r['d']} | {r['n']} | {r['steps']} | " + " | ".join(cells)
            + f" | {r['companion_gflops']:.1f} | {r['peak_fraction']:.0%} of {r['peak_gemm_gflops']:.0f}"
            f" | {r['gemm_fraction']:.0%} of {r['gemm_gflops']:.0f}"
            f" | {r['noise_share']:.0%} | {r['noise_per_core_per_s']:.3g}/s vs "
            f"{r['pcg64_per_core_per_s']:.3g}/s ({r['noise_per_core_per_s'] / r['pcg64_per_core_per_s']:.2f}x) |")
    return "\n".join(lines)


def _explorers():
    """name -> a function building the explorer as its chapter does (add new chapters here)."""
    from . import targets, widgets

    ring, bimodal = targets.ring(), targets.bimodal()
    return {
        "01 ou_marginal_explorer": lambda: widgets.ou_marginal_explorer(bimodal, t0=0.3),
        "02 tweedie_denoiser_explorer": lambda: widgets.tweedie_denoiser_explorer(ring, sigma0=0.5),
        "03 sampler_explorer": lambda: widgets.sampler_explorer(ring, T=3.0, delta=0.01),
        "04 girsanov_explorer": lambda: widgets.girsanov_explorer(),
        "05 localization_explorer": lambda: widgets.localization_explorer(ring, seed=3),
        "06 bbdd_explorer": lambda: widgets.bbdd_explorer(),
        "07 tv_bias_explorer": lambda: widgets.tv_bias_explorer(T=1.25, eps=0.05),
        "08 immse_explorer": lambda: widgets.immse_explorer(targets.rademacher(), T=4.0),
        "09 moment_matching_explorer": lambda: widgets.moment_matching_explorer(T=4.0),
        "10 cd_ct_explorer": lambda: widgets.cd_ct_explorer(),
        "11 finetune_explorer": lambda: widgets.finetune_explorer(),
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


def format_compile(res):
    c, w = res["cold"], res["cached"]
    return (f"first call with an empty Numba cache: d = 2 {c['first_call_d2_s']:.1f} s, "
            f"d = 64 {c['first_call_d64_s']:.1f} s (import {c['import_s']:.1f} s); "
            f"with the cache filled: d = 2 {w['first_call_d2_s']:.2f} s, "
            f"d = 64 {w['first_call_d64_s']:.2f} s")


def main(argv=None):
    import numba

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the particles")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--only", choices=["sampler", "explorers"],
                    help="run only the sampler benchmark or only the explorer timings")
    ap.add_argument("--no-jax", action="store_true", help="leave JAX out even if installed")
    ap.add_argument("--no-compile", action="store_true",
                    help="skip the first-call timing in a fresh process")
    args = ap.parse_args(argv)
    report = {}
    if args.only != "explorers":
        cases = [(K, d, max(1000, n // 10)) for K, d, n in CASES] if args.quick else CASES
        print(f"numba threads: {numba.get_num_threads()}; exponential integrator, "
              f"{N_STEPS} steps, exact mixture score")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        results = run(cases, repeat=args.repeat, use_jax=False if args.no_jax else None)
        print(format_table(results))
        for r in results:
            if r["jax_max_abs_diff"]:
                print(f"d = {r['d']}: on the same noise, JAX agrees with companion to "
                      + ", ".join(f"{k} {v:.1e}" for k, v in r["jax_max_abs_diff"].items()))
        comp = None if args.no_compile else compile_times()
        if comp:
            print(format_compile(comp))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        report["sampler"] = {"cases": results, "compile": comp}
    if args.only != "sampler":
        print("\ninteractive explorers: redraw time per slider move")
        report["explorers"] = explorer_times()
        print(format_explorer_table(report["explorers"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
