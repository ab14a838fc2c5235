"""Compile the hot Numba kernels into the on-disk cache ahead of the first chapter.

Run ``python -m companion.warmup`` once after installing (the README's install line does).
With an empty cache, the first call of the fused sampler kernels costs tens of seconds of
compilation (a minute and more on a loaded machine); every kernel here is compiled with
``cache=True``, so after this run each chapter loads them in well under a second. The two
sampler kernels (one particle at a time below dimension 8, blocks of particles from 8 on)
compile in two processes at once, one per core.
"""
import subprocess
import sys
import time

__all__ = ["warm", "main"]


def _rng():
    from . import rng
    rng.normals(3, 5, seed=1)
    rng.uniforms(3, seed=1)
    rng.philox_block((0, 0, 0, 0), seed=1)


def _sampler(d):
    from . import samplers, schedules, targets
    mu = targets.ring(d=d, k=2) if d >= 2 else targets.bimodal()
    samplers.sample(mu, 3.0, schedules.uniform(3.0, 2, delta=0.1), 5, seed=1,
                    start=[[0.0] * d] * 5)


_PARTS = {"rng": _rng, "sampler-low": lambda: _sampler(2), "sampler-block": lambda: _sampler(8)}


def warm(part):
    """Compile (or load from the cache) the kernels of one part: "rng", "sampler-low" or
    "sampler-block"; returns the seconds it took.

    Examples
    --------
    >>> warm("rng") >= 0.0
    True
    """
    if part not in _PARTS:
        raise ValueError(f"part must be one of {sorted(_PARTS)}, got {part!r}")
    t0 = time.perf_counter()
    _PARTS[part]()
    return time.perf_counter() - t0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv:                                  # a worker: compile the parts it is given
        for part in argv:
            print(f"{part}: {warm(part):.1f} s", flush=True)
        return
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "companion.warmup", *parts])
             for parts in (["rng", "sampler-low"], ["sampler-block"])]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"warm-up failed (exit codes {codes})")
    print(f"companion kernels compiled into the Numba cache in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
