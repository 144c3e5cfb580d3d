"""The lab's page in a real browser: headless Chromium driven by Selenium.

The server runs in this process (tests/labserver.py), so the tests can compare what the
page shows with the tab's Session, whose model the engine trains in the server.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest
from conftest import require, require_program

pytestmark = pytest.mark.browser

require("starlette")
require("uvicorn")
require("websockets")
require("sklearn")
require("graphviz")
require_program("dot")
require_program("chromium")
require_program("chromedriver")
require("selenium.webdriver")
from chromium import start_chromium  # noqa: E402
from labserver import RunningLab  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from zdravkograd import Value, nn  # noqa: E402


@pytest.fixture(scope="module")
def lab():
    running = RunningLab()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1500,1000")
    yield driver
    driver.quit()


def _errors(driver) -> list[str]:
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return severe + (driver.execute_script("return window.__errors") or [])


def _open(browser, lab):
    """Load the page; wait for its first frame; return the tab's server-side object."""
    browser.get("about:blank")
    WebDriverWait(browser, 10).until(lambda d: len(lab.tabs) == 0)
    browser.get(lab.url)
    WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.ID, "loss").text not in ("", "·") and len(lab.tabs) == 1
    )
    assert _errors(browser) == []
    return next(iter(lab.tabs))


def _loss(browser) -> float:
    return float(browser.find_element(By.ID, "loss").text)


def _step_count(browser) -> int:
    return int(browser.find_element(By.ID, "step-count").text)


def _pixels(browser, canvas: str = "boundary") -> list[int]:
    return browser.execute_script(
        "const c = document.getElementById(arguments[0]);"
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);",
        canvas,
    )


CLASS_1_BLUE = [28, 126, 214, 255]
"""The colour lab.js fills a point of class 1 with."""


def _pixel_at(browser, x: float, y: float) -> list[int]:
    """The plot's pixel (RGBA) at the data coordinates (x, y) (the plot shows [-2, 2]²)."""
    return browser.execute_script(
        "const c = document.getElementById('boundary');"
        "const px = Math.round((arguments[0] + 2) / 4 * c.width);"
        "const py = Math.round((2 - arguments[1]) / 4 * c.height);"
        "return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);",
        float(x),
        float(y),
    )


def _click_at(browser, x: float, y: float) -> None:
    """Click the plot at the data coordinates (x, y) (the plot shows [-2, 2]²)."""
    canvas = browser.find_element(By.ID, "boundary")
    size = canvas.size
    dx = (x + 2) / 4 * size["width"] - size["width"] / 2
    dy = (2 - y) / 4 * size["height"] - size["height"] / 2
    ActionChains(browser).move_to_element_with_offset(
        canvas, round(dx), round(dy)
    ).click().perform()


def _type(browser, element_id: str, text: str) -> None:
    """Set an input's text and fire its change event, as typing and leaving it does."""
    browser.execute_script(
        "const el = document.getElementById(arguments[0]); el.value = arguments[1];"
        "el.dispatchEvent(new Event('change'));",
        element_id,
        text,
    )


def _save(browser, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    browser.save_screenshot(str(shot))
    if os.environ.get("ZDRAVKOGRAD_SCREENSHOTS"):
        keep = Path(__file__).parent / "artifacts"
        keep.mkdir(exist_ok=True)
        shutil.copy(shot, keep / name)


def test_play_makes_the_loss_fall_and_the_boundary_change(browser, lab, tmp_path):
    tab = _open(browser, lab)
    loss0, pixels0, network0 = _loss(browser), _pixels(browser), _pixels(browser, "network")
    assert _step_count(browser) == 0
    browser.find_element(By.ID, "play").click()
    WebDriverWait(browser, 60).until(lambda d: _step_count(d) >= 40)
    browser.find_element(By.ID, "pause").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "play").is_enabled())
    WebDriverWait(browser, 10).until(lambda d: _step_count(d) == tab.session.step_count)
    loss1 = _loss(browser)
    assert loss1 < 0.5 * loss0, (loss0, loss1)
    changed = sum(a != b for a, b in zip(pixels0, _pixels(browser)))
    assert changed > 10_000, changed
    # the network diagram (weights, neuron pictures) is redrawn too
    assert sum(a != b for a, b in zip(network0, _pixels(browser, "network"))) > 1_000
    # the page shows the session's own numbers: the training ran in the server process
    session = tab.session
    assert loss1 == pytest.approx(session.loss, abs=5e-5)
    assert [h[0] for h in session.history] == list(range(1, session.step_count + 1))
    _save(browser, tmp_path, "lab_trained.png")
    assert _errors(browser) == []


def test_step_and_reset(browser, lab):
    tab = _open(browser, lab)
    browser.find_element(By.ID, "step").click()
    WebDriverWait(browser, 10).until(lambda d: _step_count(d) == 1)
    assert tab.session.step_count == 1
    browser.find_element(By.ID, "reset").click()
    WebDriverWait(browser, 10).until(lambda d: _step_count(d) == 0)
    assert tab.session.step_count == 0
    assert _errors(browser) == []


def test_adding_a_point_changes_the_data_and_a_second_click_removes_it(browser, lab):
    tab = _open(browser, lab)
    n = len(tab.session.X)
    Select(browser.find_element(By.ID, "point-class")).select_by_value("1")
    _click_at(browser, -1.6, 1.6)  # a corner with no data
    WebDriverWait(browser, 10).until(lambda d: len(tab.session.X) == n + 1)
    x, y = tab.session.X[-1]
    assert (x, y) == (pytest.approx(-1.6, abs=0.02), pytest.approx(1.6, abs=0.02))
    assert tab.session.y[-1] == 1 and tab.session.added[-1]
    # the page draws it: the pixel under it is class 1's blue (the boundary there is a wash)
    WebDriverWait(browser, 10).until(lambda d: _pixel_at(d, x, y) == CLASS_1_BLUE)
    _click_at(browser, x, y)
    WebDriverWait(browser, 10).until(lambda d: len(tab.session.X) == n)
    assert not tab.session.added.any()
    WebDriverWait(browser, 10).until(lambda d: _pixel_at(d, x, y) != CLASS_1_BLUE)
    assert _errors(browser) == []


def _ringed(browser, x: float, y: float) -> bool:
    """Is the point at (x, y) drawn as the selected one (a black ring 5 to 8 pixels out)?"""
    r, g, b, _ = browser.execute_script(
        "const c = document.getElementById('boundary');"
        "const px = Math.round((arguments[0] + 2) / 4 * c.width) + 6;"
        "const py = Math.round((2 - arguments[1]) / 4 * c.height);"
        "return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);",
        float(x),
        float(y),
    )
    return r + g + b < 150


def test_the_selected_point_stays_selected_when_an_earlier_point_is_removed(browser, lab):
    tab = _open(browser, lab)
    n = len(tab.session.X)
    a, b = (-1.6, 1.6), (1.6, -1.6)  # two empty corners: points n and n + 1
    for k, (x, y) in enumerate((a, b)):
        _click_at(browser, x, y)
        WebDriverWait(browser, 10).until(lambda d, k=k: len(tab.session.X) == n + 1 + k)
    a = tuple(tab.session.X[n])
    b = tuple(tab.session.X[n + 1])
    browser.find_element(By.ID, "tool-inspect").click()
    _click_at(browser, *a)
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "viewer").get_attribute("data-index") == str(n)
    )
    WebDriverWait(browser, 10).until(lambda d: _ringed(d, *a))
    assert not _ringed(browser, *b)
    # remove point 0: every later point's index drops by one, and the ring stays on a
    browser.find_element(By.ID, "tool-add").click()
    before = _pixels(browser)
    _click_at(browser, *tab.session.X[0])
    WebDriverWait(browser, 10).until(lambda d: len(tab.session.X) == n + 1)
    WebDriverWait(browser, 10).until(lambda d: _pixels(d) != before)  # the page has redrawn
    assert _ringed(browser, *a) and not _ringed(browser, *b)
    assert _errors(browser) == []


def test_clicking_a_point_shows_its_backprop_with_the_engines_gradients(browser, lab, tmp_path):
    tab = _open(browser, lab)
    for k in range(3):
        browser.find_element(By.ID, "step").click()
        WebDriverWait(browser, 10).until(lambda d, k=k: _step_count(d) == k + 1)
    session = tab.session
    # a point the model gets wrong, so that its loss has a gradient (and far from others)
    scores = [float(session.model([Value(a), Value(b)]).data) for a, b in session.X.tolist()]
    margins = [1 - (2 * c - 1) * s for c, s in zip(session.y.tolist(), scores)]
    index = max(range(len(margins)), key=margins.__getitem__)
    assert margins[index] > 0
    x, y = session.X[index]
    browser.find_element(By.ID, "tool-inspect").click()
    _click_at(browser, x, y)
    frame = browser.find_element(By.ID, "viewer-frame")
    WebDriverWait(browser, 60).until(lambda d: frame.is_displayed() and frame.get_attribute("src"))
    assert browser.find_element(By.ID, "viewer").get_attribute("data-index") == str(index)

    # the engine's gradients, computed here from the session's weights and the point
    model = nn.MLP(2, [16, 16, 1])
    model.load_state_dict(session.model.state_dict())
    score = model([Value(float(x)), Value(float(y))])
    target = 2.0 * float(session.y[index]) - 1.0
    loss = (1 + -target * score).relu()
    loss.backward()
    expected = dict(model.named_parameters())
    assert any(p.grad != 0 for p in expected.values()), "pick a point with a non-zero loss"

    browser.switch_to.frame(frame)
    try:
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "td.grad"))
        next_button = browser.find_element(By.ID, "next")
        clicks = 0
        while next_button.is_enabled():
            next_button.click()
            clicks += 1
            assert clicks < 200
        rows = browser.execute_script(
            "return Array.from(document.querySelectorAll('#grads tr')).map(r => ["
            "r.cells[0].textContent, r.querySelector('td.grad').dataset.exact]);"
        )
        updates = browser.find_element(By.ID, "updates").text
        shown = {name.split("  (")[0]: exact for name, exact in rows}
        for name, p in expected.items():
            assert name in shown, name
            assert float(shown[name]) == p.grad, (name, shown[name], p.grad)
        assert float(shown["loss"]) == 1.0
        assert "Done" in updates
        assert browser.execute_script("return window.__errors") == []
    finally:
        browser.switch_to.default_content()
    _save(browser, tmp_path, "lab_backprop.png")
    assert _errors(browser) == []


def test_a_too_large_request_shows_an_error_and_the_lab_keeps_working(browser, lab):
    tab = _open(browser, lab)
    error = browser.find_element(By.ID, "error")
    _type(browser, "samples", "5000")
    WebDriverWait(browser, 10).until(lambda d: error.is_displayed())
    assert "at most 2000 points" in error.text
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "samples").get_attribute("value") == "100"
    )
    assert len(tab.session.X) == 100
    _type(browser, "hidden", "16, 65")
    WebDriverWait(browser, 10).until(lambda d: "at most 64 neurons" in error.text)
    assert tab.session.settings.hidden == [16, 16]
    browser.find_element(By.ID, "step").click()
    WebDriverWait(browser, 10).until(lambda d: _step_count(d) == 1)
    assert not error.is_displayed()
    assert _errors(browser) == []


def test_every_mistake_has_a_button_and_a_line_and_sets_up_its_experiment(browser, lab):
    tab = _open(browser, lab)
    buttons = browser.find_elements(By.CSS_SELECTOR, "#mistakes button")
    assert len(buttons) == 5
    for b in buttons:
        watch = browser.find_element(By.ID, "watch-" + b.get_attribute("id")[len("mistake-") :])
        assert watch.text.startswith("Watch")
    browser.find_element(By.ID, "mistake-no-hidden-xor").click()
    WebDriverWait(browser, 10).until(
        lambda d: Select(d.find_element(By.ID, "dataset")).first_selected_option.text == "xor"
    )
    assert browser.find_element(By.ID, "hidden").get_attribute("value") == ""
    assert tab.session.settings.hidden == [] and tab.session.settings.dataset == "xor"
    WebDriverWait(browser, 30).until(lambda d: _step_count(d) >= 5)  # one click runs it
    assert browser.find_element(By.ID, "pause").is_enabled()
    browser.find_element(By.ID, "mistake-no-zero-grad").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_element(By.ID, "zero-grad").is_selected())
    assert tab.session.settings.zero_grad is False
    browser.find_element(By.ID, "pause").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "play").is_enabled())
    assert _errors(browser) == []


def test_scalar_mode_trains_one_graph_per_point(browser, lab):
    tab = _open(browser, lab)
    Select(browser.find_element(By.ID, "mode")).select_by_value("scalar")
    WebDriverWait(browser, 10).until(lambda d: tab.session.settings.mode == "scalar")
    for k in range(1, 3):
        browser.find_element(By.ID, "step").click()
        WebDriverWait(browser, 30).until(lambda d, k=k: _step_count(d) == k)
    assert _loss(browser) == pytest.approx(tab.session.loss, abs=5e-5)
    assert _errors(browser) == []


def test_blobs_have_three_classes_and_train(browser, lab):
    tab = _open(browser, lab)
    Select(browser.find_element(By.ID, "dataset")).select_by_value("blobs")
    WebDriverWait(browser, 10).until(lambda d: tab.session.classes == 3)
    WebDriverWait(browser, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#point-class option")) == 3
    )
    loss0 = _loss(browser)
    assert math.isfinite(loss0)
    browser.find_element(By.ID, "play").click()
    WebDriverWait(browser, 60).until(lambda d: _step_count(d) >= 30)
    browser.find_element(By.ID, "pause").click()
    WebDriverWait(browser, 10).until(lambda d: _step_count(d) == tab.session.step_count)
    assert _loss(browser) < loss0
    assert _errors(browser) == []
