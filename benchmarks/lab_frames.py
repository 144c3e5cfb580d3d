"""Frames per second of the lab: ``python benchmarks/lab_frames.py [--rounds 5] [--seconds 5]``.

Each round starts ``zdravkograd lab --no-browser --port 0`` in a fresh process, opens TABS
WebSockets as the page does (own Origin), presses Play on MLP(2, [16, 16, 1]) on the moons
(the page's defaults, batched mode) and counts the frames each tab receives over
``--seconds`` after a one-second warm-up. It prints the median over the rounds, with the
lowest and highest, for one tab and for ten tabs at once. The server caps a tab at 30
frames a second (``zdravkograd.lab.server.FRAME_INTERVAL``). ``make bench`` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_round(tabs: int, seconds: float) -> list[float]:
    """Start a server, play in ``tabs`` tabs, return each tab's frames per second."""
    from websockets.sync.client import connect

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "zdravkograd", "lab", "--no-browser", "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split("serving on ")[1].split()[0]
        host = url.split("//")[1].strip("/")
        rates: list[float] = [0.0] * tabs

        def tab(i: int) -> None:
            with connect(f"ws://{host}/ws", origin=f"http://{host}", open_timeout=30) as ws:
                ws.send(json.dumps({"type": "play"}))
                start = time.perf_counter()
                counted, first = 0, None
                while True:
                    message = json.loads(ws.recv(timeout=60))
                    if message["type"] != "frame":
                        continue
                    now = time.perf_counter()
                    if now - start < 1.0:  # warm-up
                        continue
                    if first is None:
                        first = now
                        continue
                    counted += 1
                    if now - first >= seconds:
                        rates[i] = counted / (now - first)
                        return

        threads = [threading.Thread(target=tab, args=(i,)) for i in range(tabs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return rates
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="fresh server processes (5)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds counted (5)")
    args = parser.parse_args(argv)
    for tabs in (1, 10):
        rates = []
        for _ in range(args.rounds):
            rates.extend(one_round(tabs, args.seconds))
        print(
            f"lab, MLP(2, [16, 16, 1]) on moons, {tabs:2d} tab(s): median "
            f"{statistics.median(rates):.1f} frames/s per tab "
            f"(lowest {min(rates):.1f}, highest {max(rates):.1f}; {args.rounds} rounds)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
