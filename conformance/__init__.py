"""dlr-conformance: contract and conformance tests for SMS delivery-report callback receivers.

The public API, for those who drive the library without the suite (``from conformance import Sender``)::

    contract      errors, is_valid, load_schema, documented_example, KNOWN_STATUSES, KNOWN_TYPES
    delivery      Sender, DeliveryConfig, Exchange, RetryPolicy, PLATFORM_RETRY
    checks        run_checks, Failure, Warned, Outcome
    requirements  CATALOGUE, Requirement, by_id
    reference     ReceiverServer (the reference receiver, embeddable), Store

Each name is imported on first use: every process of a run imports this package first (the generator worker
too), and must not pay for what it does not use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "errors": "conformance.contract.schema",
    "is_valid": "conformance.contract.schema",
    "load_schema": "conformance.contract.schema",
    "documented_example": "conformance.contract.schema",
    "KNOWN_STATUSES": "conformance.contract.schema",
    "KNOWN_TYPES": "conformance.contract.schema",
    "Sender": "conformance.delivery.sender",
    "DeliveryConfig": "conformance.delivery.sender",
    "Exchange": "conformance.delivery.sender",
    "RetryPolicy": "conformance.delivery.sender",
    "PLATFORM_RETRY": "conformance.delivery.sender",
    "run_checks": "conformance.checks.answers",
    "Failure": "conformance.checks.answers",
    "Warned": "conformance.checks.answers",
    "Outcome": "conformance.checks.answers",
    "CATALOGUE": "conformance.requirements",
    "Requirement": "conformance.requirements",
    "by_id": "conformance.requirements",
    "ReceiverServer": "conformance.reference.receiver",
    "Store": "conformance.reference.receiver",
}

__all__ = ["__version__", *sorted(_WHERE)]

__version__: str  # looked up on first use: importlib.metadata costs ~50 ms in every process of a run


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("dlr-conformance")
        except PackageNotFoundError:  # a source tree that was never installed
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
