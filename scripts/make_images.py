"""Make the pictures in docs/img/ with the project's own code: `make images`.

    python scripts/make_images.py [docs/img]

* moons_decision_boundary.png: the decision_boundary.png that `zdravkograd moons` (what
  `make demo` runs) writes with its defaults: the demo's own picture, copied.
* training_history.png: the same training run's loss and accuracy at every step.
* neuron_lines.png: the zero lines of its first-layer neurons.
* neuron_graph.svg / .png: a tanh neuron after backward, drawn by draw_dot.
* mlp_collapsed.svg: MLP(2, [4, 4, 1]) on one point, each neuron folded into one node.
* backprop_viewer.html: the step-by-step viewer for the tanh neuron (and backprop_viewer.png,
  a screenshot of its last step, when Chromium and chromedriver are installed).

Everything is seeded, so the pictures only change when the code does.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from zdravkograd import Value, cli  # noqa: E402
from zdravkograd.data import make_moons  # noqa: E402
from zdravkograd.examples import tanh_neuron  # noqa: E402
from zdravkograd.nn import MLP  # noqa: E402
from zdravkograd.train import fit  # noqa: E402
from zdravkograd.viz import (  # noqa: E402
    backprop_html,
    draw_dot,
    plot_history,
    plot_neuron_lines,
)

DEMO_SEED = 1337  # `zdravkograd moons`'s default, for the data and the weights


def moons_pictures(out: Path) -> None:
    # The README's picture is the demo's own output: run the command, keep its picture.
    with tempfile.TemporaryDirectory() as tmp:
        if cli.main(["moons", "--quiet", "--out", tmp]) != 0:
            raise SystemExit("zdravkograd moons failed")
        shutil.copyfile(Path(tmp) / "decision_boundary.png", out / "moons_decision_boundary.png")
    # The other pictures show the same run: the same data, weights and recipe.
    X, y = make_moons(n_samples=100, noise=0.1, seed=DEMO_SEED)
    model = MLP(2, [16, 16, 1], rng=random.Random(DEMO_SEED))
    history = fit(model, X, y, steps=100)
    print(f"moons: final loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.0%}")
    axes = plot_history(history)
    axes[0].figure.savefig(out / "training_history.png", dpi=110, bbox_inches="tight")
    plt.close(axes[0].figure)
    ax = plot_neuron_lines(model, X, y)
    ax.figure.savefig(out / "neuron_lines.png", dpi=110, bbox_inches="tight")
    plt.close(ax.figure)


def graph_pictures(out: Path) -> Path:
    o = tanh_neuron(backward=False)
    viewer = Path(backprop_html(o, out / "backprop_viewer.html"))  # before backward: a dry run
    o.backward()
    dot = draw_dot(o, highlight=None)
    dot.render(out / "neuron_graph", format="svg", cleanup=True)
    dot.attr(dpi="110")
    dot.render(out / "neuron_graph", format="png", cleanup=True)

    model = MLP(2, [4, 4, 1], rng=random.Random(0))
    score = model([Value(0.5, "x0"), Value(-1.0, "x1")])
    score.label = "score"
    score.backward()
    draw_dot(score, collapse=True).render(out / "mlp_collapsed", format="svg", cleanup=True)
    return viewer


def screenshot(page: Path, png: Path) -> bool:
    """A screenshot of the viewer half-way through, if Chromium can be driven here."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        return False
    if not chromium or not driver_path:
        return False
    with tempfile.TemporaryDirectory() as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,900",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            driver.get(page.resolve().as_uri())
            for _ in range(6):
                driver.find_element(By.ID, "next").click()
            driver.save_screenshot(str(png))
        finally:
            driver.quit()
    return True


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/img")
    out.mkdir(parents=True, exist_ok=True)
    moons_pictures(out)
    viewer = graph_pictures(out)
    if not screenshot(viewer, out / "backprop_viewer.png"):
        print("no chromium/chromedriver/selenium: skipped backprop_viewer.png")
    for path in sorted(out.iterdir()):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
