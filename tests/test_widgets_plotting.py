"""The interactive-figure builders and the book style."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import companion as cp  # noqa: E402


def test_explorer_builds_and_redraws():
    box = cp.widgets.ou_marginal_explorer(cp.targets.bimodal(), t0=0.5, n=500)
    slider, out = box.children
    assert slider.value == 0.5 and len(out.outputs) == 1
    slider.value = 1.0                         # the observer redraws into the same output
    assert len(out.outputs) == 1


def test_figure_draws_density_and_histogram():
    ax = cp.widgets.ou_marginal_figure(cp.targets.bimodal(), 0.3, n=500)
    assert len(ax.lines) == 2 and len(ax.patches) > 0
    ax = cp.widgets.ou_marginal_figure(cp.targets.rademacher(1), 0.0, n=100)   # no density at t=0
    assert len(ax.lines) == 1


def test_widget_bad_input():
    with pytest.raises(ValueError, match="mixture"):
        cp.widgets.ou_marginal_figure(cp.targets.ring(), 0.3)
    with pytest.raises(ValueError, match="t0"):
        cp.widgets.ou_marginal_explorer(cp.targets.bimodal(), t0=5.0)
    with pytest.raises(ValueError, match="t"):
        cp.widgets.ou_marginal_figure(cp.targets.bimodal(), -1.0)


def test_book_style_is_applied():
    cp.plotting.use_book_style()
    assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == cp.plotting.COLORS[0]
    assert np.isclose(matplotlib.rcParams["figure.dpi"], 110)


def test_reverse_flow_figure_and_animation():
    ring = cp.targets.ring()
    grid = cp.schedules.uniform(3.0, 6, delta=0.05)
    fig = cp.widgets.reverse_flow_figure(ring, 3.0, grid, n=50, snapshots=(0.0, 1.0), methods=("em",))
    assert len(fig.axes) == 2
    html = cp.widgets.reverse_flow_animation(ring, 3.0, grid, n=30, frames=3)
    assert "<script" in html.data and "animation" in html.data.lower()
    assert "<link" not in html.data and "https://" not in html.data
    with pytest.raises(ValueError, match="target"):
        cp.widgets.reverse_flow_figure(cp.targets.bimodal(), 3.0, grid)
    with pytest.raises(ValueError, match="frames"):
        cp.widgets.reverse_flow_animation(ring, 3.0, grid, frames=1)


def test_sampler_explorer_redraws():
    box = cp.widgets.sampler_explorer(cp.targets.ring(), T=2.0, n=50)
    controls, out = box.children
    steps, schedule, method = controls.children
    assert len(out.outputs) == 1
    steps.value = 5
    schedule.value = "bbdd23"
    method.value = "heun"
    assert len(out.outputs) == 1
    with pytest.raises(ValueError, match="T"):
        cp.widgets.sampler_explorer(cp.targets.ring(), T=0.5)


@pytest.mark.parametrize("build", [
    lambda: cp.widgets.ou_marginal_explorer(cp.targets.bimodal(), n=200),
    lambda: cp.widgets.sampler_explorer(cp.targets.ring(), T=2.0, n=50),
])
def test_explorers_carry_a_static_fallback(build):
    import base64

    bundle = build()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
