"""zdravkograd.optim against torch.optim in float64: 100 steps agree to 1e-12."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import require

from zdravkograd import optim
from zdravkograd.engine import Value

torch = require("torch")
pytestmark = pytest.mark.torch

START = [0.8, -1.3, 0.25, 2.0, -0.6]
CENTRES = [1.0, -2.0, 0.5, -1.0, 3.0]


def objective(p, sin, tanh):
    """A fixed non-convex function of 5 parameters, written once for both libraries."""
    total = 0.0
    for i, (x, c) in enumerate(zip(p, CENTRES)):
        total = total + (i + 1) * 0.3 * (x - c) * (x - c)
    return total + sin(p[0] * p[1]) + tanh(p[2] - p[3] * p[4]) * 2.0


def run_ours(make_opt, make_sched=None, steps=100):
    ps = [Value(x) for x in START]
    opt = make_opt(ps)
    sched = make_sched(opt) if make_sched else None
    losses, lrs = [], []
    for _ in range(steps):
        loss = objective(ps, Value.sin, Value.tanh)
        opt.zero_grad()
        loss.backward()
        lrs.append(opt.lr)
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.data)
    return losses, [p.data for p in ps], lrs


def run_torch(make_opt, make_sched=None, steps=100):
    ps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    opt = make_opt(ps)
    sched = make_sched(opt) if make_sched else None
    losses = []
    for _ in range(steps):
        loss = objective(ps, torch.sin, torch.tanh)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.item())
    return losses, [p.item() for p in ps]


CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    "sgd-momentum": (
        lambda p: optim.SGD(p, lr=0.02, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9),
    ),
    "sgd-wd": (
        lambda p: optim.SGD(p, lr=0.05, weight_decay=0.2),
        lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.2),
    ),
    "sgd-nesterov": (
        lambda p: optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    ),
    "sgd-nesterov-wd": (
        lambda p: optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.1),
        lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.1),
    ),
    "sgd-dampening-wd": (
        lambda p: optim.SGD(p, lr=0.03, momentum=0.5, dampening=0.3, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.5, dampening=0.3, weight_decay=0.05),
    ),
    "adam": (
        lambda p: optim.Adam(p, lr=0.05),
        lambda p: torch.optim.Adam(p, lr=0.05, foreach=False),
    ),
    "adam-wd-betas": (
        lambda p: optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        lambda p: torch.optim.Adam(
            p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, foreach=False
        ),
    ),
    "adamw": (
        lambda p: optim.AdamW(p, lr=0.05),
        lambda p: torch.optim.AdamW(p, lr=0.05, foreach=False),
    ),
    "adamw-wd": (
        lambda p: optim.AdamW(p, lr=0.03, weight_decay=0.3),
        lambda p: torch.optim.AdamW(p, lr=0.03, weight_decay=0.3, foreach=False),
    ),
}


def _assert_close(ours, theirs):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)  # every step's loss
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)  # final parameters


@pytest.mark.parametrize("name", list(CASES))
def test_optimizer_matches_torch_for_100_steps(name):
    ours, theirs = CASES[name]
    a, b = run_ours(ours), run_torch(theirs)
    assert a[0][-1] < a[0][0]  # it optimises something
    _assert_close(a, b)


SCHEDULES = {
    "linear": (
        lambda o: optim.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=60),
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=1.0, end_factor=0.1, total_iters=60
        ),
    ),
    "linear-warmup": (
        lambda o: optim.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=10),
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=0.25, end_factor=1.0, total_iters=10
        ),
    ),
    "step": (
        lambda o: optim.StepLR(o, step_size=30, gamma=0.5),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
    ),
    "cosine": (
        lambda o: optim.CosineAnnealingLR(o, T_max=80, eta_min=0.001),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=80, eta_min=0.001),
    ),
}


@pytest.mark.parametrize("sched", list(SCHEDULES))
@pytest.mark.parametrize("opt", list(CASES))
def test_every_optimizer_with_every_scheduler_matches_torch(opt, sched):
    """Each optimiser variant under each scheduler: 100 steps, every loss and the final
    parameters to 1e-12. The learning rate changes under the optimiser, so a step that
    reads ``initial_lr`` where it should read ``lr`` (say in AdamW's decay) shows."""
    ours = run_ours(CASES[opt][0], SCHEDULES[sched][0])
    theirs = run_torch(CASES[opt][1], SCHEDULES[sched][1])
    _assert_close(ours, theirs)
    lrs = {round(lr, 15) for lr in ours[2]}
    assert len(lrs) > 1, "the schedule must actually change the learning rate"


@pytest.mark.parametrize("sched", list(SCHEDULES))
def test_scheduler_learning_rates_match_torch(sched):
    o = optim.SGD([Value(0.0)], lr=0.7)
    t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.7)
    s, ts = SCHEDULES[sched][0](o), SCHEDULES[sched][1](t)
    for _ in range(120):
        assert s.get_last_lr()[0] == pytest.approx(ts.get_last_lr()[0], rel=1e-12, abs=1e-15)
        o.step()
        t.step()
        s.step()
        ts.step()


def test_linear_lr_is_the_seed_schedule_exactly():
    o = optim.SGD([Value(0.0)], lr=1.0)
    s = optim.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=100)
    for k in range(100):
        assert o.lr == 1.0 - 0.9 * k / 100  # bit for bit
        s.step()


def test_plain_sgd_is_the_seed_update():
    p = Value(1.5)
    p.grad = 0.25
    optim.SGD([p], lr=0.3).step()
    q = 1.5
    q -= 0.3 * 0.25
    assert p.data == q


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, math.inf)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    grads = [3.0, -4.0, 0.5, 12.0]
    ps = [Value(0.0) for _ in grads]
    for p, g in zip(ps, grads):
        p.grad = g
    ts = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    norm = optim.clip_grad_norm_(ps, max_norm, norm_type)
    tnorm = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type)
    assert norm == pytest.approx(tnorm.item(), rel=1e-15)
    np.testing.assert_allclose([p.grad for p in ps], [t.grad.item() for t in ts], rtol=1e-15)


def test_state_dict_resumes_exactly_and_is_json():
    full = run_ours(CASES["adam"][0], steps=40)
    ps = [Value(x) for x in START]
    opt = optim.Adam(ps, lr=0.05)
    for _ in range(20):
        loss = objective(ps, Value.sin, Value.tanh)
        opt.zero_grad()
        loss.backward()
        opt.step()
    saved = json.loads(json.dumps(opt.state_dict()))
    weights = [p.data for p in ps]
    ps2 = [Value(x) for x in weights]
    opt2 = optim.Adam(ps2, lr=0.9)  # different lr: restored from the state
    opt2.load_state_dict(saved)
    assert opt2.lr == 0.05 and opt2.steps == 20
    for _ in range(20):
        loss = objective(ps2, Value.sin, Value.tanh)
        opt2.zero_grad()
        loss.backward()
        opt2.step()
    assert [p.data for p in ps2] == full[1]


def test_bad_state_dict_changes_nothing():
    ps = [Value(1.0), Value(2.0)]
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    good = opt.state_dict()
    before = json.dumps(good)
    bad = json.loads(before)
    bad["buffers"]["momentum_buffer"] = [1.0]  # wrong length
    with pytest.raises(ValueError, match="must list 2 numbers"):
        opt.load_state_dict(bad)
    bad = json.loads(before)
    bad["hyper"]["lr"] = "fast"
    with pytest.raises(ValueError, match="'lr' is not a float"):
        opt.load_state_dict(bad)
    bad = json.loads(before)
    bad["buffers"]["momentum_buffer"] = [1.0, None]
    with pytest.raises(ValueError, match="not a number"):
        opt.load_state_dict(bad)
    opt.load_state_dict(json.loads(before))  # a good one (with the bool nesterov) loads
    with pytest.raises(ValueError, match="state is for 'Adam', not SGD"):
        opt.load_state_dict(optim.Adam(ps).state_dict())
    assert json.dumps(opt.state_dict()) == before


def test_scheduler_state_dict_round_trip():
    o = optim.SGD([Value(0.0)], lr=1.0)
    s = optim.StepLR(o, step_size=2, gamma=0.5)
    for _ in range(5):
        s.step()
    o2 = optim.SGD([Value(0.0)], lr=1.0)
    s2 = optim.StepLR(o2, step_size=2, gamma=0.5)
    s2.load_state_dict(s.state_dict())
    assert o2.lr == o.lr == 0.25
    with pytest.raises(ValueError, match="last_epoch"):
        s2.load_state_dict({"last_epoch": -1, "base_lr": 1.0})
    with pytest.raises(ValueError, match="must be a dict"):
        s2.load_state_dict([("last_epoch", 1)])  # type: ignore[arg-type]
    assert (s2.last_epoch, o2.lr) == (5, 0.25)  # failed loads changed nothing


def test_constructor_errors():
    with pytest.raises(ValueError, match="lr must be a finite number >= 0, got -1"):
        optim.SGD([Value(0.0)], lr=-1)
    with pytest.raises(TypeError, match="momentum must be a number, got str"):
        optim.SGD([Value(0.0)], lr=0.1, momentum="0.9")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="parameter 1 is a float"):
        optim.SGD([Value(0.0), 1.0], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([Value(0.0)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([Value(0.0)], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="total_iters must be at least 1, got 0"):
        optim.LinearLR(optim.SGD([Value(0.0)], lr=1.0), 1.0, 0.1, 0)
    with pytest.raises(TypeError, match="step_size must be an int, got float"):
        optim.StepLR(optim.SGD([Value(0.0)], lr=1.0), 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="zdravkograd optimizer"):
        optim.StepLR(object(), 3)  # type: ignore[arg-type]


def test_optimizer_accepts_a_module_and_zero_grad_clears():
    from zdravkograd.nn import MLP

    m = MLP(2, [3, 1])
    opt = optim.SGD(m, lr=0.1)
    assert opt.params == m.parameters()
    m([1.0, 2.0]).backward()
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())
    assert repr(opt).startswith("SGD(13 parameters, lr=0.1")
