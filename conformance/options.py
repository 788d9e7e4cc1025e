"""Run options: one definition shared by the CLI and the pytest plugin, with validators that explain.

Each validator takes the option's text and returns the value or raises ``argparse.ArgumentTypeError`` with
one sentence that names the offending value and says what to do; both argparse (the CLI) and pytest's parser
(the plugin) turn that into a usage error, exit code 4.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "DEFAULTS",
    "ENV_TARGET_URL",
    "OPTIONS",
    "Option",
    "RunOptions",
    "ca_bundle",
    "header",
    "non_negative_float",
    "positive_float",
    "positive_int",
    "seed",
    "target_url",
]

ENV_TARGET_URL = "DLR_TARGET_URL"
INI_TARGET_URL = "dlr_target_url"


def target_url(text: str) -> str:
    """An absolute http:// or https:// URL with a host."""
    parts = urlsplit(text.strip())
    if parts.scheme not in {"http", "https"}:
        shown = text if "@" not in text and "?" not in text else f"{parts.scheme}://…"
        raise argparse.ArgumentTypeError(
            f"--target-url must start with http:// or https:// (got {shown!r}); the platform supports no other scheme."
        )
    if not parts.hostname:
        raise argparse.ArgumentTypeError("--target-url has no host name; give a full URL like https://host/dlr.")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise argparse.ArgumentTypeError("--target-url has an invalid port; use a number from 1 to 65535.") from None
    return text.strip()


def _number(text: str, kind: type[int] | type[float], what: str) -> int | float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what} (got {text!r}).") from None


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    value = int(_number(text, int, "a whole number of at least 1"))
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1 (got {text!r}).")
    return value


def seed(text: str) -> int:
    """A non-negative whole number."""
    value = int(_number(text, int, "a whole number of 0 or more"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more (got {text!r}).")
    return value


def positive_float(text: str) -> float:
    """A number of seconds greater than zero."""
    value = float(_number(text, float, "a number greater than 0"))
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number greater than 0 (got {text!r}).")
    return value


def non_negative_float(text: str) -> float:
    """A number of seconds, zero allowed."""
    value = float(_number(text, float, "a number of 0 or more"))
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more (got {text!r}).")
    return value


def header(text: str) -> tuple[str, str]:
    """``Name: value`` -> (name, value)."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name or any(c.isspace() or c in '()<>@,;:\\"/[]?={}' for c in name):
        raise argparse.ArgumentTypeError(
            "--header must look like 'Name: value' (the value is masked in every output)."
        )
    return name, value.strip()


def ca_bundle(text: str) -> str:
    """A readable PEM file of CA certificates."""
    if not os.path.isfile(text) or not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"--ca-bundle {text!r} is not a readable file; give a PEM file of CA certificates.")
    try:
        with open(text, encoding="ascii", errors="replace") as f:
            if "-----BEGIN CERTIFICATE-----" not in f.read(1 << 20):
                raise argparse.ArgumentTypeError(f"--ca-bundle {text!r} holds no PEM certificate.")
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"--ca-bundle {text!r} cannot be read ({exc.strerror}).") from None
    return text


@dataclass(frozen=True)
class Option:
    """One run option: flags, type, default, help; registered the same way in the CLI and in pytest."""

    flags: tuple[str, ...]
    dest: str
    help: str
    type: object = None
    default: object = None
    action: str | None = None
    metavar: str | None = None


OPTIONS: tuple[Option, ...] = (
    Option(("--target-url",), "dlr_target_url", "the receiver's callback URL (also the dlr_target_url ini key or "
           f"the {ENV_TARGET_URL} environment variable); none: test the bundled reference receiver",
           type=target_url, metavar="URL"),
    Option(("--examples",), "dlr_examples", "how many generated payloads to send (default: 100)",
           type=positive_int, default=100, metavar="N"),
    Option(("--seed",), "dlr_seed", "the random seed; printed in every report (default: random)", type=seed,
           metavar="N"),
    Option(("--timeout",), "dlr_timeout", "hard deadline in seconds for one whole delivery (default: 10)",
           type=positive_float, default=10.0, metavar="S"),
    Option(("--latency-budget",), "dlr_latency_budget",
           "soft budget in seconds; slower answers are warnings (default: 2)", type=positive_float, default=2.0,
           metavar="S"),
    Option(("--concurrency",), "dlr_concurrency", "size of the concurrent burst (default: 20)", type=positive_int,
           default=20, metavar="N"),
    Option(("--retry-interval",), "dlr_retry_interval",
           "pause in seconds between the re-deliveries of a duplicate; 300 reproduces the platform (default: 0.2)",
           type=non_negative_float, default=0.2, metavar="S"),
    Option(("--header",), "dlr_headers", "an extra request header 'Name: value', repeatable (values are masked)",
           type=header, action="append", default=None, metavar="'NAME: VALUE'"),
    Option(("--ca-bundle",), "dlr_ca_bundle", "PEM file of CA certificates to trust for an https target",
           type=ca_bundle, metavar="PATH"),
    Option(("--max-rps",), "dlr_max_rps", "never send more than R requests in any one-second window",
           type=positive_float, metavar="R"),
    Option(("--json",), "dlr_json", "path of the JSON summary (default: reports/summary.json)", metavar="PATH"),
    Option(("--list-checks",), "dlr_list_checks", "print the requirements and their checks, then exit",
           action="store_true", default=False),
)

DEFAULTS = {option.dest: option.default for option in OPTIONS}
REPORT_DIR = "reports"
DEFAULT_HTML = f"{REPORT_DIR}/report.html"
DEFAULT_JUNIT = f"{REPORT_DIR}/junit.xml"
DEFAULT_JSON = f"{REPORT_DIR}/summary.json"


@dataclass(frozen=True)
class RunOptions:
    """The validated options of one conformance run."""

    target_url: str | None = None
    examples: int = 100
    seed: int | None = None
    timeout: float = 10.0
    latency_budget: float = 2.0
    concurrency: int = 20
    retry_interval: float = 0.2
    headers: tuple[tuple[str, str], ...] = ()
    ca_bundle: str | None = None
    max_rps: float | None = None
