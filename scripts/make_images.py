"""Make the pictures in docs/img/ with the project's own code: `make images`.

    python scripts/make_images.py [docs/img]

* moons_decision_boundary.png: the decision_boundary.png that `zdravkograd moons` (what
  `make demo` runs) writes with its defaults: the demo's own picture, copied.
* training_history.png: the same training run's loss and accuracy at every step.
* neuron_lines.png: the zero lines of its first-layer neurons.
* neuron_graph.svg / .png: a tanh neuron after backward, drawn by draw_dot.
* mlp_collapsed.svg: MLP(2, [4, 4, 1]) on one point, each neuron folded into one node.
* digits_confusion.png, digits_mistakes.png, digits_loss.png: `zdravkograd digits` with its
  defaults (the test confusion matrix, the misclassified test digits, the learning curves).
* backprop_viewer.html: the step-by-step viewer for the tanh neuron (and backprop_viewer.png,
  a screenshot of its last step, when Chromium and chromedriver are installed).
* lab.png, lab_backprop.png: the lab (`zdravkograd lab`, started as a subprocess) after 60
  steps on the moons, and the backprop of one point in its embedded viewer (also needs
  Chromium and the `lab` extra).

Everything is seeded, so the pictures only change when the code does.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
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


def digits_pictures(out: Path) -> None:
    """Run `zdravkograd digits` (the defaults) and keep its three pictures."""
    from zdravkograd.cli import main as cli_main

    with tempfile.TemporaryDirectory() as tmp:
        status = cli_main(["digits", "--quiet", "--out", tmp])
        if status != 0:
            raise SystemExit(f"zdravkograd digits failed with status {status}")
        for name in ("confusion", "mistakes", "loss"):
            shutil.copyfile(Path(tmp) / f"{name}.png", out / f"digits_{name}.png")


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


def _chromium(profile: str, size: str):  # -> a Selenium driver, or None
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    if not chromium or not driver_path:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={size}",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def screenshot(page: Path, png: Path) -> bool:
    """A screenshot of the viewer half-way through, if Chromium can be driven here."""
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as profile:
        driver = _chromium(profile, "1400,900")
        if driver is None:
            return False
        try:
            driver.get(page.resolve().as_uri())
            for _ in range(6):
                driver.find_element(By.ID, "next").click()
            driver.save_screenshot(str(png))
        finally:
            driver.quit()
    return True


def lab_screenshots(out: Path) -> bool:
    """The lab after 60 steps on the moons, and one point's backprop in its viewer."""
    try:
        import starlette  # noqa: F401  (the lab extra)
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        from zdravkograd.lab.session import Session
    except ImportError:
        return False
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "zdravkograd", "lab", "--no-browser", "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split("serving on ")[1].split()[0]
        with tempfile.TemporaryDirectory() as profile:
            driver = _chromium(profile, "1480,880")
            if driver is None:
                return False
            try:
                wait = WebDriverWait(driver, 60)
                driver.get(url)
                wait.until(lambda d: d.find_element(By.ID, "loss").text not in ("", "·"))
                step = driver.find_element(By.ID, "step")
                for k in range(1, 61):  # Step, not Play: the same picture every time
                    step.click()
                    wait.until(lambda d, k=k: d.find_element(By.ID, "step-count").text == str(k))
                time.sleep(0.3)
                driver.save_screenshot(str(out / "lab.png"))
                # the backprop of the point with the largest loss: the server's session, replayed
                session = Session()
                for _ in range(60):
                    session.step()
                point_losses = [session.point_loss(i)[0].data for i in range(len(session.X))]
                px, py = session.X[point_losses.index(max(point_losses))].tolist()
                driver.find_element(By.ID, "tool-inspect").click()
                canvas = driver.find_element(By.ID, "boundary")
                w, h = canvas.size["width"], canvas.size["height"]
                dx, dy = round((px + 2) / 4 * w - w / 2), round((2 - py) / 4 * h - h / 2)
                ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).click().perform()
                frame = driver.find_element(By.ID, "viewer-frame")
                wait.until(lambda d: frame.is_displayed() and frame.get_attribute("src"))
                driver.switch_to.frame(frame)
                wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "td.grad"))
                for _ in range(8):
                    driver.find_element(By.ID, "next").click()
                driver.switch_to.default_content()
                driver.execute_script("document.getElementById('viewer').scrollIntoView()")
                time.sleep(0.5)
                driver.find_element(By.ID, "viewer").screenshot(str(out / "lab_backprop.png"))
            finally:
                driver.quit()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    return True


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/img")
    out.mkdir(parents=True, exist_ok=True)
    moons_pictures(out)
    digits_pictures(out)
    viewer = graph_pictures(out)
    if not screenshot(viewer, out / "backprop_viewer.png"):
        print("no chromium/chromedriver/selenium: skipped backprop_viewer.png")
    if not lab_screenshots(out):
        print("no chromium/chromedriver/selenium or no lab extra: skipped lab.png")
    for path in sorted(out.iterdir()):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
