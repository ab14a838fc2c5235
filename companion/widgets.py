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


def cd_ct_explorer():
    """Sliders over t and delta redrawing the CD/CT pairs of :func:`cd_ct_figure`."""
    ts = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
    fractions = [0.01, 0.05, 0.1, 0.2, 0.3, 0.5]

    def make(t, delta_over_t):
        return cd_ct_figure(t=t, delta=delta_over_t * t, n=800, show_rate=False)

    return explorer(make, {"t": ts, "delta_over_t": fractions},
                    initial={"t": 1.0, "delta_over_t": 0.1})
def girsanov_explorer(T=1.0, n=3000, seed=0):
    """Slider on the drift gap D of :func:`girsanov_figure`."""
    gaps = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]
    return explorer(lambda gap: girsanov_figure(gap, T=T, n=n, seed=seed), {"gap": gaps},
                    initial={"gap": 1.0})


__all__ += ["girsanov_figure", "girsanov_explorer"]
# ---- chapter 06: the BBDD23 proof ----
__all__ += ["bbdd_bound_figure"]


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


def immse_figure(target, T=4.0, n=8, alpha=1.0, ax=None, chain=True, bounds=False, curve=None):
    """Figure 1 of Reeves and Pfister: the MMSE curve, its left Riemann sum and the two areas.

    Half the area under ``M`` on [0, t_n] (blue) is ``I(t_n)``; half the area between the
    rectangles of heights ``M(t_{k-1})`` and the curve (red) is ``Delta_n``. Each number is
    printed two ways: from the areas (Gauss-Legendre quadrature of ``M`` on each step) and from
    the information side (``I`` directly; ``Delta_n`` by the chain rule when ``chain`` is true,
    else by Lemma 2). With ``bounds``, the bounds of Theorems 1 and 2 are printed too.
    ``curve`` (optional) is a fast vectorised stand-in for ``M`` (the explorer passes a
    spline); it is used for drawing and areas, while I(t_n) and Delta_n stay exact.
    """
    import matplotlib.pyplot as plt

    from . import info

    T = check_float(T, "T", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    alpha = check_float(alpha, "alpha", low=0.0, low_open=True)
    Mf = (lambda x: info.mmse(target, x)) if curve is None else curve
    grid = info.geometric_grid(T, n, alpha)
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
    ax.set_title(f"n = {n}, " + ("uniform steps" if alpha == 1.0
                                 else rf"geometric steps, $\alpha$ = {alpha:g}"))
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
