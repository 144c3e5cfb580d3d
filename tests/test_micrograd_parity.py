"""micrograd's own two tests, ``test_sanity_check`` and ``test_more_ops``, in our words.

The expressions are the same as micrograd's, and so is the oracle: the same
expression written in PyTorch (float64), its value and the input gradients.
As a third witness, micrograd 0.1.0 itself must agree on a single backward pass.
"""

from __future__ import annotations

import pytest
from conftest import require

from zdravkograd import Value

torch = require("torch")

pytestmark = pytest.mark.torch

TOL = 1e-6  # micrograd's tolerance; we also check a much tighter one below


def _sanity_expression(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def _more_ops_expression(a, b, relu):
    # micrograd writes `c += c + 1`; a Value has no in-place add, so that is c = c + (c + 1)
    c = a + b
    d = a * b + b**3
    c = c + (c + 1)
    c = c + (1 + c + (-a))
    d = d + (d * 2 + relu(b + a))
    d = d + (3 * d + relu(b - a))
    e = c - d
    f = e**2
    g = f / 2.0
    return g + 10.0 / f


def _leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def test_sanity_check() -> None:
    x = Value(-4.0)
    y = _sanity_expression(x)
    y.backward()

    xt = _leaf(-4.0)
    yt = _sanity_expression_torch(xt)
    yt.backward()

    assert abs(y.data - yt.item()) < TOL  # the forward pass
    assert abs(x.grad - xt.grad.item()) < TOL  # the backward pass
    assert y.data == pytest.approx(yt.item(), rel=1e-15)
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-15)


def _sanity_expression_torch(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def test_more_ops() -> None:
    a, b = Value(-4.0), Value(2.0)
    g = _more_ops_expression(a, b, lambda v: v.relu())
    g.backward()

    at, bt = _leaf(-4.0), _leaf(2.0)
    gt = _more_ops_expression(at, bt, torch.relu)
    gt.backward()

    assert abs(g.data - gt.item()) < TOL
    assert abs(a.grad - at.grad.item()) < TOL
    assert abs(b.grad - bt.grad.item()) < TOL
    assert g.data == pytest.approx(gt.item(), rel=1e-13)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-13)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-13)


def test_micrograd_itself_agrees_on_one_backward_pass() -> None:
    mg = require("micrograd.engine")
    a, b = Value(-4.0), Value(2.0)
    g = _more_ops_expression(a, b, lambda v: v.relu())
    g.backward()
    ma, mb = mg.Value(-4.0), mg.Value(2.0)
    mgg = _more_ops_expression(ma, mb, lambda v: v.relu())
    mgg.backward()
    assert g.data == pytest.approx(mgg.data, rel=1e-13)
    assert (a.grad, b.grad) == pytest.approx((ma.grad, mb.grad), rel=1e-13)


def test_where_micrograd_goes_wrong_a_second_backward() -> None:
    # micrograd keeps the first pass's gradients in intermediates and adds the
    # second pass on top; zdravkograd resets intermediates, so leaves get exactly 2x.
    mg = require("micrograd.engine")
    x, mx = Value(3.0), mg.Value(3.0)
    y, my = x * x * x, mx * mx * mx
    y.backward()
    y.backward()
    my.backward()
    my.backward()
    assert x.grad == 54.0  # 2 * 3x^2
    assert mx.grad == 72.0  # micrograd: the intermediate x*x re-sends its stale gradient
