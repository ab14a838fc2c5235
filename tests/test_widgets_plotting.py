"""The interactive-figure builders and the book style."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import companion as cp  # noqa: E402


def test_explorer_builds_and_redraws():
    box = cp.widgets.ou_marginal_explorer(cp.targets.bimodal(), t0=0.5, n=500)
    controls, out = box.children
    (slider,) = controls.children
    assert slider is box.sliders["t"] and out is box.output
    assert slider.value == 0.5 and len(out.outputs) == 1
    assert slider.continuous_update
    slider.value = 1.0                         # the observer redraws into the same output
    assert len(out.outputs) == 1 and len(box.redraw_times) == 2
    # an initial value off the default grid is added to it
    box = cp.widgets.ou_marginal_explorer(cp.targets.bimodal(), t0=0.33, n=100)
    assert box.sliders["t"].value == 0.33 and 0.33 in box._values[0]


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
    assert len(out.outputs) == 1 and len(box.redraw_times) == 4
    assert box.values() == {"steps": 5, "schedule": "bbdd23", "sampler": "heun"}
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


# ------------------------------------------------------------- the generic explorer builder
def _line(slope, colour="k"):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, slope], color=colour)
    ax.set_title(f"{slope} {colour}")
    return fig


def _frames(html):
    import json
    import re

    m = re.search(r'<script type="application/json" class="cp-explorer-frames">(.*?)</script>',
                  html, re.S)
    return json.loads(m.group(1))


def test_explorer_bad_input():
    with pytest.raises(ValueError, match="make_figure"):
        cp.widgets.explorer(None, {"slope": [1, 2]})
    with pytest.raises(ValueError, match="params"):
        cp.widgets.explorer(_line, {})
    with pytest.raises(ValueError, match="slope"):
        cp.widgets.explorer(_line, {"slope": []})
    with pytest.raises(ValueError, match="initial"):
        cp.widgets.explorer(_line, {"slope": [1, 2]}, initial={"slope": 3})
    with pytest.raises(ValueError, match="unknown"):
        cp.widgets.explorer(_line, {"slope": [1, 2]}, initial={"nope": 1})
    with pytest.raises(ValueError, match="repeated"):
        cp.widgets.explorer(_line, {"slope": [1, 1.0]})


def test_static_html_holds_every_combination_when_few():
    box = cp.widgets.explorer(_line, {"slope": [1, 2, 3], "colour": ["k", "r"]},
                              initial={"slope": 1, "colour": "r"})
    html = box.static_html()
    data = _frames(html)
    assert set(data["frames"]) == {f"{i},{j}" for i in range(3) for j in range(2)}
    assert data["initial"] == [0, 1] and data["labels"] == [["1", "2", "3"], ["k", "r"]]
    assert len(set(data["frames"].values())) == 6          # every frame differs
    assert html.count('type="range"') == 2 and "https://" not in html and "<link" not in html
    assert "cp-explorer-note" not in html


def test_static_html_moves_one_slider_at_a_time_when_many():
    box = cp.widgets.explorer(_line, {"slope": list(range(1, 8)), "colour": list("kbgrcmy")},
                              initial={"slope": 4, "colour": "k"})
    data = _frames(box.static_html(max_frames=24))        # 49 combinations > 24
    keys = set(data["frames"])
    assert len(keys) == 1 + 6 + 6 and "3,0" in keys
    assert all(k.split(",")[0] == "3" or k.split(",")[1] == "0" for k in keys)
    assert "each slider moves on its own" in box.static_html(max_frames=24)


def test_bundle_carries_the_website_version_only_in_the_build(monkeypatch):
    import base64

    box = cp.widgets.explorer(_line, {"slope": [1, 2, 3]})
    monkeypatch.delenv(cp.widgets.STATIC_ENV, raising=False)
    bundle = box._repr_mimebundle_()
    assert "text/html" not in bundle
    assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"
    monkeypatch.setenv(cp.widgets.STATIC_ENV, "1")
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert len(_frames(bundle["text/html"])["frames"]) == 3


def test_slow_redraws_are_debounced_fast_ones_follow():
    """In an event loop (a kernel) a slow figure is drawn once after the slider rests; a fast
    one at every position. Without a loop (a script) every change redraws at once."""
    import asyncio
    import time

    def slow(slope):
        time.sleep(1.5 * cp.widgets.REDRAW_BUDGET)
        return _line(slope)

    async def drag(box, name, values):
        for v in values:
            box.sliders[name].value = v
            await asyncio.sleep(0.01)
        n_during = len(box.redraw_times)
        await asyncio.sleep(2 * cp.widgets.DEBOUNCE)
        return n_during, len(box.redraw_times)

    box = cp.widgets.explorer(slow, {"slope": list(range(8))}, initial={"slope": 0})
    assert box.mode == "debounced"
    during, after = asyncio.run(drag(box, "slope", range(1, 8)))
    assert during == 1 and after == 2 and box.output.outputs      # one redraw, at the end
    assert box.values() == {"slope": 7}

    fast = cp.widgets.explorer(_line, {"slope": list(range(8))}, initial={"slope": 0})
    fast.redraw_times[:] = [0.01]
    assert fast.mode == "continuous"
    during, after = asyncio.run(drag(fast, "slope", range(1, 8)))
    assert during == after == 8                                    # every position drawn

    box.sliders["slope"].value = 3                                 # no loop: at once
    assert len(box.redraw_times) == 3


def test_immse_figure_takes_a_grid():
    import matplotlib.pyplot as plt

    rad = cp.targets.rademacher()
    grid = cp.info.optimal_grid(rad, 4.0, 4)
    fig = cp.widgets.immse_figure(rad, T=4.0, n=4, grid=grid, title="best steps")
    ax = fig.axes[0]
    assert ax.get_title() == "n = 4, best steps"
    assert sum(1 for line in ax.lines if len(line.get_xdata()) == 4) == 4     # one outline per step
    with pytest.raises(ValueError, match="grid"):
        cp.widgets.immse_figure(rad, T=4.0, n=4, grid=np.linspace(0.0, 3.0, 5))
    plt.close(fig)
