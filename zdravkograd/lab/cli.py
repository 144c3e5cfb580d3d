"""``zdravkograd lab [--port N] [--host 127.0.0.1] [--no-browser]``: start the lab's server.

It binds the socket itself (so a port in use is a one-line error, before anything
starts), prints the URL, opens a browser unless ``--no-browser``, and serves until
Ctrl-C, which stops it cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import threading
import webbrowser
from typing import Any

from zdravkograd._optional import require_extra

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _port(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return n


def add_parser(sub: Any) -> None:
    """Register the ``lab`` command on the CLI's subparsers."""
    lab = sub.add_parser(
        "lab",
        help="train a network and watch backprop live in the browser",
        description="Start the lab: a local web page that trains a network with zdravkograd "
        "(in this process) and shows the decision boundary, the loss, every neuron and, for "
        "a clicked point, the backward pass step by step. Ctrl-C stops it.",
    )
    lab.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on ({DEFAULT_PORT}; 0 picks a free one)",
    )
    lab.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on ({DEFAULT_HOST}: this computer only)",
    )
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.set_defaults(func=cmd_lab)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    from zdravkograd.cli import CLIError

    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise CLIError(f"cannot listen on --host {host!r}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        hint = " (try another --port)" if exc.errno in (98, 48, 10048) else ""
        raise CLIError(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}") from None
    sock.setblocking(False)
    return sock


def cmd_lab(args: argparse.Namespace) -> int:
    """Serve the lab until Ctrl-C."""
    feature = "The lab (zdravkograd lab)"
    require_extra("starlette", "lab", feature)
    uvicorn = require_extra("uvicorn", "lab", feature)
    require_extra("websockets", "lab", feature)
    require_extra("sklearn", "lab", feature)
    from zdravkograd.lab.server import MAX_MESSAGE, create_app

    sock = _bind(args.host, args.port)
    if not _is_loopback(args.host):
        print(
            f"zdravkograd lab: warning: --host {args.host} makes the lab reachable from other "
            "computers on your network; anyone who can reach it can train networks on this "
            "one. Use it only on a network you trust.",
            file=sys.stderr,
        )
    bound_host, port = sock.getsockname()[:2]
    shown = args.host if _is_loopback(args.host) else bound_host
    if shown in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    url = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"
    config = uvicorn.Config(
        create_app(),
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=MAX_MESSAGE,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    opener = threading.Timer(0.5, webbrowser.open, args=(url,))
    try:  # from here on, Ctrl-C at any moment is a clean stop
        print(f"zdravkograd lab: serving on {url}  (Ctrl-C stops it)", flush=True)
        if not args.no_browser:
            opener.start()
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled, once it has stopped
        pass
    finally:
        opener.cancel()
        sock.close()
    print("zdravkograd lab: stopped", flush=True)
    return 0
