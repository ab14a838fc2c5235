"""Builders for the interactive figures of the chapters.

Each builder returns an ipywidgets container: a slider and an output area that redraws a
matplotlib figure. The figure for the initial value is drawn into the output area at once, so
the cell shows it even before the slider is moved; the chapters also draw a static version
of the same picture, which is what the website shows without a kernel.
"""
import numpy as np

from ._validate import check_float, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["ou_marginal_figure", "ou_marginal_explorer", "tweedie_denoiser_figure",
           "tweedie_denoiser_explorer"]


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
    out = w.Output()

    def draw(change=None):
        # Replace the output through the widget's own state rather than clear_output
        # messages, which non-interactive runners (nbval, nbclient) do not all accept.
        fig, ax = plt.subplots()
        ou_marginal_figure(mixture, slider.value, n=n, seed=seed, ax=ax)
        out.outputs = ()
        out.append_display_data(fig)
        plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return w.VBox([slider, out])


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
    out = w.Output()

    def draw(change=None):
        # Same pattern as ou_marginal_explorer: replace the outputs, never clear_output.
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        tweedie_denoiser_figure(mixture, slider.value, ax=ax)
        out.outputs = ()
        out.append_display_data(fig)
        plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return w.VBox([slider, out])
