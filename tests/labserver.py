"""A lab server running in the test's own process (a thread), so tests can look at its tabs.

``RunningLab()`` binds 127.0.0.1 on a free port and serves ``create_app()`` with uvicorn,
as ``zdravkograd lab`` does; ``.tabs`` is the set of open tabs (each with its Session).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

from zdravkograd.lab.server import MAX_MESSAGE, create_app


class RunningLab:
    def __init__(self) -> None:
        self.app = create_app()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.origin = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        config = uvicorn.Config(
            self.app,
            ws="websockets-sansio",
            ws_max_size=MAX_MESSAGE,
            lifespan="off",
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        # anything the server logs as an error (an exception in the app) fails the tests
        self.logged: list[str] = []
        handler = logging.Handler(logging.ERROR)
        handler.emit = lambda record: self.logged.append(record.getMessage())  # type: ignore
        logging.getLogger("uvicorn.error").addHandler(handler)
        self._handler = handler
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the lab server did not start")
            time.sleep(0.02)

    @property
    def tabs(self) -> set[Any]:
        return self.app.tabs

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        logging.getLogger("uvicorn.error").removeHandler(self._handler)
        assert not self.thread.is_alive(), "the lab server did not stop"
        assert self.logged == [], self.logged
