"""The backprop viewer in a real browser: headless Chromium driven by Selenium.

The page is opened from disk (no server), Next is clicked to the end, and the
gradients the page shows must be the engine's, with no JavaScript error on
the way. A screenshot is saved next to the test's temporary files (and under
``tests/artifacts/`` when ``ZDRAVKOGRAD_SCREENSHOTS`` is set) for a human to look at.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from conftest import require, require_program

from zdravkograd import Value
from zdravkograd.trace import format_number

pytestmark = pytest.mark.browser

require("graphviz")
require_program("dot")
require_program("chromium")
require_program("chromedriver")
require("selenium.webdriver")
from chromium import start_chromium  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from zdravkograd.viz import backprop_html  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1500,900")
    yield driver
    driver.quit()


def _neuron():
    """The tanh neuron of the notebooks, plus a reused input so that gradients accumulate."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh() * x1
    o.label = "o"
    return o


def _errors(driver) -> list[str]:
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return severe + driver.execute_script("return window.__errors")


def _shown_grads(driver) -> dict[str, tuple[str, str | None]]:
    cells = driver.find_elements(By.CSS_SELECTOR, "td.grad")
    return {c.get_attribute("data-node"): (c.text, c.get_attribute("data-exact")) for c in cells}


def _save_screenshot(driver, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    driver.save_screenshot(str(shot))
    if os.environ.get("ZDRAVKOGRAD_SCREENSHOTS"):
        keep = Path(__file__).parent / "artifacts"
        keep.mkdir(exist_ok=True)
        shutil.copy(shot, keep / name)
    return shot


def test_clicking_next_to_the_end_shows_the_engines_gradients(browser, tmp_path):
    o = _neuron()
    page = backprop_html(o, tmp_path / "neuron.html")
    o.backward()  # the engine's answer, computed after the (dry-run) page was written
    nodes = {}
    stack = [o]
    while stack:
        v = stack.pop()
        if str(v._id) not in nodes:
            nodes[str(v._id)] = v
            stack.extend(v._prev)

    browser.get(Path(page).as_uri())
    assert "step 0 of" in browser.find_element(By.ID, "counter").text
    before = _shown_grads(browser)
    assert set(before) == set(nodes)
    assert all(text == "·" and exact is None for text, exact in before.values())

    next_button = browser.find_element(By.ID, "next")
    clicks = 0
    while next_button.is_enabled():
        next_button.click()
        clicks += 1
        assert clicks < 100
    steps = 1 + sum(1 for v in nodes.values() if v._prev)  # the seed, then each non-leaf
    assert clicks == steps
    assert browser.find_element(By.ID, "counter").text == f"step {steps} of {steps}"

    shown = _shown_grads(browser)
    for key, v in nodes.items():
        text, exact = shown[key]
        assert exact is not None, f"no gradient shown for {v!r}"
        assert float(exact) == v.grad, (v, exact)
        assert text == format_number(v.grad)
    # the SVG's records show the same numbers, as %.4f
    svg_text = browser.find_element(By.ID, "graph").text
    for v in nodes.values():
        assert f"grad {v.grad:.4f}" in svg_text
    assert _errors(browser) == []

    # the last step's formula is on screen, in numbers
    updates = browser.find_element(By.ID, "updates").text
    assert "x1.grad += w1.data × v6.grad = -3.0 × 1.0 = -3.0" in updates

    # go back a step with the arrow key to show a mid-pass picture, and keep a screenshot
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(steps - 3):
        body.send_keys(Keys.ARROW_LEFT)
    assert browser.find_element(By.ID, "counter").text == f"step 3 of {steps}"
    shot = _save_screenshot(browser, tmp_path, "backprop_viewer.png")
    assert shot.stat().st_size > 10_000
    assert _errors(browser) == []


def test_back_reset_and_play(browser, tmp_path):
    random.seed(3)
    xs = [Value(random.uniform(-1, 1), f"x{i}") for i in range(3)]
    y = (xs[0] * xs[1] + xs[2].exp() * xs[0]).tanh() + xs[1] ** 2
    y.label = "y"
    page = backprop_html(y, tmp_path / "y.html")
    browser.get(Path(page).as_uri())
    counter = browser.find_element(By.ID, "counter")
    total = int(counter.text.split()[-1])
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "back").click()
    assert counter.text == f"step 1 of {total}"
    seeded = _shown_grads(browser)[str(y._id)]
    assert seeded == ("1.0", "1.0")
    browser.find_element(By.ID, "reset").click()
    assert counter.text == f"step 0 of {total}"
    # Play at the fastest speed runs to the end and stops there
    browser.find_element(By.CSS_SELECTOR, "#speed option[value='300']").click()
    browser.find_element(By.ID, "play").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(lambda d: counter.text == f"step {total} of {total}")
    y.backward()
    shown = _shown_grads(browser)
    for x in xs:
        assert float(shown[str(x._id)][1]) == x.grad
    assert browser.find_element(By.ID, "play").text.endswith("Play")
    assert _errors(browser) == []


def test_a_collapsed_mlp_replays_neuron_by_neuron(browser, tmp_path):
    nn = require("zdravkograd.nn")
    model = nn.MLP(2, [4, 4, 1], rng=random.Random(0))
    for name, p in model.named_parameters():
        p.label = name  # long dotted names (the state-dict names), as a user may give them
    score = model([Value(0.5, "x0"), Value(-1.0, "x1")])
    score.label = "score"
    page = backprop_html(score, tmp_path / "mlp.html", collapse=True)
    score.backward()
    browser.get(Path(page).as_uri())
    counter = browser.find_element(By.ID, "counter")
    total = int(counter.text.split()[-1])
    assert total == 1 + 9 + 8  # the seed, 9 neurons, 8 ReLUs
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(total):
        body.send_keys(Keys.ARROW_RIGHT)
    assert counter.text == f"step {total} of {total}"
    shown = _shown_grads(browser)
    for p in model.parameters():  # every weight and bias, folded or not, has its gradient
        assert float(shown[str(p._id)][1]) == p.grad, p.label
    assert float(shown[str(score._id)][1]) == 1.0
    _save_screenshot(browser, tmp_path, "backprop_viewer_mlp.png")
    assert _errors(browser) == []


def test_the_moons_network_page_fits_its_panels(browser, tmp_path):
    """moons.ipynb's page: MLP(2, [16, 16, 1]) on one point, collapsed, parameters named."""
    nn = require("zdravkograd.nn")
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(1337))
    for name, p in model.named_parameters():
        p.label = name  # 'layers.1.neurons.12.w.15': longer than nn's own L1.n12.w15
    score = model([Value(0.5, "x1"), Value(-0.25, "x2")])
    score.label = "score"
    page = backprop_html(score, tmp_path / "moons.html", collapse=True)
    browser.get(Path(page).as_uri())
    total = int(browser.find_element(By.ID, "counter").text.split()[-1])
    assert total == 1 + 33 + 32  # the seed, 33 neurons, 32 ReLUs
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(total):  # to the end: every gradient filled in, the widest table
        body.send_keys(Keys.ARROW_RIGHT)
    # the gradient table fits its panel: no column (the grads!) hidden behind a scrollbar
    overflow = browser.execute_script(
        "const c = document.getElementById('table-card'); return c.scrollWidth - c.clientWidth;"
    )
    assert overflow <= 0, f"the gradient table is {overflow}px too wide for its panel"
    score.backward()
    shown = _shown_grads(browser)
    for p in model.parameters():
        assert float(shown[str(p._id)][1]) == p.grad, p.label
    _save_screenshot(browser, tmp_path, "backprop_viewer_moons.png")
    assert _errors(browser) == []


_STAYS_PUT = """
const inside = (el, box) => {
  const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
  return r.top >= b.top - 1 && r.bottom <= b.bottom + 1;
};
const next = document.getElementById('next').getBoundingClientRect();
const card = document.getElementById('table-card');
const row = document.querySelector('tr.current');
return [window.scrollY, next.top >= 0 && next.bottom <= window.innerHeight,
        row === null || inside(row, card)];
"""


def test_on_a_small_screen_the_buttons_stay_put_while_the_table_follows(browser, tmp_path):
    """In a notebook's IFrame: stepping scrolls the table to the current node, never the page
    (which would carry the Next button away)."""
    nn = require("zdravkograd.nn")
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(7))
    score = model([Value(0.5, "x1"), Value(-0.25, "x2")])
    page = backprop_html(score, tmp_path / "small.html", collapse=True)
    size = browser.get_window_size()
    browser.set_window_size(980, 650)
    try:
        browser.get(Path(page).as_uri())
        body = browser.find_element(By.TAG_NAME, "body")
        total = int(browser.find_element(By.ID, "counter").text.split()[-1])
        for k in range(1, total + 1):
            body.send_keys(Keys.ARROW_RIGHT)
            scroll_y, button_visible, row_visible = browser.execute_script(_STAYS_PUT)
            assert scroll_y == 0 and button_visible, f"step {k}: the page scrolled"
            assert row_visible, f"step {k}: the current node's row is out of sight"
        assert _errors(browser) == []
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_one_gpt_position_replays_module_by_module(browser, tmp_path):
    """The loss of one position of microgpt's model, collapsed by module: a dozen steps."""
    from zdravkograd.losses import logsumexp
    from zdravkograd.transformer import GPT
    from zdravkograd.viz import module_groups

    model = GPT(27, rng=random.Random(0))
    tokens = [26, 4, 12, 12, 0, 26]
    with module_groups(model) as groups:
        logits = model(tokens[:2])
        with groups.scope("loss"):
            loss = logsumexp(logits[1]) - logits[1][tokens[2]]
    loss.label = "loss"
    page = backprop_html(loss, tmp_path / "gpt.html", collapse=groups)
    loss.backward()
    browser.get(Path(page).as_uri())
    counter = browser.find_element(By.ID, "counter")
    total = int(counter.text.split()[-1])
    assert 10 <= total <= 20
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(total):
        body.send_keys(Keys.ARROW_RIGHT)
    assert counter.text == f"step {total} of {total}"
    shown = _shown_grads(browser)
    assert 10 <= len(shown) <= 20
    assert float(shown[str(loss._id)][1]) == 1.0
    assert "blocks.0.attn.step [1]" in browser.find_element(By.ID, "graph").text
    _save_screenshot(browser, tmp_path, "backprop_viewer_gpt.png")
    assert _errors(browser) == []
