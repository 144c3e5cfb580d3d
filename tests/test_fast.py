"""zdravkograd.fast(): the cycle collector is paused in the block and always restored."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

import zdravkograd
from zdravkograd import Value


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:  # pragma: no cover
        gc.disable()


def test_pauses_and_restores():
    with zdravkograd.fast() as ctx:
        assert not gc.isenabled()
        assert isinstance(ctx, zdravkograd.fast)
    assert gc.isenabled()


def test_restores_on_exception():
    with pytest.raises(ZeroDivisionError):
        with zdravkograd.fast():
            1 / 0  # noqa: B018
    assert gc.isenabled()


def test_nested_blocks_restore_at_the_outermost():
    with zdravkograd.fast():
        with zdravkograd.fast():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still open
    assert gc.isenabled()


def test_leaves_a_disabled_collector_disabled():
    gc.disable()
    with zdravkograd.fast():
        pass
    assert not gc.isenabled()
    gc.enable()


def test_works_as_a_decorator_and_returns():
    @zdravkograd.fast()
    def f(x):
        assert not gc.isenabled()
        return x + 1

    assert f(1) == 2 and gc.isenabled()
    with pytest.raises(ValueError):
        zdravkograd.fast()(lambda: (_ for _ in ()).throw(ValueError("x")))()
    assert gc.isenabled()


def test_threads_overlapping_blocks_restore_once_all_exit():
    inside, release = threading.Event(), threading.Event()

    def worker():
        with zdravkograd.fast():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    with zdravkograd.fast():
        pass
    assert not gc.isenabled()  # the worker's block is still open
    release.set()
    t.join()
    assert gc.isenabled()


def test_graphs_are_freed_inside_the_block_without_the_collector():
    with zdravkograd.fast():
        x = Value(2.0)
        y = (x * x + 1).tanh() * x
        y.backward()
        probe = weakref.ref(y._a)  # an intermediate node
        del y
        assert probe() is None  # reference counting alone freed the graph
        assert x.grad != 0.0
