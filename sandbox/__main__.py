"""Command line: python -m sandbox [--host 127.0.0.1] [--port 8787]."""

import argparse
import logging
import signal
import sys
from types import FrameType

from .server import is_loopback, make_server

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
    return parser.parse_args(argv)


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """Stop the server once, on the first SIGINT or SIGTERM.

    Ctrl-C in a terminal sends SIGINT to the whole process group, and a parent such as
    `manage.py demo` then sends SIGTERM as well. Ignoring both from here on keeps the second
    signal from interrupting the shutdown with a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    try:
        server = make_server(args.host, args.port)
    except ValueError as err:
        print(f"sandbox: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"sandbox: cannot listen on {args.host} port {args.port}: {err}", file=sys.stderr)
        return 1

    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        print(f"Sandbox listening on {server.url}", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("Sandbox stopping")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
