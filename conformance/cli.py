"""The ``dlr-conformance`` command: a thin face over the library and the pytest suite.

``dlr-conformance [run options]`` runs the conformance suite (the default command),
``dlr-conformance validate FILE...`` checks payloads against the contract,
``dlr-conformance serve`` runs the reference receiver.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "validate":
        from conformance.validation import main as validate_main

        return validate_main(args[1:])
    raise SystemExit("not implemented yet")


if __name__ == "__main__":
    sys.exit(main())
