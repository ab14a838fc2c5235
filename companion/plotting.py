"""One matplotlib style for the whole book."""
import matplotlib as mpl

__all__ = ["use_book_style", "COLORS"]

#: the book's palette, in the order lines are drawn
COLORS = ["#1f4e79", "#c0504d", "#4f8a3c", "#8064a2", "#d4a017", "#2c9fa3"]

_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}


def use_book_style():
    """Apply the book's matplotlib style (idempotent)."""
    mpl.rcParams.update(_STYLE)
    mpl.rcParams["axes.prop_cycle"] = mpl.cycler(color=COLORS)
