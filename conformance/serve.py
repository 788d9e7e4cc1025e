"""``dlr-conformance serve``: run the reference receiver in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys

from conformance.receiver import ReceiverServer

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Serve the reference receiver; returns the exit code (0 after Ctrl-C, 4 for bad arguments)."""
    parser = argparse.ArgumentParser(prog="dlr-conformance serve", description="Run the reference receiver.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one (default: 8080)")
    parser.add_argument("--db", default="dlr-reports.sqlite3", help="SQLite file (default: dlr-reports.sqlite3)")
    parser.error = lambda message: parser.exit(4, f"dlr-conformance serve: error: {message}\n")  # type: ignore[method-assign]
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        server = ReceiverServer(ns.host, ns.port, ns.db)
    except OSError as exc:
        print(f"dlr-conformance serve: error: cannot listen on {ns.host}:{ns.port} ({exc.strerror}).", file=sys.stderr)
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
