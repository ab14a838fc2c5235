"""Builders for the interactive figures of the chapters.

Each builder returns an ipywidgets container: a slider and an output area that redraws a
matplotlib figure. The figure for the initial value is drawn into the output area at once, so
the cell shows it even before the slider is moved; the chapters also draw a static version
of the same picture, which is what the website shows without a kernel.
"""
import re

import numpy as np

from ._validate import check_float, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["explorer", "ou_marginal_figure", "ou_marginal_explorer", "tweedie_denoiser_figure",
           "tweedie_denoiser_explorer", "reverse_flow_figure", "reverse_flow_animation",
           "sampler_explorer"]


def _png(fig):
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _live_figure(children, first_png):
    """A VBox of controls and output that also carries a PNG of its initial state.

    A live Jupyter frontend renders the widget; a static renderer (the book's website, which
    skips the widget's own mime type) shows the PNG, so the page is never blank.
    """
    import base64

    import ipywidgets as w

    class LiveFigure(w.VBox):
        def _repr_mimebundle_(self, include=None, exclude=None):
            data = super()._repr_mimebundle_(include=include, exclude=exclude) or {}
            data = dict(data)
            data["image/png"] = base64.b64encode(first_png).decode("ascii")
            data["text/plain"] = "interactive figure: run the notebook to move the controls"
            return data

    return LiveFigure(children)


def _explorer(controls, header, make_figure):
    """Wire ``controls`` so that any change of their value redraws ``make_figure()``.

    The figure replaces the output area's content through the widget's own state rather than
    clear_output messages, which non-interactive runners (nbval, nbclient) do not all accept;
    the first figure is kept as the static fallback of :func:`_live_figure`.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    out = w.Output()
    first = {}

    def draw(change=None):
        fig = make_figure()
        out.outputs = ()
        out.append_display_data(fig)
        if "png" not in first:
            first["png"] = _png(fig)
        plt.close(fig)

    for c in controls:
        c.observe(draw, names="value")
    draw()
    return _live_figure([header, out], first["png"])


def explorer(make_figure, params, initial=None):
    """The generic explorer: one slider per parameter, redrawing ``make_figure(**values)``.

    Parameters
    ----------
    make_figure : callable
        ``make_figure(**values)`` returns a matplotlib Figure for one value of every parameter.
    params : dict
        Parameter name -> the sequence of values its slider walks through (numbers or strings).
        The same finite grid is what a static rendering can precompute, so keep it short
        (about 5 to 20 values per parameter).
    initial : dict, optional
        Initial value of some parameters (each must be one of its values); by default the
        middle value.

    Returns
    -------
    An ipywidgets container whose rich display also carries a PNG of the initial figure.
    """
    import ipywidgets as w

    if not callable(make_figure):
        raise ValueError("make_figure must be a callable returning a matplotlib Figure")
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict: name -> sequence of values")
    initial = {} if initial is None else dict(initial)
    unknown = set(initial) - set(params)
    if unknown:
        raise ValueError(f"initial names unknown parameters: {sorted(unknown)}")
    sliders = {}
    for name, values in params.items():
        values = list(values)
        if not values:
            raise ValueError(f"params[{name!r}] must hold at least one value")
        value = initial.get(name, values[len(values) // 2])
        if value not in values:
            raise ValueError(f"initial[{name!r}] = {value!r} is not one of params[{name!r}]")
        sliders[name] = w.SelectionSlider(options=values, value=value, description=name,
                                          continuous_update=False)

    def draw():
        return make_figure(**{k: s.value for k, s in sliders.items()})

    return _explorer(list(sliders.values()), w.HBox(list(sliders.values())), draw)


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


def ou_marginal_explorer(mixture, t0=0.3, n=4000, seed=0):
    """A slider over t that redraws :func:`ou_marginal_figure`."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    t0 = check_float(t0, "t0", low=0.0, high=3.0)
    slider = w.FloatSlider(value=t0, min=0.0, max=3.0, step=0.05, description="t",
                           continuous_update=False)
    def make_figure():
        fig, ax = plt.subplots()
        ou_marginal_figure(mixture, slider.value, n=n, seed=seed, ax=ax)
        return fig

    return _explorer([slider], slider, make_figure)


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


def tweedie_denoiser_explorer(mixture, sigma0=0.5):
    """A slider over the noise level sigma that redraws :func:`tweedie_denoiser_figure`."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    if not isinstance(mixture, GaussianMixture) or mixture.dim != 2:
        raise ValueError("mixture must be a 2-D GaussianMixture")
    sigma0 = check_float(sigma0, "sigma0", low=0.05, high=2.0)
    slider = w.FloatSlider(value=sigma0, min=0.05, max=2.0, step=0.05, description="sigma",
                           continuous_update=False)
    def make_figure():
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        tweedie_denoiser_figure(mixture, slider.value, ax=ax)
        return fig

    return _explorer([slider], slider, make_figure)


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


def sampler_explorer(target, T=3.0, delta=0.01, n=1500, seed=0):
    """Controls for the number of steps, the schedule and the sampler.

    Shows the sampler's output particles over the contours of q_delta and reports how far
    their mean and covariance are from those of q_delta (Monte Carlo and discretisation error
    together).
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from . import schedules
    from .samplers import METHODS, sample

    if not isinstance(target, GaussianMixture) or target.dim != 2:
        raise ValueError("target must be a 2-D GaussianMixture")
    T = check_float(T, "T", low=1.0)
    delta = check_float(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    steps = w.IntSlider(value=20, min=2, max=200, step=1, description="steps",
                        continuous_update=False)
    schedule = w.Dropdown(options=["uniform", "bbdd23"], value="uniform", description="schedule")
    method = w.Dropdown(options=list(METHODS), value="ei", description="sampler")
    q_delta = target.at(delta)

    def grid_for():
        if schedule.value == "uniform":
            return schedules.uniform(T, steps.value, delta=delta)
        # kappa chosen so that the BBDD23 grid has about the requested number of steps
        kappa = (T - 1 + np.log(1 / delta)) / steps.value
        return schedules.bbdd23(T, delta, min(kappa, 1.0))

    def make_figure():
        grid = grid_for()
        y = sample(target, T, grid, n, seed=seed, method=method.value)
        fig, ax = plt.subplots(figsize=(4.4, 4.2))
        X, Y, Z = _density_grid(q_delta, 3.5)
        ax.contour(X, Y, Z, levels=6, colors="0.6", linewidths=0.6)
        ax.scatter(y[:, 0], y[:, 1], s=2, alpha=0.5, color="#1f4e79")
        err = np.linalg.norm(y.mean(0) - q_delta.mean()) + np.linalg.norm(np.cov(y.T) - q_delta.cov())
        ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), aspect="equal",
               title=f"{method.value}, {grid.size - 1} steps ({schedule.value}); "
                     f"moment error {err:.3f}")
        return fig

    return _explorer([steps, schedule, method], w.HBox([steps, schedule, method]), make_figure)


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
