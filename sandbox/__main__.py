"""Command line: python -m sandbox [--host 127.0.0.1] [--port 8787]."""

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from .server import SandboxServer, is_loopback, make_server

logger = logging.getLogger("sandbox")


def loopback_host(value: str) -> str:
    if not is_loopback(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a loopback address; use 127.0.0.1 (or any 127.0.0.0/8), ::1 "
            "or localhost, because the sandbox accepts a published test token"
        )
    return value


def port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {port}")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Serve a stand-in for Cloudflare's RealtimeKit API on a loopback address.",
    )
    parser.add_argument(
        "--host", type=loopback_host, default="127.0.0.1", help="loopback address to bind"
    )
    parser.add_argument(
        "--port", type=port_number, default=8787, help="TCP port to bind; 0 picks a free port"
    )
    parser.add_argument(
        "--fresh-sessions",
        action="store_true",
        help="give the seeded live sessions new ids at start, kept across resets, instead of "
        "the fixed ones",
    )
    return parser.parse_args(argv)


def stop_on_signals(server: SandboxServer) -> None:
    """Make the first SIGINT or SIGTERM stop the server, and any later one do nothing.

    Ctrl-C in a terminal sends SIGINT to the whole process group, and a parent such as
    `manage.py demo` then sends SIGTERM as well. The handler neither raises nor changes signal
    dispositions, so a second signal cannot interrupt the shutdown with a traceback.
    """
    stopping = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            # shutdown() waits for serve_forever() to return, so it cannot run in its thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    try:
        server = make_server(args.host, args.port, fresh_sessions=args.fresh_sessions)
    except ValueError as err:
        print(f"sandbox: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"sandbox: cannot listen on {args.host} port {args.port}: {err}", file=sys.stderr)
        return 1

    stop_on_signals(server)
    try:
        print(f"Sandbox listening on {server.url}", flush=True)
        server.serve_forever()
        logger.info("Sandbox stopping")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
