"""dlr-conformance: contract and conformance tests for SMS delivery-report callback receivers."""

from __future__ import annotations

__all__ = ["__version__"]

__version__: str  # looked up on first use (module __getattr__): importlib.metadata costs ~50 ms, and every
# process of a run imports this package first, the generator worker too


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("dlr-conformance")
    except PackageNotFoundError:  # a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
