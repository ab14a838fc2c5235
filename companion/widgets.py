"""Builders for the interactive figures of the chapters.

Every explorer is built by :func:`explorer`: one slider per parameter over a short list of
values, redrawing a matplotlib figure. It lives in two places.

* In a live notebook (JupyterLab) it is an ipywidgets container. The sliders report every
  position while they are dragged (``continuous_update=True``); the figure follows the hand
  when a redraw takes less than :data:`REDRAW_BUDGET` seconds, and otherwise is redrawn once
  the slider has rested for :data:`DEBOUNCE` seconds (a debounced update), so that a slow
  figure never queues a backlog of redraws. The choice is made from the measured redraw time
  and revised after every redraw.
* On the book's website, where no kernel runs, the same explorer is a page fragment: the
  figures for the slider positions are drawn when the book is built (all combinations when
  there are at most :data:`MAX_FRAMES`, else each slider on its own with the others at their
  initial value), embedded as PNG images, and switched by a few lines of JavaScript, with no
  other file and no network access. They are drawn only where the environment variable
  :data:`STATIC_ENV` is set (the book build sets it), so a notebook session does not pay for
  them.
"""
import re

import numpy as np

from ._validate import check_float, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["explorer", "ou_marginal_figure", "ou_marginal_explorer", "tweedie_denoiser_figure",
           "tweedie_denoiser_explorer", "reverse_flow_figure", "reverse_flow_animation",
           "sampler_explorer"]

#: a redraw faster than this (seconds) follows the slider continuously; a slower one is debounced
REDRAW_BUDGET = 0.1
#: how long (seconds) a slider must rest before a slow figure is redrawn
DEBOUNCE = 0.25
#: the website embeds every combination of slider values up to this many frames
MAX_FRAMES = 24
#: resolution of the website's frames (the figures are about 4 to 6 inches wide)
FRAME_DPI = 80
#: colours of the website's frames (a palette PNG is 3 to 5 times lighter than a full-colour one)
FRAME_COLORS = 64
#: environment variable that asks explorers to embed their website frames (set by the build)
STATIC_ENV = "COMPANION_STATIC_EXPLORERS"


def _png(fig, dpi=None):
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _frame_png(fig, dpi=FRAME_DPI, colors=FRAME_COLORS):
    """A light PNG for the website: moderate resolution, an adaptive palette of ``colors``."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(_png(fig, dpi=dpi))).convert("RGB")
    buf = io.BytesIO()
    img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(buf, format="PNG",
                                                                      optimize=True)
    return buf.getvalue()


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


def _running_loop():
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_STATIC_JS = """
(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script.cp-explorer-frames").textContent);
  var img = root.querySelector("img");
  var inputs = Array.prototype.slice.call(root.querySelectorAll("input[type=range]"));
  function show(moved) {
    var idx = inputs.map(function (s) { return parseInt(s.value, 10); });
    var key = idx.join(",");
    if (!(key in data.frames)) {
      // this page holds one slider at a time: put the others back to their initial value
      inputs.forEach(function (s, j) {
        if (s !== moved) { s.value = data.initial[j]; }
      });
      idx = inputs.map(function (s) { return parseInt(s.value, 10); });
      key = idx.join(",");
    }
    inputs.forEach(function (s, j) {
      s.nextElementSibling.textContent = data.labels[j][idx[j]];
      s.setAttribute("aria-valuetext", data.labels[j][idx[j]]);
    });
    img.src = "data:image/png;base64," + data.frames[key];
    img.alt = data.alt + " (" + inputs.map(function (s, j) {
      return data.names[j] + " = " + data.labels[j][idx[j]];
    }).join(", ") + ")";
  }
  inputs.forEach(function (s) { s.addEventListener("input", function () { show(s); }); });
})();
"""


def _static_html(make_figure, names, values, initial_index, max_frames=MAX_FRAMES, dpi=FRAME_DPI):
    """The website version of an explorer: precomputed frames and a JavaScript slider."""
    import base64
    import hashlib
    import html
    import itertools
    import json

    import matplotlib.pyplot as plt

    sizes = [len(v) for v in values]
    if int(np.prod(sizes)) <= max_frames:
        combos = list(itertools.product(*[range(s) for s in sizes]))
        note = ""
    else:
        combos = [tuple(initial_index)]
        for j, s in enumerate(sizes):
            for i in range(s):
                if i != initial_index[j]:
                    c = list(initial_index)
                    c[j] = i
                    combos.append(tuple(c))
        note = ("On this page each slider moves on its own, the others at their initial "
                "value; run the notebook to combine them.")
    frames = {}
    for combo in combos:
        fig = make_figure(**{n: values[j][i] for j, (n, i) in enumerate(zip(names, combo))})
        frames[",".join(map(str, combo))] = base64.b64encode(_frame_png(fig, dpi=dpi)).decode("ascii")
        plt.close(fig)
    labels = [[_fmt(v) for v in vals] for vals in values]
    data = {"names": list(names), "labels": labels, "initial": list(initial_index),
            "frames": frames, "alt": "Interactive figure, precomputed"}
    payload = json.dumps(data, separators=(",", ":"))
    uid = "cp-explorer-" + hashlib.sha1(payload.encode()).hexdigest()[:12]
    first = frames[",".join(map(str, initial_index))]
    alt = data["alt"] + " (" + ", ".join(
        f"{n} = {labels[j][initial_index[j]]}" for j, n in enumerate(names)) + ")"
    controls = "".join(
        f'<label class="cp-explorer-slider" style="display:inline-flex;align-items:center;'
        f'gap:0.4em"><span class="cp-explorer-name">{html.escape(n)}</span>'
        f'<input type="range" min="0" max="{len(values[j]) - 1}" step="1" '
        f'value="{initial_index[j]}" aria-label="{html.escape(n)}" '
        f'aria-valuetext="{html.escape(labels[j][initial_index[j]])}">'
        f'<output style="min-width:3.5em">{html.escape(labels[j][initial_index[j]])}</output>'
        f'</label>'
        for j, n in enumerate(names))
    note_html = (f'<p class="cp-explorer-note" style="font-size:0.9em;opacity:0.8">{note}</p>'
                 if note else "")
    return (f'<div class="cp-explorer" id="{uid}">'
            f'<div class="cp-explorer-controls" style="display:flex;flex-wrap:wrap;'
            f'gap:0.3em 1.5em;margin:0.3em 0">{controls}</div>'
            f'<img src="data:image/png;base64,{first}" alt="{html.escape(alt)}" '
            f'style="max-width:100%;height:auto">{note_html}'
            f'<script type="application/json" class="cp-explorer-frames">'
            f'{payload}</script>'
            f'<script>{_STATIC_JS % {"id": uid}}</script></div>')


_EXPLORER_CLASS = None


def _explorer_class():
    """The widget class (built on first use: ipywidgets is imported only when needed)."""
    global _EXPLORER_CLASS
    if _EXPLORER_CLASS is not None:
        return _EXPLORER_CLASS
    import base64
    import os
    import time
    import traceback

    import ipywidgets as w
    import matplotlib.pyplot as plt

    class Explorer(w.VBox):
        """Sliders and a figure; see :func:`explorer`.

        Attributes
        ----------
        sliders : dict
            Parameter name -> its ``SelectionSlider``.
        output : ipywidgets.Output
            Where the figure is drawn.
        redraw_times : list of float
            Seconds taken by each redraw so far (the first one included).
        """

        def __init__(self, make_figure, params, initial):
            self._make_figure = make_figure
            self._names = list(params)
            self._values = [list(v) for v in params.values()]
            self._initial = [vals.index(initial[n]) for n, vals in zip(self._names, self._values)]
            self.sliders = {
                n: w.SelectionSlider(options=[(_fmt(v), v) for v in vals], value=initial[n],
                                     description=n, continuous_update=True)
                for n, vals in zip(self._names, self._values)}
            self.output = w.Output()
            self.redraw_times = []
            self._pending = None
            self._first_png = None
            super().__init__([w.HBox(list(self.sliders.values())), self.output])
            for s in self.sliders.values():
                s.observe(self._on_change, names="value")
            self.redraw()

        def values(self):
            """The current value of every parameter."""
            return {n: s.value for n, s in self.sliders.items()}

        @property
        def redraw_seconds(self):
            """Typical redraw time: the median of the last redraws after the first one
            (which may include compilation), or the first one while it is alone."""
            t = self.redraw_times[1:][-5:] or self.redraw_times
            return float(np.median(t)) if t else 0.0

        @property
        def mode(self):
            """``"continuous"`` (redraw at every slider position) or ``"debounced"``."""
            return "continuous" if self.redraw_seconds < REDRAW_BUDGET else "debounced"

        def redraw(self):
            """Draw the figure for the current values into the output area."""
            self._pending = None
            start = time.perf_counter()
            try:
                fig = self._make_figure(**self.values())
            except Exception:           # show the error where the figure would be
                self.output.outputs = ({"output_type": "stream", "name": "stderr",
                                        "text": traceback.format_exc()},)
                raise
            # replace the output area's content through the widget's own state rather than
            # clear_output messages, which non-interactive runners do not all accept
            self.output.outputs = ()
            self.output.append_display_data(fig)
            if self._first_png is None:
                self._first_png = _png(fig)
            plt.close(fig)
            self.redraw_times.append(time.perf_counter() - start)

        def _redraw_later(self):
            try:
                self.redraw()
            except Exception:           # already shown in the output area
                pass

        def _on_change(self, change=None):
            loop = _running_loop()
            if self.mode == "continuous" or loop is None:
                # fast enough to follow the hand (or no event loop to defer to: a script)
                if self._pending is not None:
                    self._pending.cancel()
                self.redraw()
                return
            if self._pending is not None:
                self._pending.cancel()
            self._pending = loop.call_later(DEBOUNCE, self._redraw_later)

        def static_html(self, max_frames=MAX_FRAMES, dpi=FRAME_DPI):
            """The website version: precomputed frames switched by a JavaScript slider."""
            return _static_html(self._make_figure, self._names, self._values, self._initial,
                                max_frames=max_frames, dpi=dpi)

        def _repr_mimebundle_(self, include=None, exclude=None):
            data = dict(super()._repr_mimebundle_(include=include, exclude=exclude) or {})
            # a frontend without the widget (a static renderer) shows the initial figure ...
            data["image/png"] = base64.b64encode(self._first_png).decode("ascii")
            data["text/plain"] = "interactive figure: run the notebook to move the sliders"
            # ... or, when the book is built, the website version
            if os.environ.get(STATIC_ENV):
                data["text/html"] = self.static_html()
            return data

    _EXPLORER_CLASS = Explorer
    return Explorer


def explorer(make_figure, params, initial=None):
    """The generic explorer: one slider per parameter, redrawing ``make_figure(**values)``.

    Parameters
    ----------
    make_figure : callable
        ``make_figure(**values)`` returns a matplotlib Figure for one value of every parameter.
    params : dict
        Parameter name -> the sequence of values its slider walks through (numbers or strings).
        The same finite grid is what the website precomputes, so keep it short (about 5 to 20
        values per parameter).
    initial : dict, optional
        Initial value of some parameters (each must be one of its values); by default the
        middle value.

    Returns
    -------
    Explorer
        An ipywidgets container (sliders, then the figure). Its rich display also carries a
        PNG of the initial figure and, in the book build, the website version
        (:meth:`Explorer.static_html`).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> def line(slope, colour):
    ...     fig, ax = plt.subplots()
    ...     ax.plot([0, 1], [0, slope], color=colour)
    ...     return fig
    >>> box = explorer(line, {"slope": [0.5, 1.0, 2.0], "colour": ["k", "r"]})
    >>> box.values()
    {'slope': 1.0, 'colour': 'r'}
    >>> box.sliders["slope"].value = 2.0          # redraws
    >>> len(box.redraw_times)
    2
    """
    if not callable(make_figure):
        raise ValueError("make_figure must be a callable returning a matplotlib Figure")
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict: name -> sequence of values")
    initial = {} if initial is None else dict(initial)
    unknown = set(initial) - set(params)
    if unknown:
        raise ValueError(f"initial names unknown parameters: {sorted(unknown)}")
    start = {}
    clean = {}
    for name, values in params.items():
        values = list(values)
        if not values:
            raise ValueError(f"params[{name!r}] must hold at least one value")
        if len({_fmt(v) for v in values}) != len(values):
            raise ValueError(f"params[{name!r}] holds repeated values")
        value = initial.get(name, values[len(values) // 2])
        if value not in values:
            raise ValueError(f"initial[{name!r}] = {value!r} is not one of params[{name!r}]")
        start[name] = value
        clean[name] = values
    return _explorer_class()(make_figure, clean, start)


def _with(values, value):
    """``values`` with ``value`` added (sorted), so an initial value is always on the grid."""
    return sorted(set(float(v) for v in values) | {float(value)})


def ou_marginal_figure(mixture, t, n=4000, seed=0, ax=None, bins=60):
    """Density of q_t (closed form) over a histogram of n exact samples of X_t (1-D mixtures)."""
    import matplotlib.pyplot as plt

    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
        raise ValueError("mixture must be a 1-D GaussianMixture")
    t = check_float(t, "t", low=0.0)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    q = mixture.at(t)
    x = q.sample(n, seed)[:, 0]
    grid = np.linspace(-4.5, 4.5, 400)
    if ax is None:
        _, ax = plt.subplots()
    ax.hist(x, bins=bins, range=(-4.5, 4.5), density=True, alpha=0.35, label=f"{n} samples of $X_t$")
    if q.has_density:
        ax.plot(grid, q.pdf(grid[:, None]), label="$q_t$ (closed form)")
    ax.plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), ls="--", color="0.4",
            label=r"$\mathcal{N}(0,1)$")
    ax.set(xlabel="$x$", ylabel="density", title=f"$t = {t:.2f}$", ylim=(0, 1.0))
    ax.legend(loc="upper left")
    return ax


OU_TIMES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def ou_marginal_explorer(mixture, t0=0.3, n=4000, seed=0):
    """A slider over t that redraws :func:`ou_marginal_figure`."""
    import matplotlib.pyplot as plt

    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
        raise ValueError("mixture must be a 1-D GaussianMixture")
    t0 = check_float(t0, "t0", low=0.0, high=3.0)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)

    def make_figure(t):
        fig, ax = plt.subplots()
        ou_marginal_figure(mixture, t, n=n, seed=seed, ax=ax)
        return fig

    return explorer(make_figure, {"t": _with(OU_TIMES, t0)}, initial={"t": t0})


def tweedie_denoiser_figure(mixture, sigma, ax=None, n_arrows=15, lim=3.4):
    """Tweedie's denoiser over a 2-D mixture: arrows from x~ to E[X | X + sigma N = x~].

    The arrows are drawn to scale (each ends at the denoised point), on top of the density of
    the noisy observation; the posterior mean is computed from the score of the noised law
    alone (:func:`companion.score_matching.tweedie_mean`), and the component means of the
    data are marked.
    """
    import matplotlib.pyplot as plt

    from .score_matching import tweedie_mean

    if not isinstance(mixture, GaussianMixture) or mixture.dim != 2:
        raise ValueError("mixture must be a 2-D GaussianMixture")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    n_arrows = check_int(n_arrows, "n_arrows", low=2)
    lim = check_float(lim, "lim", low=0.0, low_open=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    noisy = mixture.channel(1.0, sigma)
    fine = np.linspace(-lim, lim, 161)
    gx, gy = np.meshgrid(fine, fine)
    dens = noisy.pdf(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    ax.contourf(gx, gy, dens, levels=12, cmap="Blues", alpha=0.55)
    coarse = np.linspace(-0.9 * lim, 0.9 * lim, n_arrows)
    ax_, ay_ = np.meshgrid(coarse, coarse)
    pts = np.column_stack([ax_.ravel(), ay_.ravel()])
    den = tweedie_mean(mixture, pts, 1.0, sigma)
    ax.quiver(pts[:, 0], pts[:, 1], den[:, 0] - pts[:, 0], den[:, 1] - pts[:, 1],
              angles="xy", scale_units="xy", scale=1.0, width=0.004, color="#c0504d")
    ax.scatter(mixture.means[:, 0], mixture.means[:, 1], s=12, color="k", zorder=3,
               label="component means")
    ax.grid(False)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel=r"$\tilde x_1$",
           ylabel=r"$\tilde x_2$", title=rf"$\sigma = {sigma:.2f}$")
    return ax


TWEEDIE_SIGMAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)


def tweedie_denoiser_explorer(mixture, sigma0=0.5):
    """A slider over the noise level sigma that redraws :func:`tweedie_denoiser_figure`."""
    import matplotlib.pyplot as plt

    if not isinstance(mixture, GaussianMixture) or mixture.dim != 2:
        raise ValueError("mixture must be a 2-D GaussianMixture")
    sigma0 = check_float(sigma0, "sigma0", low=0.05, high=2.0)

    def make_figure(sigma):
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        tweedie_denoiser_figure(mixture, sigma, ax=ax)
        return fig

    return explorer(make_figure, {"sigma": _with(TWEEDIE_SIGMAS, sigma0)},
                    initial={"sigma": sigma0})


def _density_grid(mixture, lim, n_grid=121):
    g = np.linspace(-lim, lim, n_grid)
    X, Y = np.meshgrid(g, g, indexing="xy")
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    return X, Y, mixture.pdf(pts).reshape(X.shape)


def _check_flow_args(target, T, grid):
    from .samplers import _check_grid

    if not isinstance(target, GaussianMixture) or target.dim != 2:
        raise ValueError("target must be a 2-D GaussianMixture")
    T = check_float(T, "T", low=0.0, low_open=True)
    return T, _check_grid(grid, T)


def reverse_flow_figure(target, T, grid, n=1500, seed=0, snapshots=(0.0, 0.6, 0.85, 1.0),
                        methods=("ei", "heun"), lim=3.5):
    """Particles of reverse-time samplers at a few fractions of the run, one row per method.

    Each panel shows the particles over the contours of the exact marginal q_{T-t} at that
    time, so the particles should sit on the density they are meant to follow.
    """
    import matplotlib.pyplot as plt

    from .samplers import sample

    T, grid = _check_flow_args(target, T, grid)
    n = check_int(n, "n", low=1)
    fig, axes = plt.subplots(len(methods), len(snapshots),
                             figsize=(2.6 * len(snapshots), 2.7 * len(methods)),
                             squeeze=False, sharex=True, sharey=True)
    for r, method in enumerate(methods):
        path = sample(target, T, grid, n, seed=seed, method=method, return_path=True)
        for c, frac in enumerate(snapshots):
            k = int(round(frac * (grid.size - 1)))
            ax = axes[r, c]
            X, Y, Z = _density_grid(target.at(T - grid[k]), lim)
            ax.contour(X, Y, Z, levels=6, colors="0.6", linewidths=0.6)
            ax.scatter(path[:, k, 0], path[:, k, 1], s=1.5, alpha=0.5, color="#1f4e79")
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
            if r == 0:
                ax.set_title(f"$t = {grid[k]:.2f}$")
            if c == 0:
                ax.set_ylabel({"em": "Euler-Maruyama", "ei": "exp. integrator (SDE)",
                               "heun": "Heun (PF-ODE)", "pc": "predictor-corrector"}[method])
    fig.tight_layout()
    return fig


def reverse_flow_animation(target, T, grid, n=600, seed=0, method="ei", frames=16, lim=3.5):
    """A JavaScript animation (matplotlib's ``to_jshtml``) of particles running a sampler.

    It plays in a browser without a Python kernel, so the static website shows it moving.
    """
    import matplotlib.pyplot as plt
    from matplotlib import animation
    from IPython.display import HTML

    from .samplers import sample

    T, grid = _check_flow_args(target, T, grid)
    frames = check_int(frames, "frames", low=2)
    path = sample(target, T, grid, check_int(n, "n", low=1), seed=seed, method=method,
                  return_path=True)
    idx = np.unique(np.round(np.linspace(0, grid.size - 1, frames)).astype(int))
    fig, ax = plt.subplots(figsize=(3.8, 3.8), dpi=72)
    X, Y, Z = _density_grid(target, lim)
    ax.contour(X, Y, Z, levels=6, colors="0.7", linewidths=0.6)
    pts = ax.scatter(path[:, 0, 0], path[:, 0, 1], s=2, alpha=0.6, color="#1f4e79")
    title = ax.set_title("")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")

    def update(j):
        k = idx[j]
        pts.set_offsets(path[:, k, :])
        title.set_text(f"{method}: reverse time t = {grid[k]:.2f} of {grid[-1]:.2f}")
        return pts, title

    anim = animation.FuncAnimation(fig, update, frames=idx.size, interval=150, blit=False)
    html = anim.to_jshtml(default_mode="loop")
    plt.close(fig)
    # matplotlib links Font Awesome 4 from a CDN for the player's buttons; the book must work
    # offline, and its theme already ships Font Awesome, so drop the external stylesheet
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    return HTML(html)


SAMPLER_STEPS = (2, 3, 5, 10, 20, 50, 100, 200)


def sampler_explorer(target, T=3.0, delta=0.01, n=1500, seed=0):
    """Sliders for the number of steps, the schedule and the sampler.

    Shows the sampler's output particles over the contours of q_delta and reports how far
    their mean and covariance are from those of q_delta (Monte Carlo and discretisation error
    together).
    """
    import matplotlib.pyplot as plt

    from . import schedules
    from .samplers import METHODS, sample

    if not isinstance(target, GaussianMixture) or target.dim != 2:
        raise ValueError("target must be a 2-D GaussianMixture")
    T = check_float(T, "T", low=1.0)
    delta = check_float(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    n = check_int(n, "n", low=2)
    seed = check_seed(seed)
    q_delta = target.at(delta)
    contours = _density_grid(q_delta, 3.5)

    def grid_for(steps, schedule):
        if schedule == "uniform":
            return schedules.uniform(T, steps, delta=delta)
        # kappa chosen so that the BBDD23 grid has about the requested number of steps
        kappa = (T - 1 + np.log(1 / delta)) / steps
        return schedules.bbdd23(T, delta, min(kappa, 1.0))

    def make_figure(steps, schedule, sampler):
        grid = grid_for(steps, schedule)
        y = sample(target, T, grid, n, seed=seed, method=sampler)
        fig, ax = plt.subplots(figsize=(4.4, 4.2))
        ax.contour(*contours, levels=6, colors="0.6", linewidths=0.6)
        ax.scatter(y[:, 0], y[:, 1], s=2, alpha=0.5, color="#1f4e79")
        err = np.linalg.norm(y.mean(0) - q_delta.mean()) + np.linalg.norm(np.cov(y.T) - q_delta.cov())
        ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), aspect="equal",
               title=f"{sampler}, {grid.size - 1} steps ({schedule}); "
                     f"moment error {err:.3f}")
        return fig

    return explorer(make_figure, {"steps": list(SAMPLER_STEPS),
                                  "schedule": ["uniform", "bbdd23"],
                                  "sampler": list(METHODS)},
                    initial={"steps": 20, "schedule": "uniform", "sampler": "ei"})


# ---- chapter 04: Girsanov and path-space KL ----
def girsanov_figure(gap, T=1.0, n=3000, n_paths=25, seed=0):
    """Two OU-type diffusions whose drifts differ by the constant ``gap``.

    Q: ``dX = (-X + gap) dt + sqrt 2 dB``, P: ``dX = -X dt + sqrt 2 dB``, both from 0. Left:
    a few paths of each. Right: histograms of ``log(dQ/dP)`` along Q-paths and along P-paths
    (from :func:`companion.girsanov.log_ratio_paths`), with their exact Gaussian laws
    ``N(+-gap^2 T / 4, gap^2 T / 2)``; the title reads the path KL ``gap^2 T / 4``.
    """
    import matplotlib.pyplot as plt
    from scipy import stats

    from .girsanov import Drift, log_ratio_paths

    gap = check_float(gap, "gap", low=0.0, low_open=True)
    T = check_float(T, "T", low=0.0, low_open=True)
    n = check_int(n, "n", low=10)
    n_paths = check_int(n_paths, "n_paths", low=1, high=n)
    seed = check_seed(seed)
    q, p = Drift([[-1.0]], c=[gap]), Drift([[-1.0]])
    x0 = np.zeros((n, 1))
    steps = 50
    paths, lr = {}, {}
    for world in ("q", "p"):
        path, r = log_ratio_paths(q, p, x0, T, steps, seed, world=world, return_path=True)
        paths[world], lr[world] = path[:n_paths, :, 0], r
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    t = np.linspace(0, T, steps + 1)
    colors = {"q": "C0", "p": "C1"}
    for world, label in (("q", "Q (drift $-x + D$)"), ("p", "P (drift $-x$)")):
        ax1.plot(t, paths[world].T, color=colors[world], lw=0.6, alpha=0.6)
        ax1.plot([], [], color=colors[world], label=label)
    ax1.set(xlabel="$t$", ylabel="$X_t$", title="paths")
    ax1.legend(fontsize=8, loc="upper left")
    kl = gap**2 * T / 4
    sd = np.sqrt(gap**2 * T / 2)
    lo, hi = -kl - 4.5 * sd, kl + 4.5 * sd
    grid = np.linspace(lo, hi, 300)
    bins = np.linspace(lo, hi, 50)
    for world, sign, label in (("q", 1, "under Q"), ("p", -1, "under P")):
        ax2.hist(lr[world], bins=bins, density=True, alpha=0.45, color=colors[world], label=label)
        ax2.plot(grid, stats.norm.pdf(grid, sign * kl, sd), color=colors[world], lw=1.5)
    ax2.axvline(0.0, color="0.3", lw=0.8, ls=":")
    ax2.set(xlabel=r"$\log(\mathrm{d}Q/\mathrm{d}P)$", ylabel="density",
            title=f"KL(Q||P) = $D^2T/4$ = {kl:.3f}")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def girsanov_explorer(T=1.0, n=3000, seed=0):
    """Slider on the drift gap D of :func:`girsanov_figure`."""
    gaps = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]
    return explorer(lambda gap: girsanov_figure(gap, T=T, n=n, seed=seed), {"gap": gaps},
                    initial={"gap": 1.0})


__all__ += ["girsanov_figure", "girsanov_explorer"]


# ---- chapter 05: stochastic localization ----
#: signal-to-noise times walked by the localization explorer's slider
LOCALIZATION_S = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0,
                  20.0, 35.0, 60.0)


def localization_figure(target, s, n=1500, seed=0, lim=3.5):
    """The tilt mu_s along one SL path next to the OU cloud q_{t(s)} (2-D mixtures).

    Left: contours of the tilted law at (U_s, s) for one path U_s = s x* + B_s (the hidden
    x* marked by a star). Right: exact draws of q_{t(s)}, t(s) = (1/2) log(1 + 1/s), with the
    same path seen in OU coordinates, X = U_s / sqrt(s(s+1)). The path is drawn on the grid
    ``LOCALIZATION_S`` so that moving ``s`` follows a single path.
    """
    import matplotlib.pyplot as plt

    from . import localization as sl
    from .time import ou_time

    if not isinstance(target, GaussianMixture) or target.dim != 2 or not target.has_density:
        raise ValueError("target must be a 2-D GaussianMixture with a density")
    s = check_float(s, "s", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    grid = np.unique(np.r_[0.0, LOCALIZATION_S, s])
    p = sl.paths(target, grid, 1, seed, method="exact", return_cov=False)
    j = int(np.searchsorted(grid, s))
    u = p.U[0, j]
    nu = sl.tilt(target, u, s)
    t, x = sl.sl_to_ou(s, u)
    fig, axes = plt.subplots(1, 2, figsize=(8.6, 4.2))
    X, Y, Z = _density_grid(nu, lim, n_grid=161)
    axes[0].contourf(X, Y, Z, levels=12, cmap="Blues")
    axes[0].plot(*p.xstar[0], "*", color="#c0504d", ms=12, label="hidden $x^*$")
    axes[0].plot(*nu.mean(), "o", color="k", ms=4, label="$a_s(U_s)$")
    axes[0].legend(loc="lower left", fontsize=8)
    axes[0].set(title=f"tilted law $\\mu_s$, s = {s:g}", xlim=(-lim, lim), ylim=(-lim, lim),
                aspect="equal", xlabel="$x_1$", ylabel="$x_2$")
    cloud = target.at(ou_time(s)).sample(n, seed + 1)
    axes[1].scatter(cloud[:, 0], cloud[:, 1], s=2, alpha=0.4, color="#1f4e79")
    axes[1].plot(*x, "o", color="#c0504d", ms=7, label="$U_s/\\sqrt{s(s+1)}$")
    axes[1].legend(loc="lower left", fontsize=8)
    axes[1].set(title=f"reversed OU cloud at t(s) = {t:.3g}", xlim=(-lim, lim),
                ylim=(-lim, lim), aspect="equal", xlabel="$x_1$")
    fig.tight_layout()
    return fig


def localization_explorer(target, seed=0):
    """Slider over s for :func:`localization_figure` (the generic :func:`explorer`)."""
    return explorer(lambda s: localization_figure(target, s, seed=seed),
                    {"s": list(LOCALIZATION_S)}, initial={"s": 0.5})


__all__ += ["localization_figure", "localization_explorer"]


# ---- chapter 06: the BBDD23 proof ----
__all__ += ["bbdd_bound_figure", "bbdd_explorer"]

#: values of the BBDD23 explorer's sliders
BBDD_KAPPA = (0.0125, 0.025, 0.05, 0.1, 0.2, 0.4)
BBDD_T = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)


def bbdd_bound_figure(kappa, T, d=16, c=0.25, delta=1e-3):
    """The BBDD23 schedule and, for data N(0, c I_d) with the exact score, the exact terminal
    KL, the exact path KL and the four terms of the unit-constant bound.

    Left: step sizes against the remaining time with the line kappa min(1, T - t). Right: the
    quantities as bars on a log scale.
    """
    import matplotlib.pyplot as plt

    from . import bbdd, bounds, schedules

    kappa = check_float(kappa, "kappa", low=0.0, high=1.0, low_open=True)
    T = check_float(T, "T", low=1.0)
    d = check_int(d, "d", low=1)
    c = check_float(c, "c", low=0.0, low_open=True)
    g = schedules.bbdd23(T, delta, kappa)
    N = g.size - 1
    kl = bbdd.sampler_kl_gaussian(c, np.zeros(d), T, g)
    path = bbdd.path_kl_gaussian(c, d, T, g)
    terms = bounds.bbdd23_terms(d, N, kappa, T, 0.0)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    rem = T - g[1:]
    ax1.loglog(rem, np.diff(g), "o", ms=2.5)
    r = np.logspace(np.log10(delta), np.log10(T), 100)
    ax1.loglog(r, kappa * np.minimum(1.0, r), "k--", lw=1)
    ax1.set(xlabel="remaining time $T - t_{k+1}$", ylabel=r"step $\gamma_k$",
            title=f"schedule: N = {N} steps")
    names = ["terminal KL", "path KL", r"$\kappa^2 dN$", r"$\kappa dT$", r"$de^{-2T}$"]
    vals = [kl, path, terms[1], terms[2], terms[3]]
    ax2.bar(names, vals, color=["C3", "C1", "0.6", "0.6", "0.6"])
    ax2.set_yscale("log")
    ax2.set_ylim(min(vals) / 3, max(vals) * 3)
    ax2.set(title=f"d = {d}, bound sum {terms.sum():.3g}")
    ax2.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    return fig


def bbdd_explorer(kappa=0.1, T=4.0, d=16):
    """Sliders for kappa and the horizon T on :func:`bbdd_bound_figure` (data N(0, I/4) in
    dimension ``d``)."""
    d = check_int(d, "d", low=1)
    return explorer(lambda kappa, T: bbdd_bound_figure(kappa, T, d=d),
                    {"kappa": list(BBDD_KAPPA), "T": list(BBDD_T)},
                    initial={"kappa": kappa, "T": T})


# ---- chapter 07: guarantees in total variation and Wasserstein distance ----

__all__ += ["tv_bias_figure", "tv_bias_explorer"]

TV_BIAS_T = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)
TV_BIAS_EPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def tv_bias_figure(T=1.25, eps=0.05, T_max=4.0):
    """The counterexample to Theorem 6.2 as extracted (C28), for one horizon and one bias.

    Data N(0, 1), the OU process, the score plus a constant ``eps``: the sampler's output is
    N(2 eps (1 - e^{-T}), 1), whose TV from the data is exact (:func:`gaussian_tv`). Left: TV
    against the horizon with the corrected bound eps sqrt(T/2) and the extracted eps sqrt(T)/2;
    right: TV divided by each bound (above 1 = the bound fails). The chosen T is marked and
    the three numbers are in the title.
    """
    import matplotlib.pyplot as plt
    from scipy.special import ndtr

    from .divergences import gaussian_tv

    T = check_float(T, "T", low=0.0, low_open=True)
    eps = check_float(eps, "eps", low=0.0, low_open=True)
    T_max = check_float(T_max, "T_max", low=T)
    Ts = np.linspace(0.02, T_max, 200)
    # equal variances: TV = 2 Phi(|shift| / 2) - 1 (vectorised; the marked point uses gaussian_tv)
    tv = 2.0 * ndtr(eps * -np.expm1(-Ts)) - 1.0
    good, bad = eps * np.sqrt(Ts / 2), eps * np.sqrt(Ts) / 2
    tv0 = gaussian_tv(2 * eps * -np.expm1(-T), 1.0, 0.0, 1.0)
    g0, b0 = eps * np.sqrt(T / 2), eps * np.sqrt(T) / 2
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.6, 3.4))
    a1.plot(Ts, tv, color="k", label="exact TV")
    a1.plot(Ts, good, color="#1f77b4", label=r"corrected $\varepsilon\sqrt{T/2}$")
    a1.plot(Ts, bad, "--", color="#d62728", label=r"extracted $\varepsilon\sqrt{T}/2$")
    a1.plot([T], [tv0], "o", color="k")
    a1.set(xlabel="horizon $T$", ylabel="total variation")
    a1.legend(fontsize=8)
    a2.plot(Ts, tv / good, color="#1f77b4", label="TV / corrected bound")
    a2.plot(Ts, tv / bad, "--", color="#d62728", label="TV / extracted term")
    a2.axhline(1.0, color="0.5", lw=0.8)
    a2.plot([T, T], [tv0 / g0, tv0 / b0], "o", color="k")
    a2.set(xlabel="horizon $T$", ylabel="ratio (above 1: bound fails)")
    a2.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"T = {T:g}, eps = {eps:g}: TV {tv0:.4g}, corrected {g0:.4g}, "
                 f"extracted {b0:.4g} (ratio {tv0 / b0:.4f})", fontsize=9)
    fig.tight_layout()
    return fig


def tv_bias_explorer(T=1.25, eps=0.05):
    """Sliders for the horizon T and the score bias eps on :func:`tv_bias_figure`."""
    return explorer(tv_bias_figure, {"T": list(TV_BIAS_T), "eps": list(TV_BIAS_EPS)},
                    initial={"T": T, "eps": eps})


# ---- chapter 08: the I-MMSE relation and Figure 1 of Reeves-Pfister ----
def _immse_area(target, grid, nodes=20):
    """int_0^{t_n} M(s) ds by Gauss-Legendre on each step (M is analytic on each step)."""
    from . import info

    x, w = np.polynomial.legendre.leggauss(nodes)
    total = 0.0
    for a, b in zip(grid[:-1], grid[1:]):
        s = 0.5 * (a + b) + 0.5 * (b - a) * x
        total += 0.5 * (b - a) * float(np.sum(w * info.mmse(target, s)))
    return total


def immse_figure(target, T=4.0, n=8, alpha=1.0, ax=None, chain=True, bounds=False, curve=None,
                 grid=None, title=None):
    """Figure 1 of Reeves and Pfister: the MMSE curve, its left Riemann sum and the two areas.

    Half the area under ``M`` on [0, t_n] (blue) is ``I(t_n)``; half the area between the
    rectangles of heights ``M(t_{k-1})`` and the curve (red) is ``Delta_n``. Each number is
    printed two ways: from the areas (Gauss-Legendre quadrature of ``M`` on each step) and from
    the information side (``I`` directly; ``Delta_n`` by the chain rule when ``chain`` is true,
    else by Lemma 2). With ``bounds``, the bounds of Theorems 1 and 2 are printed too.
    ``curve`` (optional) is a fast vectorised stand-in for ``M`` (the explorer passes a
    spline); it is used for drawing and areas, while I(t_n) and Delta_n stay exact. ``grid``
    (optional) replaces the geometric grid of ``n`` and ``alpha``; ``title`` names it.
    """
    import matplotlib.pyplot as plt

    from . import info

    T = check_float(T, "T", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    alpha = check_float(alpha, "alpha", low=0.0, low_open=True)
    Mf = (lambda x: info.mmse(target, x)) if curve is None else curve
    if grid is None:
        grid = info.geometric_grid(T, n, alpha)
    else:
        grid = info.check_grid(grid)
        if abs(grid[-1] - T) > 1e-12 * T or grid.size != n + 1:
            raise ValueError("grid must have n + 1 points and end at T")
    s = np.linspace(0.0, T, 241)
    M = Mf(s)
    Mk = Mf(grid)
    xg, wg = np.polynomial.legendre.leggauss(20)
    a, b = grid[:-1, None], grid[1:, None]
    nodes = 0.5 * (a + b) + 0.5 * (b - a) * xg
    area = float(np.sum(0.5 * (b - a) * wg * Mf(nodes.ravel()).reshape(nodes.shape)))
    rect = float(np.sum(np.diff(grid) * Mk[:-1]))
    I_T = info.mutual_information(target, T)
    dn = info.delta_n(target, grid, method="chain" if chain else "immse")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
    else:
        fig = ax.figure
    ax.fill_between(s, 0.0, M, color="#1f4e79", alpha=0.35, lw=0)
    for lo, hi, h, h1 in zip(grid[:-1], grid[1:], Mk[:-1], Mk[1:]):
        ss = np.linspace(lo, hi, 30)
        ax.fill_between(ss, np.interp(ss, s, M), h, color="#c0504d", alpha=0.55, lw=0)
        ax.plot([lo, lo, hi, hi], [0.0, h, h, h1], color="#c0504d", lw=0.8)
    ax.plot(s, M, color="#1f4e79", lw=1.8)
    ax.set(xlabel="SNR $t$", ylabel="MMSE $M(t)$", xlim=(0.0, T), ylim=(0.0, 1.05 * M[0]))
    how = "chain rule" if chain else "Lemma 2"
    lines = [f"$I(t_n)$: blue area/2 = {area / 2:.6f}, direct = {I_T:.6f}",
             rf"$\Delta_n$: red area/2 = {(rect - area) / 2:.6f}, {how} = {dn:.6f}"]
    if bounds:
        lines.append(f"Thm 1 bound {info.theorem1_bound(target, grid):.4f}, "
                     f"Thm 2 bound {info.theorem2_bound(target, T, n, alpha):.4f}")
    ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top",
            fontsize=8, bbox=dict(facecolor="white", alpha=0.85, edgecolor="0.8"))
    if title is None:
        title = "uniform steps" if alpha == 1.0 else rf"geometric steps, $\alpha$ = {alpha:g}"
    ax.set_title(f"n = {n}, {title}")
    return fig


def immse_explorer(target, T=4.0):
    """Sliders for n and alpha redrawing :func:`immse_figure` with the Theorem 1-2 bounds."""
    import matplotlib.pyplot as plt
    from scipy.interpolate import CubicSpline

    from . import info

    knots = np.linspace(0.0, T, 161)
    spline = CubicSpline(knots, info.mmse(target, knots))

    def make(n, alpha):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        immse_figure(target, T=T, n=n, alpha=alpha, ax=ax, chain=False, bounds=True,
                     curve=spline)
        return fig

    return explorer(make, {"n": [2, 3, 4, 6, 8, 12, 16, 24, 32],
                           "alpha": [0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 1.75, 2.0]},
                    initial={"n": 8, "alpha": 1.0})


__all__ += ["immse_figure", "immse_explorer"]


# ---- chapter 10: ODE samplers and consistency models ----
__all__ += ["cd_ct_figure", "cd_ct_explorer"]


def cd_ct_figure(t=1.0, delta=0.1, n=1500, seed=0, show_rate=True):
    """Consistency-distillation pairs against independent-noise training pairs for a point mass.

    Left panel: the pairs ``(Y+, Y-)`` of both kinds (VE with sigma(t) = t). Right panel (with
    ``show_rate``): the exact ``W_2^2 / (t^2 d)`` between the two laws against ``delta / t``, with
    its limit ``2 (2 - sqrt 2)``.
    """
    import matplotlib.pyplot as plt

    from .consistency import cd_ct_w2_squared, consistency_pairs
    from .targets import discrete

    t = check_float(t, "t", low=0.0, low_open=True)
    delta = check_float(delta, "delta", low=0.0, high=t, high_open=True)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    point = discrete([[0.0]], [1.0])
    cd = consistency_pairs(point, t, delta, n, seed, kind="cd")
    ct = consistency_pairs(point, t, delta, n, seed, kind="ct")
    if show_rate:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(8.6, 3.8))
    else:
        fig, ax = plt.subplots(figsize=(4.4, 4.2))
    lim = 3.5 * t
    ax.scatter(ct[0][:, 0], ct[1][:, 0], s=3, alpha=0.35, color="#e67e22", label="CT, independent noise")
    ax.scatter(cd[0][:, 0], cd[1][:, 0], s=3, alpha=0.6, color="#1f4e79", label="CD, Euler step")
    w2 = cd_ct_w2_squared(t, delta, 1)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="$Y_+$", ylabel="$Y_-$",
           title=f"$t = {t:g}$, $\\delta = {delta:g}$: $W_2^2 = {w2:.3f}$")
    ax.legend(loc="upper left", fontsize="small")
    if show_rate:
        r = np.geomspace(1e-3, 0.5, 60)
        ax2.plot(r, [cd_ct_w2_squared(1.0, x, 1) for x in r], label="exact")
        ax2.axhline(2 * (2 - np.sqrt(2)), ls="--", color="0.4", label=r"limit $2(2-\sqrt{2})$")
        ax2.set(xscale="log", xlabel=r"$\delta / t$", ylabel=r"$W_2^2 / (t^2 d)$")
        ax2.legend(loc="lower left", fontsize="small")
    fig.tight_layout()
    return fig


def cd_ct_explorer():
    """Sliders over t and delta redrawing the CD/CT pairs of :func:`cd_ct_figure`."""
    ts = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
    fractions = [0.01, 0.05, 0.1, 0.2, 0.3, 0.5]

    def make(t, delta_over_t):
        return cd_ct_figure(t=t, delta=delta_over_t * t, n=800, show_rate=False)

    return explorer(make, {"t": ts, "delta_over_t": fractions},
                    initial={"t": 1.0, "delta_over_t": 0.1})


# ---- chapter 11: learning and fine-tuning the score ----
__all__ += ["finetune_figure", "finetune_explorer"]


def finetune_figure(problem, theta=0.3, show_kl=True, mc=None):
    """The linear-quadratic fine-tuning example: ``J(theta)`` with the tangent given by the
    policy gradient at ``theta`` and, with ``show_kl``, the terminal and path KL against theta.

    ``mc`` = (mean, standard error) of a Monte Carlo policy-gradient estimate, drawn as the slope
    of a second short segment with its five-standard-error range.
    """
    import matplotlib.pyplot as plt

    from .finetune import LQFineTuning

    if not isinstance(problem, LQFineTuning):
        raise ValueError("problem must be an LQFineTuning")
    theta = check_float(theta, "theta", low=0.0, high=1.0)
    th = np.linspace(0.0, 1.0, 201)
    if show_kl:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(8.6, 3.6))
    else:
        fig, ax = plt.subplots(figsize=(4.6, 3.6))
    ax.plot(th, problem.J(th), label=r"$J(\theta)$")
    slope = problem.dJ(theta)
    j0 = float(problem.J(theta))
    seg = np.linspace(theta - 0.25, theta + 0.25, 2)
    ax.plot(seg, j0 + slope * (seg - theta), color="#c0392b", label="policy-gradient tangent")
    ax.plot([theta], [j0], "o", color="#c0392b", ms=4)
    if mc is not None:
        m, se = mc
        ax.fill_between(seg, j0 + (m - 5 * se) * (seg - theta), j0 + (m + 5 * se) * (seg - theta),
                        color="#c0392b", alpha=0.2, label="Monte Carlo slope, 5 se")
    ax.set(xlabel=r"$\theta$", ylabel=r"$J(\theta)$",
           title=rf"$\sigma_e = {problem.sigma_e:g}$: $dJ/d\theta = {slope:.3f}$ at $\theta = {theta:g}$")
    ax.legend(loc="lower right", fontsize="small")
    if show_kl:
        ax2.plot(th, problem.path_kl(th), label="path KL (running cost)")
        ax2.plot(th, problem.terminal_kl(th), label="terminal KL")
        ax2.set(xlabel=r"$\theta$", ylabel="KL")
        ax2.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig


def finetune_explorer():
    """Sliders over theta and the exploration level sigma_e for :func:`finetune_figure`."""
    from .finetune import LQFineTuning

    def make(theta, sigma_e):
        return finetune_figure(LQFineTuning(sigma_e=sigma_e), theta=theta, show_kl=False)

    return explorer(make, {"theta": [round(0.1 * k, 1) for k in range(11)],
                           "sigma_e": [0.1, 0.3, 0.5, 1.0]},
                    initial={"theta": 0.3, "sigma_e": 0.3})


# ---- chapter 09: moment matching ----
def moment_matching_figure(n=8, kernel="mean", T=4.0, n_samples=20_000, seed=0, ax=None,
                           delta=None):
    """The sampler's output ``Z_n / t_n`` for a Rademacher target against the law it should have.

    Histogram of ``n_samples`` runs of the sampler on ``n`` uniform steps of ``[0, T]`` with the
    mean kernel of eq. 1 (``kernel="mean"``) or the Remark 5 kernel (``"moment2"``); the curve
    is the density of ``Y_n / t_n = X + W_n / t_n``, ``(N(1, 1/T) + N(-1, 1/T))/2``. The title
    gives the exact ``Delta_n`` (chain rule, :func:`companion.moments.rademacher_delta_n`), or
    ``delta`` when it is passed (the explorer precomputes it).
    """
    import matplotlib.pyplot as plt

    from . import info, moments, targets

    n = check_int(n, "n", low=1)
    T = check_float(T, "T", low=0.0, low_open=True)
    if kernel not in ("mean", "moment2"):
        raise ValueError(f"kernel must be 'mean' or 'moment2', got {kernel!r}")
    grid = np.linspace(0.0, T, n + 1)
    z = info.sampler(targets.rademacher(), grid, n_samples, seed=seed, kernel=kernel)[:, -1, 0] / T
    if delta is None:
        delta = moments.rademacher_delta_n(grid, kernel, inner=40, outer_width=1.0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
    else:
        fig = ax.figure
    x = np.linspace(-3.0, 3.0, 401)
    sd = 1.0 / np.sqrt(T)
    dens = 0.5 * (np.exp(-0.5 * ((x - 1) / sd) ** 2) + np.exp(-0.5 * ((x + 1) / sd) ** 2))
    dens /= sd * np.sqrt(2 * np.pi)
    ax.hist(z, bins=np.linspace(-3.0, 3.0, 81), density=True, color="#c0504d", alpha=0.55,
            label=r"sampler $Z_n/t_n$")
    ax.plot(x, dens, color="#1f4e79", lw=1.8, label=r"target law of $Y_n/t_n$")
    ax.set(xlabel="$x$", ylabel="density", xlim=(-3.0, 3.0), ylim=(0.0, 1.35 * dens.max()))
    ax.legend(loc="upper right", fontsize=8)
    name = "mean kernel" if kernel == "mean" else "Remark 5 kernel"
    ax.set_title(rf"{name}, n = {n}: $\Delta_n$ = {delta:.3e}")
    return fig


def moment_matching_explorer(T=4.0, n_samples=20_000, seed=0):
    """Sliders for the number of steps and the kernel, redrawing :func:`moment_matching_figure`."""
    import matplotlib.pyplot as plt

    from . import moments

    n_values = [1, 2, 4, 8, 16, 32, 64, 128]
    kernels = ["mean", "moment2"]
    table = {(n, k): moments.rademacher_delta_n(np.linspace(0.0, T, n + 1), k, inner=40,
                                                outer_width=1.0)
             for n in n_values for k in kernels}

    def make(n, kernel):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        moment_matching_figure(n, kernel, T=T, n_samples=n_samples, seed=seed, ax=ax,
                               delta=table[(n, kernel)])
        return fig

    return explorer(make, {"n": n_values, "kernel": kernels}, initial={"n": 4, "kernel": "mean"})


__all__ += ["moment_matching_figure", "moment_matching_explorer"]
