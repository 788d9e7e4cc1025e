"""Run options and exit codes: one definition shared by every face (the suite's CLI and pytest plugin, ``send``,
``load``), with validators that explain.

Each validator takes the option's text and returns the value or raises ``argparse.ArgumentTypeError`` with
one sentence that names the offending value and says what to do; argparse (the commands) and pytest's parser
(the plugin) turn that into a usage error, exit code 4 (:class:`ExitCode`). An :class:`Option` is defined once
and added to each face's parser with :meth:`Option.add_to`: the same flag, help, default and validation, and the
same environment variable read the same way (:meth:`Option.resolve`).
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NoReturn, Protocol
from urllib.parse import urlsplit

from conformance.requirements import CATALOGUE, groups, ids_text, needing_reader, needing_status_map

__all__ = [
    "CA_BUNDLE",
    "DEFAULTS",
    "ENV_TARGET_URL",
    "HEADER",
    "OPTIONS",
    "PREPARE_CMD",
    "REQUIRE_CHECKED",
    "STATE_CMD",
    "STATUS_MAP",
    "TARGET_URL",
    "TIMEOUT",
    "ExitCode",
    "Option",
    "RunOptions",
    "UsageParser",
    "ca_bundle",
    "command",
    "concurrency",
    "header",
    "non_negative_float",
    "percent",
    "positive_float",
    "positive_int",
    "read_status_map",
    "report_path",
    "requirement_id",
    "requirement_ids",
    "seed",
    "status_map",
    "target_url",
]

ENV_TARGET_URL = "DLR_TARGET_URL"
INI_TARGET_URL = "dlr_target_url"
# the state reader and the preparer: like the target URL, also from the environment and the ini file
ENV_STATE_CMD = "DLR_STATE_CMD"
INI_STATE_CMD = "dlr_state_cmd"
ENV_PREPARE_CMD = "DLR_PREPARE_CMD"
INI_PREPARE_CMD = "dlr_prepare_cmd"
ENV_STATUS_MAP = "DLR_STATUS_MAP"
INI_STATUS_MAP = "dlr_status_map"
ANY_STATUS = "*"  # in a status map: every status the map names nowhere else (statuses never seen before)
INI_STRICT = "dlr_strict"
INI_REQUIRE_CHECKED = "dlr_require_checked"
ENV_MIN_COVERAGE = "DLR_MIN_COVERAGE"
INI_MIN_COVERAGE = "dlr_min_coverage"
MAX_CONCURRENCY = 1000
# headers that frame the request: overriding them would break the delivery instead of configuring it
RESERVED_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HOST = frozenset("-._~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class ExitCode(IntEnum):
    """The exit codes of every command: the suite's run, ``send``, ``load`` and the others."""

    OK = 0  # conformant (warnings allowed), held, every callback delivered, done
    FAILED = 1  # not conformant, not held, a callback discarded
    INTERRUPTED = 2  # Ctrl-C: what ran so far is reported
    ERROR = 3  # dlr-conformance itself failed, or nothing could be judged
    USAGE = 4  # a usage error: an option, a file, a command that does not work


class UsageParser(argparse.ArgumentParser):
    """argparse for a subcommand: a usage error is one line, ``PROG: error: ...``, and exit code 4."""

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        flag, sep, rest = message.removeprefix("argument ").partition(": ")
        if sep and flag.startswith("-") and rest.startswith(("must ", "has ", "is ", "cannot ", "the ")):
            message = f"{flag.split('/')[-1]} {rest}"
        if message.startswith(("unrecognized arguments", "the following arguments are required", "argument")):
            message = f"{message.rstrip('.')} (see {self.prog} --help)"
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message.rstrip('.')}.\n")


def _shown_url(text: str) -> str:
    """A URL as it may appear in an error message: password and query masked."""
    from conformance.delivery.masking import Redactor

    return Redactor().mask_url(text) if "@" in text or "?" in text else text


def target_url(text: str) -> str:
    """An absolute http:// or https:// URL with a valid host and port."""
    text = text.strip()
    example = "give a full URL like https://host.example/dlr"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise argparse.ArgumentTypeError(
            f"must not contain spaces or control characters (got {_shown_url(text)!r}); percent-encode them, "
            "e.g. %20 for a space"
        )
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"is not a valid URL (got {_shown_url(text)!r}: {exc}); {example}") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise argparse.ArgumentTypeError(
            f"must start with http:// or https:// (got {_shown_url(text)!r}); the platform calls no other scheme"
        )
    if not hostname:
        raise argparse.ArgumentTypeError(f"has no host name (got {_shown_url(text)!r}); {example}")
    bracketed = parts.netloc.rpartition("@")[2].startswith("[")
    if not bracketed and not all(c in _HOST or ord(c) > 127 for c in hostname):
        raise argparse.ArgumentTypeError(f"has an invalid host name {hostname!r}; {example}")
    if not bracketed and any(not label or len(label) > 63 for label in hostname.rstrip(".").split(".")):
        raise argparse.ArgumentTypeError(
            f"has an invalid host name {hostname!r} (an empty or too long label); {example}"
        )
    try:
        port = parts.port
    except ValueError:
        given = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise argparse.ArgumentTypeError(
            f"has an invalid port {given!r}; use a number from 1 to 65535, or none for the scheme's default"
        ) from None
    if port == 0:
        raise argparse.ArgumentTypeError("has an invalid port '0'; use a number from 1 to 65535")
    return text


def _number(text: str, kind: type[int] | type[float], what: str) -> int | float:
    try:
        return kind(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})") from None


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    value = int(_number(text, int, "a whole number of at least 1"))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 (got {text!r})")
    return value


def concurrency(text: str) -> int:
    """A whole number from 1 to :data:`MAX_CONCURRENCY`."""
    what = f"a whole number from 1 to {MAX_CONCURRENCY}"
    value = int(_number(text, int, what))
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be {what} (got {text!r}); a larger burst could overload the target")
    return value


def seed(text: str) -> int:
    """A non-negative whole number."""
    value = int(_number(text, int, "a whole number of 0 or more"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of 0 or more (got {text!r})")
    return value


def positive_float(text: str) -> float:
    """A finite number greater than zero."""
    value = float(_number(text, float, "a number greater than 0"))
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number greater than 0 (got {text!r}), e.g. 10 or 0.5")
    return value


def percent(text: str) -> float:
    """A percentage from 0 to 100 (a trailing % is allowed)."""
    value = float(_number(text.strip().removesuffix("%"), float, "a percentage from 0 to 100"))
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be a percentage from 0 to 100 (got {text!r}), e.g. 100 or 90")
    return value


def non_negative_float(text: str) -> float:
    """A finite number, zero allowed."""
    value = float(_number(text, float, "a number of 0 or more"))
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of 0 or more (got {text!r})")
    return value


def header(text: str) -> tuple[str, str]:
    """``Name: value`` -> (name, value); the value is never echoed in an error, it may be a secret."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(
            "must look like 'Name: value', with a colon after the header name (the text given has none; it is not "
            "shown because it may be a secret), e.g. --header 'Authorization: Bearer TOKEN'"
        )
    if not all(c in _TOKEN for c in name):
        raise argparse.ArgumentTypeError(
            f"has an invalid header name {name!r}; use letters, digits and '-' only, e.g. 'X-Api-Key: VALUE'"
        )
    if name.lower() in RESERVED_HEADERS:
        raise argparse.ArgumentTypeError(
            f"cannot set {name!r}: dlr-conformance frames every request itself; leave that header out"
        )
    value = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value if c != "\t"):
        raise argparse.ArgumentTypeError(
            f"the value of header {name!r} contains a line break or control character; give it on one line"
        )
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(
            f"the value of header {name!r} has characters an HTTP header cannot carry (outside Latin-1); "
            "percent- or base64-encode it"
        ) from None
    return name, value


def query_name(text: str) -> str:
    """The name of a query parameter (of ``--target-url``): not empty, no ``=``, ``&``, ``#`` or space."""
    name = text.strip()
    if not name or any(c in "=&#?" or c.isspace() for c in name):
        raise argparse.ArgumentTypeError(
            f"must be the name of a query parameter of --target-url (got {text!r}), e.g. --public-param tenant"
        )
    return name


def public_params_of(url: str, names: Iterable[str]) -> tuple[str, ...]:
    """``names`` checked against the query of ``url``: each must be one of its parameters."""
    given = [name for name, _, _ in (item.partition("=") for item in urlsplit(url).query.split("&")) if name]
    for name in names:
        if name not in given:
            known = ", ".join(repr(n) for n in given) or "none"
            raise argparse.ArgumentTypeError(
                f"--public-param {name!r} is not a query parameter of --target-url (its parameters: {known}); "
                "name one of them, or leave the option out"
            )
    return tuple(names)


def ca_bundle(text: str) -> str:
    """A readable PEM file of CA certificates that OpenSSL accepts."""
    what = "give a PEM file of CA certificates"
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"{text!r} does not exist; {what}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; {what}")
    try:
        with open(text, "rb") as f:
            head = f.read(4 << 20)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} cannot be read ({exc.strerror}); {what} you may read") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise argparse.ArgumentTypeError(
            f"{text!r} holds no PEM certificate (no '-----BEGIN CERTIFICATE-----'); {what}"
        )
    try:
        ssl.create_default_context(cafile=text)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid PEM CA bundle ({exc}); {what}") from None
    return text


def command(text: str) -> str:
    """A shell command line (run with ``sh -c``); its text is never echoed, it may hold a password."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must be a shell command (got an empty value), e.g. 'sqlite3 -json receiver.db \"select ...\"'"
        )
    if "\0" in text:
        raise argparse.ArgumentTypeError("must not contain a NUL character")
    return text


def read_status_map(path: str) -> dict[str, tuple[str, ...]]:
    """The receiver's words and the platform statuses each stands for, from a JSON file; ``ValueError`` in one
    sentence when the file is not a status map."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path!r} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{path!r} is a directory") from None
    except OSError as exc:
        raise ValueError(f"{path!r} cannot be read ({exc.strerror})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path!r} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path!r} must hold a JSON object of the receiver's words (got {type(data).__name__})")
    words: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for word, statuses in data.items():
        if not word.strip():
            raise ValueError(f"{path!r} has an empty word")
        if not isinstance(statuses, list) or not all(isinstance(s, str) and s.strip() for s in statuses):
            raise ValueError(f"{path!r}: the word {word!r} must map to a list of status strings (got {statuses!r})")
        for status in statuses:
            if status in owner and owner[status] != word:
                raise ValueError(
                    f"{path!r}: the status {status!r} stands for two words, {owner[status]!r} and {word!r}; "
                    "give each status one word"
                )
            owner[status] = word
        words[word] = tuple(dict.fromkeys(statuses))
    return words


def status_map(text: str) -> str:
    """A JSON file mapping each word the receiver stores to the platform statuses it stands for."""
    what = 'give a JSON object like {"delivered": ["DELIVRD", "SEEN"], "failed": ["UNDELIV"], "unknown": ["*"]}'
    try:
        read_status_map(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; {what}") from None
    return text


def add_state_reader(
    parser: argparse.ArgumentParser, title: str, effect: str, timeout_help: str
) -> argparse._ArgumentGroup:
    """``--state-cmd`` (the suite's option; ``effect``: what it does in this command) and ``--state-timeout`` of a
    subcommand (``send``, ``load``), in a group of their own, which is returned (``send`` adds the preparer)."""
    group = parser.add_argument_group(title)
    STATE_CMD.add_to(group, otherwise=effect)
    group.add_argument("--state-timeout", type=positive_float, default=10.0, metavar="S", help=timeout_help)
    return group


def requirement_id(text: str) -> str:
    """A requirement ID of the catalogue, in any case and with or without its leading zero."""
    known = [r.id for r in CATALOGUE]
    name, _, number = text.strip().upper().partition("-")
    candidate = f"{name}-{number.zfill(2)}" if number.isdigit() else text.strip()
    if candidate not in known:
        raise argparse.ArgumentTypeError(
            f"must be a requirement ID of the catalogue (got {text!r}); known: {', '.join(known)} (see --list-checks)"
        )
    return candidate


def requirement_ids(text: str) -> tuple[str, ...]:
    """Requirement IDs and group names (``stored-state``), comma-separated, as the IDs they name, in catalogue order."""
    named = groups()
    wanted: set[str] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item.lower() in named:
            wanted.update(r.id for r in named[item.lower()])
            continue
        try:
            wanted.add(requirement_id(item))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"must be requirement IDs or group names, comma-separated (got {item!r} in {text!r}); groups: "
                f"{', '.join(named)}; IDs: {', '.join(r.id for r in CATALOGUE)} (see --list-checks)"
            ) from None
    if not wanted:
        raise argparse.ArgumentTypeError(f"must name at least one requirement ID or group (got {text!r})")
    return tuple(r.id for r in CATALOGUE if r.id in wanted)


def report_path(text: str) -> str:
    """A file path a report can be written to (its directory is created if missing)."""
    path = os.path.abspath(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a file path (got an empty value)")
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; give a file path such as {text.rstrip('/')}/report")
    parent = os.path.dirname(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {parent!r} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: the directory {parent!r} is not writable")
    return text


class _Container(Protocol):
    """An argparse parser or argument group, or a pytest option group: what an option is added to."""

    def add_argument(self, *flags: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Option:
    """One option: flags, type, default, help, where else its value may come from; defined once for every face."""

    flags: tuple[str, ...]
    dest: str
    text: str  # what it is; the help adds where else the value may come from, then what happens without it
    type: object = None
    default: object = None
    action: str | None = None
    metavar: str | None = None
    env: str | None = None  # the environment variable read when the flag is not given
    ini: str | None = None  # the ini key read in a pytest run when neither is given
    docs: str = ""  # where it is explained
    otherwise: str = ""  # what the suite does without it ("none: ..."); a face that differs says its own

    @property
    def plugin_flag(self) -> str:
        """The flag in pytest's namespace: ``--dlr-`` + the CLI flag, so that no other plugin's option (pytest-timeout's
        ``--timeout``, say) can clash with it in an environment that has both installed."""
        return "--dlr-" + self.flags[0].removeprefix("--")

    @property
    def plugin_flags(self) -> tuple[str, ...]:
        """Every flag in pytest's namespace: :attr:`plugin_flag` and the ``--dlr-`` twins of the CLI's aliases."""
        return tuple("--dlr-" + flag.removeprefix("--") for flag in self.flags if flag.startswith("--"))

    @property
    def help(self) -> str:
        """The help in the suite (the CLI's run and the pytest plugin)."""
        return self.help_text()

    def help_text(self, *, ini: bool = True, otherwise: str | None = None) -> str:
        """The help: what it is, where else it may come from (the ini key only where there is one), and
        ``otherwise``, what happens without it (default: the suite's)."""
        sources = []
        if self.ini and ini:
            sources.append(f"the {self.ini} ini key")
        if self.env:
            sources.append(f"the {self.env} environment variable")
        also = f"also {' or '.join(sources)}" if sources else ""
        inside = "; ".join(part for part in (also, f"see {self.docs}" if self.docs else "") if part)
        text = f"{self.text} ({inside})" if inside else self.text
        tail = self.otherwise if otherwise is None else otherwise
        return f"{text}; {tail}" if tail else text

    def kwargs(self, *, ini: bool = True, otherwise: str | None = None) -> dict[str, Any]:
        """What argparse's ``add_argument`` (or pytest's ``addoption``) takes for this option."""
        kwargs: dict[str, Any] = {"dest": self.dest, "help": self.help_text(ini=ini, otherwise=otherwise)}
        kwargs["default"] = self.default
        for key in ("action", "type", "metavar"):
            if getattr(self, key) is not None:
                kwargs[key] = getattr(self, key)
        return kwargs

    def add_to(self, parser: _Container, *, ini: bool = False, otherwise: str | None = None) -> None:
        """Add this option to a command's parser (or one of its groups), under its own flags."""
        parser.add_argument(*self.flags, **self.kwargs(ini=ini, otherwise=otherwise))

    def resolve(self, given: Any, ini_text: str = "") -> Any:
        """The value given on the command line, else from the environment variable, else from the ini key's text,
        validated like the flag's; None when none is given. Raises ``argparse.ArgumentTypeError`` naming where a
        bad value came from."""
        if given:
            return given
        sources = [(f"the {self.env} environment variable", os.environ.get(self.env, ""))] if self.env else []
        if self.ini:
            sources.append((f"the ini key {self.ini}", ini_text))
        for source, text in sources:
            if text.strip():
                try:
                    return self.type(text) if callable(self.type) else text
                except argparse.ArgumentTypeError as exc:
                    raise argparse.ArgumentTypeError(f"{source} {exc}") from None
        return None


OPTIONS: tuple[Option, ...] = (
    TARGET_URL := Option(
        ("--target-url",),
        "dlr_target_url",
        "the receiver's callback URL",
        type=target_url,
        metavar="URL",
        env=ENV_TARGET_URL,
        ini=INI_TARGET_URL,
        otherwise="none: test the bundled reference receiver",
    ),
    Option(
        ("--examples",),
        "dlr_examples",
        "how many generated payloads to send (default: 100)",
        type=positive_int,
        default=100,
        metavar="N",
    ),
    Option(
        ("--seed",), "dlr_seed", "the random seed; printed in every report (default: random)", type=seed, metavar="N"
    ),
    TIMEOUT := Option(
        ("--timeout",),
        "dlr_timeout",
        "hard deadline in seconds for one whole delivery (default: 10)",
        type=positive_float,
        default=10.0,
        metavar="S",
    ),
    Option(
        ("--latency-budget",),
        "dlr_latency_budget",
        "soft budget in seconds; slower answers are warnings (default: 2)",
        type=positive_float,
        default=2.0,
        metavar="S",
    ),
    Option(
        ("--concurrency",),
        "dlr_concurrency",
        f"size of the concurrent burst, at most {MAX_CONCURRENCY} (default: 20)",
        type=concurrency,
        default=20,
        metavar="N",
    ),
    Option(
        ("--retry-interval",),
        "dlr_retry_interval",
        "pause in seconds between the re-deliveries of a duplicate; 300 reproduces the platform (default: 0.2)",
        type=non_negative_float,
        default=0.2,
        metavar="S",
    ),
    HEADER := Option(
        ("--header",),
        "dlr_headers",
        "an extra request header 'Name: value', repeatable (values are masked)",
        type=header,
        action="append",
        default=None,
        metavar="'NAME: VALUE'",
    ),
    CA_BUNDLE := Option(
        ("--ca-bundle",),
        "dlr_ca_bundle",
        "PEM file of CA certificates to trust for an https target",
        type=ca_bundle,
        metavar="PATH",
    ),
    Option(
        ("--public-param",),
        "dlr_public_params",
        "a query parameter of --target-url that is not a secret (routing, a tenant), repeatable; every other query "
        "parameter, every --header and the URL's user and password are the credentials that forged callbacks "
        "leave out or alter",
        type=query_name,
        action="append",
        default=None,
        metavar="NAME",
        docs="docs/explanation/security.md",
    ),
    Option(
        ("--max-rps",),
        "dlr_max_rps",
        "never send more than R requests in any one-second window",
        type=positive_float,
        metavar="R",
    ),
    STATE_CMD := Option(
        ("--state-cmd",),
        "dlr_state_cmd",
        "shell command that prints what the receiver stored, as JSON Lines",
        type=command,
        metavar="COMMAND",
        env=ENV_STATE_CMD,
        ini=INI_STATE_CMD,
        docs="docs/how-to/state.md",
        otherwise=f"none: {ids_text(needing_reader())} are not checked",
    ),
    PREPARE_CMD := Option(
        ("--prepare-cmd",),
        "dlr_prepare_cmd",
        "shell command that creates the run's messages in the receiver's store before they are reported on",
        type=command,
        metavar="COMMAND",
        env=ENV_PREPARE_CMD,
        ini=INI_PREPARE_CMD,
    ),
    STATUS_MAP := Option(
        ("--status-map",),
        "dlr_status_map",
        "JSON file mapping each word the receiver stores as a status to the platform statuses it stands for",
        type=status_map,
        metavar="FILE",
        env=ENV_STATUS_MAP,
        ini=INI_STATUS_MAP,
        docs="docs/how-to/state.md",
        otherwise="none: the stored status must be the platform's own, and "
        f"{ids_text(needing_status_map())} is not checked",
    ),
    Option(
        ("--state-timeout",),
        "dlr_state_timeout",
        "seconds to wait for the stored state to become right (polling the reader), and the deadline of one "
        "reader or preparer call (default: 10)",
        type=positive_float,
        default=10.0,
        metavar="S",
    ),
    Option(
        ("--strict",),
        "dlr_strict",
        "fail the run (exit 1) on any failed SHOULD requirement or warning, not only on a failed MUST",
        action="store_true",
        default=False,
        ini=INI_STRICT,
    ),
    MIN_COVERAGE := Option(
        ("--min-coverage",),
        "dlr_min_coverage",
        "fail the run (exit 1) when fewer than PCT percent of the contract's coverage cells were exercised",
        type=percent,
        metavar="PCT",
        env=ENV_MIN_COVERAGE,
        ini=INI_MIN_COVERAGE,
        docs="docs/reference/coverage.md",
        otherwise="none: coverage is shown, never gated",
    ),
    Option(
        ("--requirement",),
        "dlr_requirements",
        f"run only the tests of this requirement, e.g. {CATALOGUE[3].id}; repeatable (the run is then partial)",
        type=requirement_id,
        action="append",
        default=None,
        metavar="ID",
    ),
    REQUIRE_CHECKED := Option(
        ("--require-checked",),
        "dlr_require_checked",
        "fail the run (exit 1) unless these requirements were checked (passed or failed, not 'not checked' or not "
        f"run): IDs or groups, comma-separated, e.g. stored-state ({ids_text(needing_reader())})",
        type=requirement_ids,
        metavar="IDS",
        ini=INI_REQUIRE_CHECKED,
    ),
    Option(
        ("--json",),
        "dlr_json",
        "path of the JSON summary (default: reports/summary.json)",
        type=report_path,
        metavar="PATH",
    ),
    Option(
        ("--list-requirements", "--list-checks"),
        "dlr_list_checks",
        "print the requirement catalogue, each requirement with its source and the checks that judge it, then exit "
        "(--list-checks is the same)",
        action="store_true",
        default=False,
    ),
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
    state_cmd: str | None = None
    prepare_cmd: str | None = None
    status_map: str | None = None
    state_timeout: float = 10.0
    strict: bool = False
    requirements: tuple[str, ...] = ()
    require_checked: tuple[str, ...] = ()
    public_params: tuple[str, ...] = ()  # query parameters of the target URL that are not credentials
    min_coverage: float | None = None  # percent of the coverage cells that must be exercised
