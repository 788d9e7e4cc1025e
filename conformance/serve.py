"""``dlr-conformance serve``: run the reference receiver in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys

from conformance.receiver import ReceiverServer

__all__ = ["main"]


def _port(text: str) -> int:
    """A TCP port number, 0 for any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 65535 (got {text!r})") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 65535 (got {text!r})")
    return value


def main(argv: list[str]) -> int:
    """Serve the reference receiver; returns the exit code (0 after Ctrl-C, 4 for bad arguments)."""
    parser = argparse.ArgumentParser(prog="dlr-conformance serve", description="Run the reference receiver.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8080, help="port to listen on; 0 picks a free one (default: 8080)"
    )
    parser.add_argument("--db", default="dlr-reports.sqlite3", help="SQLite file (default: dlr-reports.sqlite3)")

    def error(message: str) -> None:
        # "argument --port: must be ..." -> "--port must be ...", on one line
        message = " ".join(message.split()).removeprefix("argument ").replace(": must ", " must ", 1)
        parser.exit(4, f"dlr-conformance serve: error: {message.rstrip('.')}.\n")

    parser.error = error  # type: ignore[method-assign,assignment]
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        server = ReceiverServer(ns.host, ns.port, ns.db)
    except sqlite3.Error as exc:
        print(
            f"dlr-conformance serve: error: cannot open the database {ns.db!r} ({exc}); give a writable --db path.",
            file=sys.stderr,
        )
        return 4
    except (OSError, OverflowError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(
            f"dlr-conformance serve: error: cannot listen on {ns.host}:{ns.port} ({why}); choose another --host "
            "or --port.",
            file=sys.stderr,
        )
        return 4
    print(f"reference receiver listening on {server.url} (database {ns.db}); Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.store.close()
    return 0
