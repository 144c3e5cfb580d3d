"""The lab's server: sessions per tab, training in the server, bounds, 403s, bad messages, CLI.

The server runs in this process (tests/labserver.py) and is spoken to as a browser would,
over real HTTP and WebSocket connections (the ``websockets`` client, urllib).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import require

require("starlette")
require("uvicorn")
require("websockets")
require("sklearn")
from labserver import RunningLab  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from zdravkograd import nn  # noqa: E402
from zdravkograd.lab.session import LIMITS, Session  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lab():
    running = RunningLab()
    yield running
    running.stop()


def _tab(lab):
    """A WebSocket as the page opens it (own Origin), after hello, state and the first frame."""
    ws = connect(lab.ws_url, origin=lab.origin, open_timeout=20, legacy=True)
    kinds = [json.loads(ws.recv(timeout=30))["type"] for _ in range(3)]
    assert kinds == ["hello", "state", "frame"]
    return ws


def _ask(ws, message, until: str, timeout: float = 60) -> dict:
    """Send ``message``; return the first reply of type ``until`` (or an error)."""
    ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
    deadline = time.monotonic() + timeout
    while True:
        reply = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if reply["type"] == "state":  # always followed by a frame of the new state
            reply["frame"] = json.loads(ws.recv(timeout=30))
            assert reply["frame"]["type"] == "frame"
        if reply["type"] in (until, "error"):
            return reply


def _session_of(lab, before: set):
    """The Session of the tab opened since ``before`` was taken."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = lab.tabs - before
        if len(new) == 1:
            return next(iter(new)).session
        time.sleep(0.02)
    raise AssertionError("no new tab on the server")


def _http(lab, path: str = "/", **headers) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", lab.port, timeout=20)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", headers.pop("host", f"127.0.0.1:{lab.port}"))
    for k, v in headers.items():
        conn.putheader(k.replace("_", "-"), v)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


# ------------------------------------------------------------------ sessions and training


def test_training_runs_in_the_server_process_one_session_per_tab(lab):
    before = set(lab.tabs)
    with _tab(lab) as a:
        session_a = _session_of(lab, before)
        before = set(lab.tabs)
        with _tab(lab) as b:
            session_b = _session_of(lab, before)
            assert session_a is not session_b
            assert session_a.model is not session_b.model
            assert isinstance(session_a.model, nn.MLP)
            # steps on tab a train a's model, in this process; b's stays untouched
            w_b = session_b.model.state_dict()
            frames = [_ask(a, {"type": "step"}, "frame") for _ in range(3)]
            assert [f["step"] for f in frames] == [1, 2, 3]
            assert session_a.step_count == 3 and session_b.step_count == 0
            assert [h[1] for h in session_a.history] == [f["steps"][0][1] for f in frames]
            assert session_b.model.state_dict() == w_b
            # settings are per tab too
            state = _ask(b, {"type": "config", "settings": {"dataset": "xor"}}, "state")
            assert state["settings"]["dataset"] == "xor"
            assert session_b.settings.dataset == "xor" and session_a.settings.dataset == "moons"
        deadline = time.monotonic() + 10
        while any(t.session is session_b for t in lab.tabs) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(t.session is session_b for t in lab.tabs), "a closed tab's session stays"


def test_play_streams_frames_whose_loss_falls_and_pause_stops_them(lab):
    with _tab(lab) as ws:
        ws.send(json.dumps({"type": "play"}))
        frames = []
        while len(frames) < 25:
            m = json.loads(ws.recv(timeout=30))
            if m["type"] == "frame":
                frames.append(m)
        reply = _ask(ws, {"type": "pause"}, "paused")
        assert reply["type"] == "paused"
        steps = [s for f in frames for s in f["steps"]]
        assert [s[0] for s in steps] == list(range(1, len(steps) + 1))  # no step left out
        assert frames[-1]["loss"] < 0.6 * frames[0]["loss"]
        for f in frames:  # the pictures: 2 classes on the grid, 2 hidden layers of 16
            assert len(f["neurons"]) == 2 and len(f["weights"]) == 3
        # paused: no more frames
        time.sleep(0.3)
        with pytest.raises(TimeoutError):
            while True:
                if json.loads(ws.recv(timeout=0.5))["type"] == "frame":
                    raise AssertionError("a frame after pause")


def test_a_change_while_playing_keeps_the_history_whole(lab):
    """Adding a point while playing: state (with the history) and frames never repeat a step."""
    with _tab(lab) as ws:
        ws.send(json.dumps({"type": "play"}))
        history: list[int] = []
        added = False
        while len(history) < 40:
            m = json.loads(ws.recv(timeout=30))
            if m["type"] == "state":
                history = [h[0] for h in m["history"]]
            elif m["type"] == "frame":
                history += [s[0] for s in m["steps"]]
            if len(history) > 10 and not added:
                ws.send(json.dumps({"type": "add_point", "x": 1.9, "y": 1.9, "label": 1}))
                added = True
        _ask(ws, {"type": "pause"}, "paused")
        assert history == list(range(1, len(history) + 1))


def test_reset_while_playing_leaves_no_stale_frame_behind(lab):
    with _tab(lab) as ws:
        ws.send(json.dumps({"type": "play"}))
        seen = 0
        while seen < 5:
            seen += json.loads(ws.recv(timeout=30))["type"] == "frame"
        state = _ask(ws, {"type": "reset"}, "state")
        assert state["frame"]["step"] == 0 and state["history"] == []
        with pytest.raises(TimeoutError):
            while True:
                m = json.loads(ws.recv(timeout=0.5))
                assert m["type"] != "frame", f"a frame of step {m['step']} after the reset"


def test_ten_tabs_at_once_all_train(lab):
    tabs = [_tab(lab) for _ in range(10)]
    try:
        results: dict[int, list[float]] = {}

        def watch(i, ws):
            losses = []
            while len(losses) < 8:
                m = json.loads(ws.recv(timeout=120))
                if m["type"] == "frame":
                    losses.append(m["loss"])
            results[i] = losses

        for ws in tabs:
            ws.send(json.dumps({"type": "play"}))
        threads = [threading.Thread(target=watch, args=(i, ws)) for i, ws in enumerate(tabs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        assert sorted(results) == list(range(10))
        for losses in results.values():
            assert losses[-1] < losses[0]
    finally:
        for ws in tabs:
            ws.close()


# --------------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    "settings, needle",
    [
        ({"samples": LIMITS["points"] + 1}, "at most 2000 points"),
        ({"hidden": [16, LIMITS["width"] + 1]}, "at most 64 neurons"),
        ({"hidden": [4] * (LIMITS["layers"] + 1)}, "at most 6 hidden layers"),
        ({"samples": 2000, "hidden": [64, 64, 64]}, "too large for batched mode"),
        ({"mode": "scalar", "samples": 2000}, "too large for scalar mode"),
        ({"lr": -1}, "learning rate must be a number > 0"),
        ({"hidden": "16"}, "hidden must be a list"),
        ({"dataset": "mnist"}, "dataset must be one of"),
        ({"optimiser": "sgd"}, "unknown setting 'optimiser'"),
    ],
)
def test_a_larger_request_gets_a_clear_error_and_the_server_keeps_serving(lab, settings, needle):
    with _tab(lab) as ws:
        reply = _ask(ws, {"type": "config", "settings": settings}, "error")
        assert reply["type"] == "error" and needle in reply["message"], reply
        # the session kept its settings and still trains
        frame = _ask(ws, {"type": "step"}, "frame")
        assert frame["step"] == 1


def test_the_largest_allowed_network_and_data_work(lab):
    with _tab(lab) as ws:
        state = _ask(ws, {"type": "config", "settings": {"hidden": [64] * 6}}, "state")
        assert state["layers"] == [2, *[64] * 6, 1]
        assert _ask(ws, {"type": "step"}, "frame")["step"] == 1
        big = {"hidden": [16, 16], "samples": 2000}
        state = _ask(ws, {"type": "config", "settings": big}, "state")
        assert len(state["points"]) == 2000
        assert _ask(ws, {"type": "step"}, "frame")["step"] == 1
        reply = _ask(ws, {"type": "add_point", "x": 0.1, "y": 0.2, "label": 0}, "state")
        assert reply["type"] == "error" and "at most 2000 points" in reply["message"]


def test_points_are_added_and_removed(lab):
    with _tab(lab) as ws:
        state = _ask(ws, {"type": "add_point", "x": 1.5, "y": -1.5, "label": 1}, "state")
        assert state["points"][-1] == [1.5, -1.5, 1, True]
        assert len(state["points"]) == 101
        state = _ask(ws, {"type": "remove_point", "index": 100}, "state")
        assert len(state["points"]) == 100 and not any(p[3] for p in state["points"])
        for bad, needle in [
            ({"type": "add_point", "x": 5, "y": 0, "label": 0}, "x must be a number"),
            ({"type": "add_point", "x": 0, "y": 0, "label": 2}, "class must be between 0 and 1"),
            ({"type": "remove_point", "index": 100}, "point must be between 0 and 99"),
            ({"type": "backprop", "index": -1}, "point must be between"),
        ]:
            reply = _ask(ws, bad, "state")
            assert reply["type"] == "error" and needle in reply["message"], reply


# ------------------------------------------------------------------------------ security


def test_own_host_and_origin_are_served(lab):
    status, headers, body = _http(lab)
    assert status == 200 and b'id="boundary"' in body
    assert "script-src 'self'" in headers["content-security-policy"]
    status, _, body = _http(lab, "/", host=f"localhost:{lab.port}", origin=lab.origin)
    assert status == 200
    for name in ("lab.js", "lab.css"):
        assert _http(lab, f"/assets/{name}")[0] == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "evil.example"},
        {"host": "evil.example:{port}"},
        {"host": "127.0.0.1.evil.example:{port}"},
        {"host": "127.0.0.1:1"},  # another port
        {"host": "127.0.0.1"},  # no port: not this server's own name for itself
        {"origin": "http://evil.example"},
        {"origin": "http://localhost:1"},
        {"origin": "null"},
        {"origin": "https://127.0.0.1:{port}"},
    ],
)
def test_foreign_host_or_origin_gets_403_over_http_and_websocket(lab, headers):
    headers = {k: v.format(port=lab.port) for k, v in headers.items()}
    for path in ("/", "/assets/lab.js", "/ws", "/viewer/x"):
        assert _http(lab, path, **headers)[0] == 403, (path, headers)
    # the client names the Host of its URI; the socket goes to the lab all the same
    uri = f"ws://{headers.get('host', f'127.0.0.1:{lab.port}')}/ws"
    sock = socket.create_connection(("127.0.0.1", lab.port), timeout=20)
    with pytest.raises(InvalidStatus) as info:
        connect(uri, sock=sock, origin=headers.get("origin", lab.origin), open_timeout=20)
    assert info.value.response.status_code == 403


def test_a_websocket_without_origin_gets_403(lab):
    with pytest.raises(InvalidStatus) as info:
        connect(lab.ws_url, open_timeout=20)
    assert info.value.response.status_code == 403


def test_only_the_labs_own_assets_are_served(lab):
    for path in (
        "/assets/session.py",
        "/assets/../session.py",
        "/assets/%2e%2e/server.py",
        "/assets/index.html",
        "/etc/passwd",
        "/viewer/not-a-token",
        "/docs",
    ):
        assert _http(lab, path)[0] == 404, path


def test_the_viewer_page_lives_while_its_tab_is_open(lab):
    with _tab(lab) as ws:
        reply = _ask(ws, {"type": "backprop", "index": 0}, "backprop")
        assert reply["type"] == "backprop", reply
        status, headers, body = _http(lab, reply["url"])
        assert status == 200 and b'id="trace-data"' in body
        assert "frame-ancestors 'self'" in headers["content-security-policy"]
        assert _http(lab, reply["url"], host="evil.example")[0] == 403
    deadline = time.monotonic() + 10
    while _http(lab, reply["url"])[0] != 404:
        assert time.monotonic() < deadline, "the viewer outlived its tab"
        time.sleep(0.05)


def test_backprop_gradients_are_the_engines():
    session = Session()
    for _ in range(5):
        session.step()
    reply = session.backprop(11)
    loss, model = session.point_loss(11)
    loss.backward()
    assert reply["grads"] == {name: p.grad for name, p in model.named_parameters()}
    assert len(reply["grads"]) == len(session.params)
    # and the live model's gradients were not touched by it
    assert [p.grad for p in session.params] == [p.grad for p in session.model.parameters()]


# ------------------------------------------------------------------------ bad messages


def test_malformed_messages_are_answered_with_an_error_and_never_crash(lab):
    rng = random.Random(12)
    with _tab(lab) as ws:
        for _ in range(40):  # random bytes, as binary messages
            reply = _ask(ws, rng.randbytes(rng.randint(1, 300)), "error")
            assert reply == {"type": "error", "message": reply["message"], "about": ""}
            assert "JSON text" in reply["message"]
        for _ in range(40):  # random text
            text = "".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 80)))
            try:
                json.loads(text)
                continue
            except ValueError:
                pass
            reply = _ask(ws, text, "error")
            assert reply["type"] == "error" and "must be JSON" in reply["message"]
        wrong = [
            "[]",
            "42",
            '"play"',
            "null",
            "{}",
            '{"type": 5}',
            '{"type": "explode"}',
            '{"type": "__init__"}',
            '{"type": "config"}',
            '{"type": "config", "settings": [1, 2]}',
            '{"type": "config", "settings": {"samples": "many"}}',
            '{"type": "config", "settings": {"samples": 1e400}}',
            '{"type": "config", "settings": {"noise": NaN}}',
            '{"type": "config", "settings": {"hidden": [1.5]}}',
            '{"type": "config", "settings": {"hidden": [true]}}',
            '{"type": "config", "settings": {"zero_grad": "no"}}',
            '{"type": "add_point", "x": "1", "y": 0, "label": 0}',
            '{"type": "add_point", "x": Infinity, "y": 0, "label": 0}',
            '{"type": "add_point"}',
            '{"type": "remove_point", "index": 1.0}',
            '{"type": "remove_point", "index": 99999999999999999999999}',
            '{"type": "backprop", "index": "0"}',
            '{"type": "mistake", "id": {"a": 1}}',
            '{"type": "mistake", "id": "nope"}',
            '{"type": "play", "type": ["x"]}',
            "[" * 60_000,  # nested too deep for the JSON parser
            "[" * 30_000 + "]" * 30_000,
        ]
        for text in wrong:
            reply = _ask(ws, text, "error")
            assert reply["type"] == "error" and reply["message"], text
        assert _ask(ws, {"type": "step"}, "frame")["step"] == 1  # still answering
    # a message over the size limit closes that connection only
    with _tab(lab) as ws:
        ws.send("x" * 200_000)
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=20)
    with _tab(lab) as ws:
        assert _ask(ws, {"type": "step"}, "frame")["step"] == 1


def test_garbage_on_the_socket_does_not_stop_the_server(lab):
    rng = random.Random(5)
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", lab.port), timeout=10) as s:
            s.sendall(rng.randbytes(500) + b"\r\n\r\n")
            try:
                s.recv(1000)
            except OSError:
                pass
    assert _http(lab)[0] == 200


# ------------------------------------------------------------------------------- the CLI


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "zdravkograd", "lab", "--no-browser", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = proc.stdout.readline()
    assert "serving on http://" in line, line + proc.stderr.read()
    return proc, line.split("serving on ")[1].split()[0]


def test_the_command_prints_the_url_serves_and_stops_cleanly_on_ctrl_c():
    proc, url = _start()
    try:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1].strip("/"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        # an open tab does not keep it from stopping
        ws = connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}", legacy=True)
        ws.recv(timeout=20)
        ws.send(json.dumps({"type": "play"}))
        ws.recv(timeout=20)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Error" not in err, err
    assert "stopped" in out


def test_without_no_browser_it_opens_the_url_in_a_browser(tmp_path):
    opened = tmp_path / "opened.txt"
    fake = tmp_path / "fake-browser"
    fake.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BROWSER": str(fake)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "zdravkograd", "lab", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = proc.stdout.readline().split("serving on ")[1].split()[0]
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text().strip()):
            assert time.monotonic() < deadline, "no browser was opened"
            time.sleep(0.05)
        assert opened.read_text().strip() == url
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_host_0000_warns():
    proc, url = _start("--host", "0.0.0.0")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "warning: --host 0.0.0.0" in err and "other computers" in err
    assert "Traceback" not in err


def test_a_port_in_use_is_one_line_and_exit_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "zdravkograd", "lab", "--no-browser", "--port", str(port)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"zdravkograd: error: cannot listen on 127.0.0.1:{port}")
    assert proc.stderr.count("\n") == 1 and "another --port" in proc.stderr


@pytest.mark.parametrize(
    "args, needle", [(["--port", "70000"], "port number 0-65535"), (["--port", "x"], "port")]
)
def test_bad_flags_exit_2(args, needle):
    proc = subprocess.run(
        [sys.executable, "-m", "zdravkograd", "lab", "--no-browser", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert proc.returncode == 2 and needle in proc.stderr
    assert proc.stderr.count("\n") == 1
