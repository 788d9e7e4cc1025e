"""The pytest plugin (entry point ``dlr_conformance``): options, fixtures and report hooks over the engine.

It stays inert until the conformance suite is asked for (``--pyargs conformance.suite``, or a target URL given
on the command line): then it validates the options, starts the bundled reference receiver when no target is
given, defaults the three output files under ``reports/``, and turns suite results into the verdict. Each test's
result goes into the run's :class:`~conformance.reporting.summary.Summary`, which the console, the HTML report,
the JSON summary and the JUnit file all read (the JUnit file is written by :mod:`conformance.reporting.junit`,
not by pytest's ``--junitxml`` writer, whose path it takes).
Options: precedence CLI > environment variable > ini key (:meth:`conformance.options.Option.resolve`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
import time
import types
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from conformance import options as opts
from conformance.engine.run import ConformanceFailure, Driver, Run
from conformance.generation.worker import discard_prestarted, prestart
from conformance.pytest import django_db
from conformance.pytest.progress import PLUGIN_NAME, Progress
from conformance.reporting import recorded
from conformance.reporting.summary import Selection, Summary, TestResult
from conformance.requirements import by_id, run_first, run_last

SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"
SESSION = pytest.StashKey["_Session"]()
HTML_DEFAULTED = pytest.StashKey[bool]()  # --html was not given: the HTML report's path is the suite's default
HTML_DIR_MADE = pytest.StashKey[bool]()  # the default report's folder did not exist (pytest-html makes it at once)
DRIVER = pytest.StashKey[Driver]()
COLLECTED = pytest.StashKey[int]()  # an item's place in the order it was collected (the suite's own order)
QUIET = -2  # pytest verbosity below which the verdict is told briefly (the CLI's --quiet passes -qqq)
# urllib3 logs every request line (the URL's query string included) at DEBUG: kept out of the captured logs that
# pytest puts into the output files, whatever --log-level a customer chooses, and masked in what is left
TRANSPORT_LOGGERS = ("urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.response", "requests")


class _Session:
    """Per-session state of an active conformance run: the run, its summary, where its output files go."""

    def __init__(self, run: Run, receiver: Any | None, json_path: str, junit_path: str) -> None:
        self.run = run
        self.receiver = receiver  # the embedded reference receiver, stopped at the end
        self.json_path = json_path
        self.junit_path = junit_path
        self.summary = Summary(run)
        self.planned = 0
        self.started = time.monotonic()
        self.results: dict[tuple[str, str], TestResult] = {}  # by (node id, phase): the report that made it
        self.elapsed: dict[str, float] = {}  # node id -> seconds of its phases so far
        self.logs: _TransportLogs | None = None
        self.suite_items = 0  # suite tests selected
        self.silent = False  # a project's session that selected none: no verdict, no output file
        self.own_failed = 0  # the session's other tests that failed: their outcome stays pytest's
        self.embedded_reader = False  # the state reader is the bundled receiver's (dropped if the target changes)
        self.reader_fixture = False  # dlr_state_reader is a project's own fixture
        self.target_fixture = False  # dlr_target_url is a project's own fixture (its URL known at run time)
        self.usage_error = False  # the preparer failed before the first delivery: exit 4
        self.stopped = ""  # why the run stopped (a state command failed): the tests after it are not run

    def stop_on_command(self, exc: Exception, kept: str = "") -> None:
        """A state command (preparer or reader) failed: the run's problem, in one line, secrets masked (``kept``:
        where the end of its standard error is kept)."""
        what = str(getattr(exc, "what", ""))
        if what.startswith("preparer"):
            flag = "--prepare-cmd" if self.run.options.prepare_cmd else "fixture dlr_preparer"
        else:
            flag = "--state-cmd" if self.run.options.state_cmd else "the state reader"
        when = ""
        if getattr(exc, "before_first_delivery", False):
            self.usage_error = True
            when = " (before the first delivery)"
        self.summary.internal_error = self.run.redactor.mask(f"{flag}: {str(exc).rstrip('.')}{when}{kept}")
        self.stopped = f"the run stopped when the {what or 'state command'} failed"

    def result_of(self, report: pytest.TestReport) -> TestResult | None:
        """The suite result this report made (a test's call, or its failed or skipped set-up), if any."""
        return self.results.get((report.nodeid, report.when))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlr-conformance", "dlr-conformance: delivery-report callback conformance")
    for option in opts.OPTIONS:
        group.addoption(*option.plugin_flags, **option.kwargs())
    parser.addini(opts.INI_TARGET_URL, "the receiver's callback URL for the conformance suite", default="")
    parser.addini(opts.INI_STATE_CMD, "the state reader command of the conformance suite", default="")
    parser.addini(opts.INI_PREPARE_CMD, "the preparer command of the conformance suite", default="")
    parser.addini(opts.INI_STATUS_MAP, "the receiver's status map (a JSON file) for the conformance suite", default="")
    parser.addini(opts.INI_MIN_COVERAGE, "the coverage gate of the conformance suite, in percent", default="")
    parser.addini(
        opts.INI_REQUIRE_CHECKED, "requirement IDs or groups a conformance run must check (exit 1 if not)", default=""
    )
    parser.addini(
        opts.INI_STRICT,
        "fail a conformance run on any failed SHOULD requirement or warning",
        type="bool",
        default=False,
    )


def _suite_arg(config: pytest.Config, arg: str) -> bool:
    """Whether a command-line argument names the installed suite or a part of it."""
    name = arg.split("::")[0]
    if config.option.pyargs and (name == "conformance.suite" or name.startswith("conformance.suite.")):
        return True
    try:
        return Path(name).resolve().is_relative_to(SUITE_DIR)
    except (OSError, ValueError):
        return False


def _suite_only(config: pytest.Config) -> bool:
    """Whether the session runs the suite alone (every argument names it): then the JUnit file is the suite's."""
    return bool(config.args) and all(_suite_arg(config, arg) for arg in config.args)


def is_suite_item(item: pytest.Item) -> bool:
    """Whether a test is one of the suite's (not one of the project's own tests in the same session)."""
    try:
        return Path(item.path).resolve().is_relative_to(SUITE_DIR)
    except (OSError, ValueError):
        return False


def _discovery(config: pytest.Config) -> bool:
    """Whether pytest only lists (``--collect-only``, ``--fixtures``, ``--fixtures-per-test``, ``--markers``,
    ``--help``, ``--setup-plan``): nothing is started, sent or written."""
    names = ("collectonly", "showfixtures", "show_fixtures_per_test", "markers", "help", "setupplan")
    return any(getattr(config.option, name, False) for name in names)


def _xdist_workers(config: pytest.Config) -> str:
    """The ``-n`` value when pytest-xdist would run this session's tests in other processes, else ""."""
    workers = getattr(config.option, "numprocesses", None)
    if workers or getattr(config.option, "dist", "no") != "no" or getattr(config.option, "tx", None):
        return str(workers or getattr(config.option, "dist", ""))
    return ""


def _suite_requested(config: pytest.Config) -> bool:
    """Whether this session runs the suite: a target URL given, ``--pyargs conformance.suite[.module]``, or a path
    inside the installed suite. Another project's ``conformance/suite`` folder is not this suite."""
    if config.getoption("dlr_target_url"):
        return True
    return any(_suite_arg(config, arg) for arg in config.args)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("dlr_list_checks", False):
        from conformance.checks.listing import catalogue

        print(catalogue())
        return 0
    return None


def _resolve(config: pytest.Config, option: opts.Option) -> Any:
    """An option from the command line, else its environment variable, else its ini key; validated like the flag."""
    try:
        return option.resolve(config.getoption(option.dest), str(config.getini(option.ini) or "") if option.ini else "")
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"{exc}.") from None


def _options(config: pytest.Config) -> opts.RunOptions:
    """The run's options from pytest's command line, the environment and the ini file, validated."""
    target_url = _resolve(config, opts.TARGET_URL)
    public = tuple(config.getoption("dlr_public_params") or ())
    try:
        public = opts.public_params_of(target_url or "", public)
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"{exc}.") from None
    return opts.RunOptions(
        target_url=target_url,
        examples=config.getoption("dlr_examples"),
        seed=config.getoption("dlr_seed"),
        timeout=config.getoption("dlr_timeout"),
        latency_budget=config.getoption("dlr_latency_budget"),
        concurrency=config.getoption("dlr_concurrency"),
        retry_interval=config.getoption("dlr_retry_interval"),
        headers=tuple(config.getoption("dlr_headers") or ()),
        ca_bundle=config.getoption("dlr_ca_bundle"),
        max_rps=config.getoption("dlr_max_rps"),
        state_cmd=_resolve(config, opts.STATE_CMD),
        prepare_cmd=_resolve(config, opts.PREPARE_CMD),
        status_map=_resolve(config, opts.STATUS_MAP),
        state_timeout=config.getoption("dlr_state_timeout"),
        strict=bool(config.getoption("dlr_strict") or config.getini(opts.INI_STRICT)),
        requirements=tuple(config.getoption("dlr_requirements") or ()),
        require_checked=tuple(_resolve(config, opts.REQUIRE_CHECKED) or ()),
        public_params=public,
        min_coverage=_resolve(config, opts.MIN_COVERAGE),
    )


def _output_paths(config: pytest.Config) -> tuple[str, str]:
    """The three output files, written on every run, default under ``reports/``: (JSON summary, JUnit file).

    When the session runs the suite alone the JUnit file is this plugin's to write: pytest's own writer is left off
    (its ``--junitxml`` path taken). In a project's session that runs its own tests too, ``--junitxml`` stays
    pytest's (every test, the project's suite name) and the suite's file goes to its default path."""
    if hasattr(config.option, "htmlpath"):
        config.stash[HTML_DEFAULTED] = not config.option.htmlpath
        config.stash[HTML_DIR_MADE] = not Path(opts.DEFAULT_HTML).parent.exists()
        config.option.htmlpath = config.option.htmlpath or opts.DEFAULT_HTML
        config.option.self_contained_html = True
    theirs = getattr(config.option, "xmlpath", None)
    if _suite_only(config) or not theirs:
        junit_path = str(theirs or opts.DEFAULT_JUNIT)
        config.option.xmlpath = None  # read by pytest's junitxml plugin in its (later) pytest_configure
    else:
        junit_path = opts.DEFAULT_JUNIT
    json_path = config.getoption("dlr_json") or opts.DEFAULT_JSON
    for flag, path in (
        ("--html", getattr(config.option, "htmlpath", None)),
        ("--junitxml", junit_path),
        ("--dlr-json", json_path),
    ):
        try:
            opts.report_path(str(path)) if path else None
        except argparse.ArgumentTypeError as exc:
            raise pytest.UsageError(f"{flag}: {exc}.") from None
    return json_path, junit_path


class _UnderXdist:
    """Under pytest-xdist the suite does not run (its deliveries and the stored-state checks that judge them are one
    run, in one process): its tests are deselected, the session's own tests run as usual, and one line says so. A
    session that selected the suite alone ends in a usage error."""

    def __init__(self, workers: str) -> None:
        self.line = (
            f"dlr-conformance: the conformance suite does not run under pytest-xdist (-n {workers or 'N'}): its "
            "deliveries and the stored-state checks that judge them are one run; its tests were deselected. Run it "
            "with -n 0, or in a session of its own."
        )

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        suite = [item for item in items if is_suite_item(item)]
        if not suite:
            return
        items[:] = [item for item in items if not is_suite_item(item)]
        config.hook.pytest_deselected(items=suite)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not hasattr(session.config, "workerinput") and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR  # the suite alone was selected: nothing of it ran

    def pytest_report_header(self, config: pytest.Config) -> str:
        return self.line

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_line(self.line)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Inert unless asked: a session that does not run the suite gets no marker, no fixture, no output file.
    if not _suite_requested(config):
        return
    config.addinivalue_line(
        "markers",
        "requirement(id, requests=1, load=False): the conformance requirement a suite test checks, how many "
        "requests it sends (an int or a function of the run options), and whether it loads the receiver (run last)",
    )
    workers = _xdist_workers(config)
    if workers or hasattr(config, "workerinput"):  # the controller, and each of its workers
        config.pluginmanager.register(_UnderXdist(workers), "dlr-conformance-under-xdist")
        return
    if _discovery(config):  # listed, never run: no receiver started, no output file written
        config.pluginmanager.register(_SuiteFixtures(), "dlr-conformance-fixtures")
        return
    if django_db.active(config):
        django_db.remember(config)
    options = _options(config)
    json_path, junit_path = _output_paths(config)
    receiver = None
    embedded_reader = False
    url = options.target_url
    if url is None:
        from conformance.reference.embedded import EmbeddedReceiver

        receiver = EmbeddedReceiver()
        url = receiver.url
        embedded_reader = options.state_cmd is None
        if embedded_reader:
            options = dataclasses.replace(options, state_cmd=receiver.reader)
    run = Run(options, url, embedded=receiver is not None)
    run.spill_ids_to(Path(json_path).with_suffix(".api_job_ids.txt"))  # past 10,000 ids (a long generated run)
    try:
        _probe_reader(run, Path(json_path).parent)
    except pytest.UsageError:
        if receiver is not None:
            receiver.stop()
        raise
    if options.state_cmd:
        run.keep_ledger(
            f"state reader {options.state_cmd}"
            if receiver is None
            else "reference receiver's reader, dlr-conformance stored"
        )
    keyword = config.getoption("keyword", "") or ""
    if not keyword or "generated" in keyword:  # the generated check may run: start drawing payloads now
        prestart(options.examples, run.seed, tag=run.run_id)
    run.bodies_dir = Path(json_path).parent / "bodies"  # long reproduction bodies, next to the output files
    session = _Session(run, receiver, json_path, junit_path)
    session.embedded_reader = receiver is not None and embedded_reader
    session.summary.selection = Selection(keyword=keyword, requirements=options.requirements)
    session.summary.output_files = {
        "HTML report": str(getattr(config.option, "htmlpath", "") or ""),
        "JUnit XML": junit_path,
        "JSON summary": str(json_path),
    }
    config.stash[SESSION] = session
    if _conftest_fixture(config, "dlr_state_reader"):  # said from the header on, the ledger kept from the start
        session.reader_fixture = True
        run.keep_ledger("fixture dlr_state_reader")
    session.target_fixture = _conftest_fixture(config, "dlr_target_url")
    session.logs = _TransportLogs(run)
    config.pluginmanager.register(_SuiteFixtures(), "dlr-conformance-fixtures")
    config.pluginmanager.register(_OnInterrupt(session), "dlr-conformance-interrupt")
    if not config.pluginmanager.is_blocked(PLUGIN_NAME):  # `-p no:dlr_progress`; the CLI's -q
        config.pluginmanager.register(Progress(run, lambda: session.planned), PLUGIN_NAME)
    if config.pluginmanager.hasplugin("html"):
        from conformance.pytest.html_report import HtmlReport

        config.pluginmanager.register(HtmlReport(session.summary, session.result_of), "dlr-conformance-html")


def _conftest_fixture(config: pytest.Config, name: str) -> bool:
    """Whether a conftest.py loaded so far (the rootdir's, the arguments') defines the fixture ``name``."""
    return any(
        isinstance(plugin, types.ModuleType) and plugin.__name__.split(".")[-1] == "conftest" and hasattr(plugin, name)
        for plugin in config.pluginmanager.get_plugins()
    )


def _keep_stderr(run: Run, folder: Path, exc: BaseException) -> str:
    """The whole stderr of a failed reader or preparer kept beside the reports (its end is in the message);
    what to add to the message: where it is, or nothing."""
    stderr = str(getattr(exc, "stderr", "") or "")
    if not stderr.strip():
        return ""
    name = "preparer" if str(getattr(exc, "what", "")).startswith("preparer") else "reader"
    path = folder / f"{name}-stderr.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(run.redactor.mask(stderr), encoding="utf-8")
    except OSError:
        return ""
    return f" (its whole stderr: {path})"


def _probe_reader(run: Run, folder: Path) -> None:
    """Call the state reader once before anything is sent: a broken one is a usage error (exit 4)."""
    from conformance.engine.store import CommandReader, StateCommandError, probe

    if not run.options.state_cmd:
        return
    try:
        probe(CommandReader(run.options.state_cmd, run.options.state_timeout), run.run_id)
    except StateCommandError as exc:
        kept = _keep_stderr(run, folder, exc)
        message = f"--state-cmd: {run.redactor.mask(str(exc))} (checked before anything was sent){kept}."
        raise pytest.UsageError(message) from None


def _session(config: pytest.Config) -> _Session | None:
    return config.stash.get(SESSION, None)


class _OnInterrupt:
    """Ctrl-C: abort the deliveries in flight at once, so that the output files are written without waiting."""

    def __init__(self, session: _Session) -> None:
        self._session = session

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self._session.run.sender.stop()


class _MaskFilter(logging.Filter):
    """Masks the run's secrets in log records (urllib3 logs request lines, query strings included)."""

    def __init__(self, run: Run) -> None:
        super().__init__()
        self._run = run

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._run.redactor.mask(record.getMessage())
        record.args = None
        return True


class _TransportLogs:
    """The transport's loggers at WARNING, with the run's secrets masked, for the session; as they were after it."""

    def __init__(self, run: Run) -> None:
        self._filter = _MaskFilter(run)
        self._levels: dict[str, int] = {}
        for name in TRANSPORT_LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.WARNING)
            logger.addFilter(self._filter)

    def remove(self) -> None:
        """Give each logger back its level, and take the filter off."""
        for name, level in self._levels.items():
            logger = logging.getLogger(name)
            logger.removeFilter(self._filter)
            logger.setLevel(level)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = _session(config)
    if session is not None:
        discard_prestarted()
        session.run.close()
        if session.receiver is not None:
            session.receiver.stop()
        if session.logs is not None:
            session.logs.remove()
        del config.stash[SESSION]


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = _session(config)
    if session is None:
        return None
    run = session.run
    target = f"{run.masked_url}" + (" (bundled reference receiver)" if run.embedded else "")
    if session.target_fixture:
        target = "from fixture dlr_target_url (resolved before the first delivery)"
    return [
        f"dlr-conformance target: {target}",
        f"dlr-conformance run id: {run.run_id}, seed: {run.seed}, examples: {run.options.examples}, "
        f"timeout: {run.options.timeout:g} s",
        f"dlr-conformance stored state: {run.stored_state_line()}",
    ]


def _planned(item: pytest.Item, options: opts.RunOptions) -> int:
    marker = item.get_closest_marker("requirement")
    if marker is None:
        return 0
    requests = marker.kwargs.get("requests", 1)
    return int(requests(options) if callable(requests) else requests)


def _overridden(session: pytest.Session, name: str) -> bool:
    """True when a conftest or plugin provides its own fixture ``name`` (``dlr_state_reader``, ``dlr_preparer``)."""
    for item in session.items:
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.get(name) if info is not None else None
        if defs:
            return getattr(defs[-1].func, "__module__", "") != __name__
    return False


def _requirement_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("requirement")
    return str(marker.args[0]) if marker is not None and marker.args else ""


def _order(item: pytest.Item) -> int:
    """The requirements the catalogue runs first (the certificate: one delivery that shows a TLS problem before
    anything else trips the breaker), the scenarios that load the receiver late (its rate limiter must not turn
    every other requirement red), and those the catalogue runs last (they judge what the whole run was answered)."""
    marker = item.get_closest_marker("requirement")
    if marker is None:
        return 1
    if marker.args and marker.args[0] in run_last():
        return 3
    if marker.kwargs.get("load"):
        return 2
    return 0 if marker.args and marker.args[0] in run_first() else 1


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _session(config)
    if state is None:
        return
    for item in items:
        requirement = _requirement_of(item)
        if requirement:
            # -k with a requirement id selects by requirement, -k newest_status_wins by a check --list-checks names
            found = by_id(requirement)
            item.extra_keyword_matches.update((requirement, *found.checks, *found.scenario_checks))
    wanted = set(state.run.options.requirements)
    if wanted:
        # --requirement narrows the suite; the project's own tests in the session stay selected
        keep = [item for item in items if not is_suite_item(item) or _requirement_of(item) in wanted]
        dropped = [item for item in items if is_suite_item(item) and _requirement_of(item) not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_itemcollected(item: pytest.Item) -> None:
    config = item.config
    if _session(config) is not None:
        config.stash[COLLECTED] = config.stash.get(COLLECTED, -1) + 1
        item.stash[COLLECTED] = config.stash[COLLECTED]


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_suite_last(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The suite runs after the project's own tests, in its own order whatever another plugin did to the order
    (pytest-randomly shuffles): the stored-state checks come after the deliveries they judge, and a database
    opened for the suite stays open to the end of the session."""
    if _session(config) is None:
        return
    own = [item for item in items if not is_suite_item(item)]
    suite = [item for item in items if is_suite_item(item)]
    suite.sort(key=lambda item: (_order(item), item.stash.get(COLLECTED, 0)))
    items[:] = own + suite


def pytest_deselected(items: list[pytest.Item]) -> None:
    if not items:
        return
    state = _session(items[0].config)
    if state is not None:
        state.summary.selection.deselected += [(item.name, _requirement_of(item)) for item in items]


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _session(session.config)
    if state is None:
        return
    state.suite_items = sum(1 for item in session.items if is_suite_item(item))
    if not state.suite_items and not _suite_only(session.config):
        # the project's own tests alone (-k my_test): no verdict, no output file (not even pytest-html's); a run of
        # the suite alone that selects nothing is an error, said in its reports
        state.silent = True
        _no_html_report(session.config)
        return
    if _overridden(session, "dlr_state_reader"):
        state.reader_fixture = True
        state.run.keep_ledger("fixture dlr_state_reader")
    options = state.run.options
    if state.reader_fixture and not options.state_cmd:  # the stored-state scenarios send with a fixture reader
        options = dataclasses.replace(options, state_cmd="fixture dlr_state_reader")
    state.planned = sum(_planned(item, options) for item in session.items)
    state.summary.planned = state.planned
    run = state.run
    line = (
        f"dlr-conformance: sending {state.planned} requests to "
        f"{'the target of fixture dlr_target_url' if state.target_fixture else run.masked_url} "
        f"({state.suite_items} checks, run id {run.run_id}, seed {run.seed}"
    )
    if run.options.max_rps:
        line += f", at most {run.options.max_rps:g} per second: at least {state.planned / run.options.max_rps:.0f} s"
    line += "); more if a generated failure is shrunk"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
        reporter.flush()  # before the first request goes out, even when stdout is a pipe
    else:
        print(line, flush=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """Before the first test: every selected scenario's messages prepared in one preparer call (engine.plan)."""
    state = _session(session.config)
    if state is not None and state.run.preparer is not None and not session.config.option.collectonly:
        _prepare_first(state, session.items)
    return (yield)


def _prepare_first(state: _Session, items: list[pytest.Item]) -> None:
    """Rehearse the selected scenarios and prepare what they will report on; a failing preparer stops the run."""
    from conformance.engine.plan import Scenario, rehearse
    from conformance.engine.store import StateCommandError

    scenarios: list[Scenario] = []
    for item in items:
        requirement = _requirement_of(item)
        if requirement and isinstance(item, pytest.Function):
            scenarios.append((by_id(requirement), item.name, _performer(item, state.run)))
    try:
        rehearse(state.run, scenarios)
    except StateCommandError as exc:
        state.stop_on_command(exc, _keep_stderr(state.run, Path(state.json_path).parent, exc))


def _no_reader(request: dict[str, Any]) -> list[dict[str, Any]]:
    return []


def _performer(item: pytest.Function, run: Run) -> Callable[[Driver], None]:
    """How to run a suite test with a given driver, out of pytest's run (its parameters and the reader known now)."""

    def perform(driver: Driver) -> None:
        callspec = getattr(item, "callspec", None)
        kwargs: dict[str, Any] = {}
        for name in item._fixtureinfo.argnames:
            if name == "dlr_driver":
                kwargs[name] = driver
            elif name == "dlr_state_reader":
                kwargs[name] = _no_reader if run.ledger is not None else None
            elif callspec is not None and name in callspec.params:
                kwargs[name] = callspec.params[name]
            else:
                raise LookupError(f"{item.name} needs {name!r}, which is known only when it runs")
        try:
            item.obj(**kwargs)
        except pytest.skip.Exception:
            return

    return perform


def _no_html_report(config: pytest.Config) -> None:
    """pytest-html's report taken off when its path was only the suite's default (``--html`` not given)."""
    if not config.stash.get(HTML_DEFAULTED, False):
        return
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__module__.startswith("pytest_html.") and hasattr(plugin, "pytest_sessionfinish"):
            config.pluginmanager.unregister(plugin)
    if config.stash.get(HTML_DIR_MADE, False):
        with contextlib.suppress(OSError):  # only while empty: whatever else is there stays
            Path(opts.DEFAULT_HTML).parent.rmdir()


class _SuiteFixtures:
    """The suite's fixtures, registered only in a session that runs the suite."""

    @pytest.fixture(scope="session")
    @classmethod  # a session fixture on an instance is deprecated (PytestRemovedIn10Warning)
    def dlr_target_url(cls, request: pytest.FixtureRequest) -> str:
        """The receiver's callback URL: ``--target-url`` (or the bundled reference receiver's). A project whose
        server starts in its own session overrides it in its ``conftest.py`` (e.g. ``live_server.url + "/dlr/"``);
        it is resolved once, before the first delivery (see docs/how-to/pytest.md)."""
        state = _session(request.config)
        assert state is not None  # registered together with the session
        return state.run.url

    @pytest.fixture(scope="session")
    @classmethod
    def dlr_run(cls, request: pytest.FixtureRequest) -> Run:
        """The conformance run of this session, aimed at ``dlr_target_url``."""
        state = _session(request.config)
        assert state is not None  # registered together with the session
        if django_db.active(request.config):
            django_db.open_database(request)  # before the target: its server must find the test database
        # resolved here, not as an argument: a live_server it uses stays out of every suite test's closure
        url = str(request.getfixturevalue("dlr_target_url"))
        if url != state.run.url:
            _retarget(state, url, request.config)
        if django_db.active(request.config):
            django_db.allow_host(request, state.run.url)
        return state.run

    @pytest.fixture(scope="session")
    @classmethod
    def dlr_preparer(cls, dlr_run: Run) -> Any:
        """What creates the run's messages in the receiver's store before they are reported on: a function
        ``(run_id, messages) -> None``, or None (no preparer). The default runs ``--prepare-cmd``; a project that
        creates them through its ORM overrides this fixture in its ``conftest.py`` (see docs/how-to/state.md)."""
        return dlr_run.preparer

    @pytest.fixture(scope="session")
    @classmethod
    def dlr_state_reader(cls, dlr_run: Run) -> Any:
        """What the receiver stored, for the requirements judged on it: a function from the request ``{"run_id",
        "message_ids", "api_job_ids"}`` to rows ``{"message_id", "status", "reports"?, ...}``, or None (not
        checked).

        The default runs ``--state-cmd``; a project that reads its own database through its ORM overrides this
        fixture in its ``conftest.py`` (see docs/how-to/state.md).
        """
        from conformance.engine.store import CommandReader

        options = dlr_run.options
        return CommandReader(options.state_cmd, options.state_timeout) if options.state_cmd else None

    @pytest.fixture
    def dlr_driver(self, request: pytest.FixtureRequest, dlr_run: Run, dlr_preparer: Any) -> Driver:
        """What a suite test drives the target with: delivers payloads to it and judges each answer."""
        if dlr_preparer is not dlr_run.preparer:
            dlr_run.use_preparer(dlr_preparer, "fixture dlr_preparer")
        marker = request.node.get_closest_marker("requirement")
        if marker is None:
            pytest.fail(f"{request.node.nodeid} has no @pytest.mark.requirement", pytrace=False)
        driver = dlr_run.driver(by_id(marker.args[0]), request.node.name)
        request.node.stash[DRIVER] = driver
        return driver


def _retarget(state: _Session, url: str, config: pytest.Config) -> None:
    """The run aimed at the URL a project's ``dlr_target_url`` fixture gave, instead of the bundled receiver."""
    try:
        url = opts.target_url(url)
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"fixture dlr_target_url: {exc}.") from None
    options = state.run.options
    if state.embedded_reader:
        options = dataclasses.replace(options, state_cmd=None)
        if not state.reader_fixture:
            state.run.ledger = None
    state.run.retarget(url, options)
    if state.receiver is not None:
        state.receiver.stop()
        state.receiver = None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    line = f"dlr-conformance: target from fixture dlr_target_url: {state.run.masked_url}"
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(line)
        else:
            print(line, flush=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """A state command that fails stops the run: nothing after it could be judged. Its test is not checked (the
    receiver failed nothing), the verdict is an error (exit 3), or a usage error (exit 4) when the preparer failed
    before the first delivery."""
    from conformance.engine.store import StateCommandError

    try:
        return (yield)
    except StateCommandError as exc:
        state = _session(item.config)
        if state is not None:
            state.stop_on_command(exc, _keep_stderr(state.run, Path(state.json_path).parent, exc))
        raise


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = _session(item.config)
    if state is not None and state.stopped:
        pytest.skip(f"not run: {state.stopped}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    state = _session(item.config)
    if state is None:
        return report
    if not is_suite_item(item):  # the project's own test: its report stays pytest's
        state.own_failed += report.failed
        return report
    marker = item.get_closest_marker("requirement")
    requirement = marker.args[0] if marker else ""
    if requirement and ("requirement", requirement) not in report.user_properties:
        report.user_properties.append(("requirement", requirement))
    if call.excinfo is not None and call.excinfo.errisinstance(ConformanceFailure):
        report.longrepr = str(call.excinfo.value)  # the findings, not a traceback
    elif _command_failed(call):
        assert call.excinfo is not None
        what = str(getattr(call.excinfo.value, "what", ""))
        doing = "prepare the messages" if what.startswith("preparer") else "read the stored state"
        problem = f"not checked: dlr-conformance could not {doing}: {call.excinfo.value}"
        # the receiver failed nothing: the test is not checked (skipped), and the run's problem says why
        problem += _keep_stderr(state.run, Path(state.json_path).parent, call.excinfo.value)
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, state.run.redactor.mask(problem))
    elif report.failed and report.longrepr is not None:
        report.longrepr = state.run.redactor.mask(str(report.longrepr))
    state.elapsed[item.nodeid] = state.elapsed.get(item.nodeid, 0.0) + report.duration
    if report.when == "call" or (report.when == "setup" and not report.passed):
        state.results[(item.nodeid, report.when)] = _result(state, item, report, call, requirement)
    elif report.when == "teardown":
        _torn_down(state, item.nodeid, report)
    return report


def _command_failed(call: pytest.CallInfo[None]) -> bool:
    """Whether a test ended because the preparer or the state reader failed (the tool's, not the receiver's)."""
    return call.excinfo is not None and type(call.excinfo.value).__name__ == "StateCommandError"


def _result(
    state: _Session, item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None], requirement: str
) -> TestResult:
    """The suite's result of one test, from the report of the phase that ended it."""
    driver = item.stash.get(DRIVER, None)
    outcome: str = report.outcome
    if report.failed and not (call.excinfo and call.excinfo.errisinstance(ConformanceFailure)):
        outcome = "error"
    message = report.longreprtext if report.failed else ""
    location = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        location = f"{path}:{line}"
    result = TestResult(
        nodeid=item.nodeid,
        name=item.name,
        requirement=requirement,
        outcome=outcome,
        duration=report.duration,
        message=state.run.redactor.mask(str(message)),
        findings=list(driver.findings) if driver else [],
        warnings=list(driver.warnings) if driver else [],
        evidence=list(driver.evidence) if driver else [],
        notes=list(driver.notes) if driver else [],
        delivered=driver.delivered if driver else 0,
        when=report.when,
        details=str(report.longrepr) if report.failed else "",
        location=location,
        properties=[(str(k), str(v)) for k, v in report.user_properties],
        elapsed=state.elapsed[item.nodeid],
        xfail=getattr(report, "wasxfail", None),
        recorded_under=driver.recorded_elsewhere if driver else {},
        recorded_note=driver.recorded_note() if driver else "",
    )
    state.summary.add(result)
    return result


def _amend(config: pytest.Config, amendments: list[recorded.Amendment]) -> None:
    """pytest's own outcome agrees with the summary's: each test result made failed at the end of the run
    (:func:`conformance.reporting.recorded.settle`) is failed among the terminal's reports too, and a result the
    run added gets a report of its own, so that the final counts and ``-ra``'s lines say what the reports say."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    stats: dict[str, list[Any]] = reporter.stats
    for amendment in amendments:
        result = amendment.result
        text = f"{result.requirement}: {result.message}"
        report = next((r for r in stats.get("passed", []) if r.nodeid == result.nodeid and r.when == "call"), None)
        if report is not None:
            stats["passed"].remove(report)
            if not stats["passed"]:
                del stats["passed"]
        elif amendment.added:
            report = pytest.TestReport(
                result.nodeid, (result.nodeid, None, result.name), {}, "failed", None, "call", list(result.properties)
            )
        else:
            continue
        report.outcome = "failed"
        report.longrepr = text
        stats.setdefault("failed", []).append(report)


def _torn_down(state: _Session, nodeid: str, report: pytest.TestReport) -> None:
    """The tear-down of a test with a result: its time, its properties, and an error it raised."""
    result = state.results.get((nodeid, "call")) or state.results.get((nodeid, "setup"))
    if result is None:
        return
    result.elapsed = state.elapsed[nodeid]
    result.properties = [(str(k), str(v)) for k, v in report.user_properties]
    if report.failed:
        result.teardown_error = str(report.longrepr)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _session(session.config)
    if state is None or state.silent:
        return
    summary = state.summary
    summary.finished = time.time()
    summary.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        summary.internal_error = "pytest reported an internal error"
    _amend(session.config, recorded.settle(summary))
    summary.write_reproductions(Path(state.json_path).parent / "repro")
    summary.write_json(state.json_path)
    from conformance.reporting import junit

    junit.write(state.junit_path, junit.from_summary(summary))
    if state.usage_error:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
    elif exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # the verdict decides: a failed SHOULD alone is exit 0 unless --strict; nothing judged is an error
        code = int(summary.exit_code)
        if state.own_failed and code == pytest.ExitCode.OK:
            code = pytest.ExitCode.TESTS_FAILED  # the project's own failing tests keep their exit code
        session.exitstatus = code


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> Generator[None]:
    state = _session(config)
    if state is not None and state.silent:
        state = None
    if state is not None and config.get_verbosity() >= 0:  # where pytest's own writer said it
        terminalreporter.write_sep("-", f"generated xml file: {os.path.normpath(os.path.abspath(state.junit_path))}")
    # a wrapper, so that the verdict comes after what other plugins print (pytest-html's "Generated html report")
    yield
    if state is None:
        return
    from conformance.reporting.console import verdict_lines

    terminalreporter.section("dlr-conformance")
    for line in verdict_lines(state.summary, quiet=terminalreporter.verbosity < QUIET):
        terminalreporter.write_line(line)
    if state.usage_error:  # the one line of a usage error, as pytest writes its own (the verdict above wraps it)
        sys.stderr.write(f"ERROR: {state.summary.internal_error}.\n")
