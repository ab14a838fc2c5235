"""Builders for the interactive figures of the chapters.

Each builder returns an ipywidgets container: a slider and an output area that redraws a
matplotlib figure. The figure for the initial value is drawn into the output area at once, so
the cell shows it even before the slider is moved; the chapters also draw a static version
of the same picture, which is what the website shows without a kernel.
"""
import numpy as np

from ._validate import check_float, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["ou_marginal_figure", "ou_marginal_explorer"]


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
