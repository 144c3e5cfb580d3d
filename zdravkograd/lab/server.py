"""The lab's web server: a Starlette app with one WebSocket per browser tab.

* ``GET /`` is the page, ``GET /assets/lab.js`` and ``/assets/lab.css`` its script and
  style (package data files, see ``zdravkograd/lab/assets/``). Nothing else is served,
  except ``GET /viewer/TOKEN``: the backprop viewer a tab asked for, under an unguessable
  token, kept in memory while the tab is open.
* ``/ws`` is the tab's WebSocket. Each connection gets its own ``Session``, which trains
  in this process (in a worker thread, so that the server keeps answering) and streams
  frames while playing.
* Every request whose ``Host`` (or ``Origin``, when there is one; a WebSocket must have
  one) is not this server's own gets 403. This stops DNS rebinding (a foreign name
  pointing at 127.0.0.1) and other sites' pages from driving the lab.

The messages are JSON objects with a ``type``; anything else is answered with
``{"type": "error", "message": ...}`` and the connection stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from importlib import resources
from typing import Any

from zdravkograd._optional import require_extra
from zdravkograd.lab.session import DATASETS, LIMITS, MISTAKES, LabError, Session, Settings

__all__ = ["create_app", "ASSETS", "MAX_MESSAGE", "FRAME_INTERVAL"]

ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "lab.js": "text/javascript; charset=utf-8",
    "lab.css": "text/css; charset=utf-8",
}
"""The files the server serves, from the package's ``assets`` folder, and their types."""

MAX_MESSAGE = 64 * 1024
"""The largest WebSocket message a tab may send (bytes); settings and clicks are tiny."""

FRAME_INTERVAL = 1 / 30
"""While playing, at most one frame every FRAME_INTERVAL seconds (30 frames/s)."""

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
log = logging.getLogger("uvicorn.error")

_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
# The viewer is one self-contained page with its script and style inline.
_VIEWER_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _load_assets() -> dict[str, bytes]:
    folder = resources.files("zdravkograd.lab") / "assets"
    return {name: (folder / name).read_bytes() for name in ASSETS}


def own_hosts(scope: dict[str, Any]) -> set[str]:
    """The ``Host`` values that name this server, for the socket the request came in on.

    The loopback names with the port, and the address the client connected to (which is
    this machine's own: it matters with ``--host 0.0.0.0``) with the port.
    """
    server = scope.get("server") or ("127.0.0.1", 80)
    address, port = server[0], server[1]
    names = set(LOOPBACK_NAMES)
    if address:
        names.add(f"[{address}]" if ":" in address else address)
        hostname, hostname_address = _this_host()
        if address == hostname_address:
            names.add(hostname)
    return {f"{name}:{port}" for name in names}


@functools.lru_cache(maxsize=1)
def _this_host() -> tuple[str, str]:
    """This computer's name and the address it resolves to (looked up once)."""
    name = socket.gethostname().lower()
    try:
        return name, socket.gethostbyname(name)
    except OSError:
        return name, ""


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    values = [v for k, v in scope.get("headers", []) if k.lower() == name]
    if len(values) != 1:
        return None if not values else "\0"  # two Host or Origin headers: not ours
    return values[0].decode("latin-1")


def is_own_request(scope: dict[str, Any]) -> tuple[bool, str]:
    """(True, "") if Host and Origin name this server; else (False, the reason)."""
    hosts = own_hosts(scope)
    host = _header(scope, b"host")
    if host is None or host.lower() not in hosts:
        return False, f"Host {host!r} is not this server"
    origin = _header(scope, b"origin")
    if origin is None:
        if scope["type"] == "websocket":
            return False, "a WebSocket needs an Origin header"
        return True, ""
    if not origin.lower().startswith("http://") or origin.lower()[7:] not in hosts:
        return False, f"Origin {origin!r} is not this server"
    return True, ""


class OwnOriginOnly:
    """ASGI middleware: 403 for any HTTP or WebSocket request from a foreign Host or Origin."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tabs: set[Tab] = set()  # the open tabs, each with its Session (for the tests)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[..., Awaitable[Any]],
        send: Callable[..., Awaitable[Any]],
    ) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        ok, reason = is_own_request(scope)
        if ok:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            # a close before accept is answered with HTTP 403 by the server
            await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
            return
        body = f"403 Forbidden: {reason}\n".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def hello_message() -> dict[str, Any]:
    """The first message of a connection: the choices, the limits, the experiments."""
    return {
        "type": "hello",
        "limits": LIMITS,
        "datasets": DATASETS,
        "defaults": asdict(Settings()),
        "mistakes": [{k: m[k] for k in ("id", "title", "watch", "settings")} for m in MISTAKES],
    }


class Tab:
    """One WebSocket connection: its session, its play loop, its messages."""

    def __init__(self, ws: Any, viewers: dict[str, str], session: Session) -> None:
        self.ws = ws
        self.session = session
        self.viewers = viewers  # the app's token → viewer page
        self.tokens: list[str] = []
        self.lock = asyncio.Lock()  # one computation on the session at a time
        self.send_lock = asyncio.Lock()
        self.playing = False
        self.player: asyncio.Task[None] | None = None

    async def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message, allow_nan=False)
        async with self.send_lock:
            await self.ws.send_text(text)

    async def error(self, message: str, about: str = "") -> None:
        await self.send({"type": "error", "message": message, "about": about})

    async def run(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the session in a worker thread, one at a time."""
        async with self.lock:
            return await asyncio.to_thread(fn)

    async def state_and_frame(self) -> None:
        state, frame = await self.run(
            lambda: (self.session.state_message(), self.session.frame_message())
        )
        await self.send(state)
        await self.send(frame)

    # ----------------------------------------------------------------- play loop

    async def play(self) -> None:
        while self.playing:
            started = time.perf_counter()

            def tick() -> dict[str, Any]:
                self.session.step()
                return self.session.frame_message()

            try:
                frame = await self.run(tick)
            except Exception as exc:
                if _gone(exc):
                    raise
                self.playing = False
                await self.send({"type": "paused"})
                await self.error(_describe(exc), "step")
                return
            await self.send(frame)
            await asyncio.sleep(max(0.0, FRAME_INTERVAL - (time.perf_counter() - started)))

    async def stop(self) -> None:
        """Stop playing and wait for the last frame, so that nothing follows "paused"."""
        self.playing = False
        if self.player is not None:
            player, self.player = self.player, None
            await player

    async def close(self) -> None:
        self.playing = False
        if self.player is not None:
            self.player.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.player
        for token in self.tokens:
            self.viewers.pop(token, None)

    # ------------------------------------------------------------------ messages

    async def handle(self, text: str | None) -> None:
        if text is None:
            return await self.error("messages must be JSON text, not binary data")
        try:
            message = json.loads(text)
        except ValueError as exc:
            return await self.error(f"a message must be JSON: {exc}")
        except RecursionError:
            return await self.error("a message must be JSON, not nested this deep")
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return await self.error('a message must be a JSON object with a "type" string')
        kind = message["type"]
        handler = getattr(self, "on_" + kind.replace("-", "_"), None)
        if kind not in MESSAGE_TYPES or handler is None:
            return await self.error(
                f"unknown message type {kind!r:.40}; expected one of {', '.join(MESSAGE_TYPES)}"
            )
        try:
            await handler(message)
        except Exception as exc:
            if _gone(exc):
                raise
            await self.error(_describe(exc), kind)

    async def on_play(self, message: dict[str, Any]) -> None:
        if self.session.diverged:
            raise LabError(self.session.diverged)
        if not self.playing:
            await self.stop()  # a loop that stopped by itself: let it end first
            self.playing = True
            await self.send({"type": "playing"})
            self.player = asyncio.create_task(self.play())

    async def on_pause(self, message: dict[str, Any]) -> None:
        await self.stop()
        await self.send({"type": "paused"})

    async def on_step(self, message: dict[str, Any]) -> None:
        await self.stop()

        def one() -> dict[str, Any]:
            self.session.step()
            return self.session.frame_message()

        await self.send({"type": "paused"})
        await self.send(await self.run(one))

    async def on_reset(self, message: dict[str, Any]) -> None:
        await self.stop()
        await self.run(self.session.reset)
        await self.send({"type": "paused"})
        await self.state_and_frame()

    async def on_config(self, message: dict[str, Any]) -> None:
        settings = message.get("settings")
        await self.stop()
        await self.send({"type": "paused"})
        try:
            await self.run(lambda: self.session.configure(settings))
        except LabError:
            await self.state_and_frame()  # the page shows the settings still in force
            raise
        await self.state_and_frame()

    async def on_mistake(self, message: dict[str, Any]) -> None:
        ids = {m["id"]: m for m in MISTAKES}
        mistake = ids.get(str(message.get("id")))
        if mistake is None:
            raise LabError(f"unknown experiment {message.get('id')!r:.40}")
        await self.on_config({"settings": {**asdict(Settings()), **mistake["settings"]}})
        await self.on_play({})  # one click: set up and run

    async def on_add_point(self, message: dict[str, Any]) -> None:
        await self.run(
            lambda: self.session.add_point(message.get("x"), message.get("y"), message.get("label"))
        )
        await self.state_and_frame()

    async def on_remove_point(self, message: dict[str, Any]) -> None:
        await self.run(lambda: self.session.remove_point(message.get("index")))
        await self.state_and_frame()

    async def on_backprop(self, message: dict[str, Any]) -> None:
        result = await self.run(lambda: self.session.backprop(message.get("index")))
        token = secrets.token_urlsafe(18)
        self.viewers[token] = result.pop("html")
        self.tokens.append(token)
        while len(self.tokens) > 3:  # keep the last few pages of this tab
            self.viewers.pop(self.tokens.pop(0), None)
        await self.send({**result, "url": f"/viewer/{token}"})


def _gone(exc: Exception) -> bool:
    """Is ``exc`` the tab going away (not a failure to report)?"""
    return type(exc).__name__ == "WebSocketDisconnect" or isinstance(exc, OSError)


def _describe(exc: Exception) -> str:
    """The page's message for an exception; a bug is also logged with its traceback."""
    if isinstance(exc, LabError):
        return str(exc)
    log.error("the lab hit an unexpected error", exc_info=exc)
    return f"the lab hit an unexpected error ({type(exc).__name__}: {exc}); press Reset"


MESSAGE_TYPES = (
    "play",
    "pause",
    "step",
    "reset",
    "config",
    "mistake",
    "add_point",
    "remove_point",
    "backprop",
)


def create_app() -> OwnOriginOnly:
    """The lab's ASGI application (Starlette), wrapped in the Host/Origin check."""
    require_extra("starlette", "lab", "The lab (zdravkograd lab)")
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    assets = _load_assets()
    viewers: dict[str, str] = {}
    common = {
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
    }

    def asset(name: str) -> Response:
        headers = dict(common)
        if name == "index.html":
            headers["content-security-policy"] = _PAGE_POLICY
        return Response(assets[name], media_type=ASSETS[name], headers=headers)

    async def page(request: Request) -> Response:
        return asset("index.html")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS or name == "index.html":
            return Response("404 Not Found\n", status_code=404, media_type="text/plain")
        return asset(name)

    async def viewer(request: Request) -> Response:
        html = viewers.get(request.path_params["token"])
        if html is None:
            return Response(
                "404 Not Found: this viewer is gone (the tab was closed)\n",
                status_code=404,
                media_type="text/plain",
            )
        headers = {
            **common,
            "content-security-policy": _VIEWER_POLICY,
            "x-frame-options": "SAMEORIGIN",
        }
        return Response(html, media_type="text/html; charset=utf-8", headers=headers)

    async def lab_socket(ws: WebSocket) -> None:
        await ws.accept()
        tab = Tab(ws, viewers, await asyncio.to_thread(Session))
        guarded.tabs.add(tab)
        try:
            await tab.send(hello_message())
            await tab.state_and_frame()
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                await tab.handle(text if isinstance(text, str) else None)
        except WebSocketDisconnect:
            pass
        finally:
            guarded.tabs.discard(tab)
            await tab.close()

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/assets/{name}", static),
            Route("/viewer/{token}", viewer),
            WebSocketRoute("/ws", lab_socket),
        ]
    )
    guarded = OwnOriginOnly(app)
    return guarded
