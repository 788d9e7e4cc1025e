"""The pytest plugin (entry point ``dlr_conformance``): options, fixtures and report hooks, no logic of its own.

It stays inert until the conformance suite is asked for (``--pyargs conformance.suite``, or a target URL given
on the command line): then it validates the options, starts the bundled reference receiver when no target is
given, defaults the three reports under ``reports/``, and turns suite results into the verdict.
Options: precedence CLI > ``DLR_TARGET_URL`` > the ``dlr_target_url`` ini key.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from conformance import options as opts
from conformance.engine.run import ConformanceFailure, Run, Target
from conformance.generation.worker import discard_prestarted, prestart
from conformance.pytest.progress import PLUGIN_NAME, Progress
from conformance.reporting.summary import Selection, Summary, TestResult
from conformance.requirements import by_id

SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"
STATE = pytest.StashKey["_State"]()
TARGET = pytest.StashKey[Target]()
QUIET = -2  # pytest verbosity below which the verdict is told briefly (the CLI's --quiet passes -qqq)


class _State:
    """Per-session state of an active conformance run."""

    def __init__(self, run: Run, receiver: Any | None, json_path: str) -> None:
        self.run = run
        self.receiver = receiver
        self.json_path = json_path
        self.summary = Summary(run)
        self.planned = 0
        self.started = time.monotonic()
        self.scratch: Path | None = None  # the embedded receiver's database directory, removed at the end


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlr-conformance", "dlr-conformance: delivery-report callback conformance")
    for option in opts.OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.dest, "help": option.help, "default": option.default}
        if option.action:
            kwargs["action"] = option.action
        if option.type is not None:
            kwargs["type"] = option.type
        if option.metavar:
            kwargs["metavar"] = option.metavar
        group.addoption(option.plugin_flag, **kwargs)
    parser.addini(opts.INI_TARGET_URL, "the receiver's callback URL for the conformance suite", default="")
    parser.addini(opts.INI_STATE_CMD, "the state reader command of the conformance suite", default="")
    parser.addini(opts.INI_PREPARE_CMD, "the preparer command of the conformance suite", default="")
    parser.addini(
        opts.INI_STRICT,
        "fail a conformance run on any failed SHOULD requirement or warning",
        type="bool",
        default=False,
    )


def _suite_requested(config: pytest.Config) -> bool:
    """Whether this session runs the suite: a target URL given, ``--pyargs conformance.suite[.module]``, or a path
    inside the installed suite. Another project's ``conformance/suite`` folder is not this suite."""
    if config.getoption("dlr_target_url"):
        return True
    for arg in config.args:
        name = arg.split("::")[0]
        if config.option.pyargs and (name == "conformance.suite" or name.startswith("conformance.suite.")):
            return True
        try:
            if Path(name).resolve().is_relative_to(SUITE_DIR):
                return True
        except (OSError, ValueError):
            continue
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("dlr_list_checks", False):
        from conformance.checks.listing import catalogue

        print(catalogue())
        return 0
    return None


def _resolve(config: pytest.Config, dest: str, env: str, ini: str, validate: Callable[[str], str]) -> str | None:
    """An option from the command line, else the environment variable, else the ini key; validated like the CLI's."""
    value = config.getoption(dest)
    if value:
        return str(value)
    for source, text in (
        (f"the {env} environment variable", os.environ.get(env, "")),
        (f"the ini key {ini}", str(config.getini(ini) or "")),
    ):
        if text.strip():
            try:
                return validate(text)
            except argparse.ArgumentTypeError as exc:
                raise pytest.UsageError(f"{source} {exc}.") from None
    return None


def _check_reader(run: Run) -> None:
    """Call the state reader once before anything is sent: a broken one is a usage error (exit 4)."""
    from conformance.engine.store import CommandReader, StateCommandError, read_rows

    if not run.options.state_cmd:
        return
    try:
        read_rows(
            CommandReader(run.options.state_cmd, run.options.state_timeout),
            {"run_id": run.run_id, "message_ids": [], "api_job_ids": []},
        )
    except StateCommandError as exc:
        message = f"--state-cmd: {run.redactor.mask(str(exc))} (checked before anything was sent)."
        raise pytest.UsageError(message) from None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Inert unless asked: a session that does not run the suite gets no marker, no fixture, no report.
    if not _suite_requested(config):
        return
    config.addinivalue_line(
        "markers",
        "requirement(id, requests=1, load=False): the conformance requirement a suite test checks, how many "
        "requests it sends (an int or a function of the run options), and whether it loads the receiver (run last)",
    )
    url = _resolve(config, "dlr_target_url", opts.ENV_TARGET_URL, opts.INI_TARGET_URL, opts.target_url)
    state_cmd = _resolve(config, "dlr_state_cmd", opts.ENV_STATE_CMD, opts.INI_STATE_CMD, opts.command)
    prepare_cmd = _resolve(config, "dlr_prepare_cmd", opts.ENV_PREPARE_CMD, opts.INI_PREPARE_CMD, opts.command)
    options = opts.RunOptions(
        target_url=url,
        examples=config.getoption("dlr_examples"),
        seed=config.getoption("dlr_seed"),
        timeout=config.getoption("dlr_timeout"),
        latency_budget=config.getoption("dlr_latency_budget"),
        concurrency=config.getoption("dlr_concurrency"),
        retry_interval=config.getoption("dlr_retry_interval"),
        headers=tuple(config.getoption("dlr_headers") or ()),
        ca_bundle=config.getoption("dlr_ca_bundle"),
        max_rps=config.getoption("dlr_max_rps"),
        state_cmd=state_cmd,
        prepare_cmd=prepare_cmd,
        state_timeout=config.getoption("dlr_state_timeout"),
        strict=bool(config.getoption("dlr_strict") or config.getini(opts.INI_STRICT)),
        requirements=tuple(config.getoption("dlr_requirements") or ()),
    )
    # the three reports, written on every run, default under reports/
    if hasattr(config.option, "htmlpath"):
        config.option.htmlpath = config.option.htmlpath or opts.DEFAULT_HTML
        config.option.self_contained_html = True
    config.option.xmlpath = getattr(config.option, "xmlpath", None) or opts.DEFAULT_JUNIT
    json_path = config.getoption("dlr_json") or opts.DEFAULT_JSON
    for flag, path in (
        ("--html", getattr(config.option, "htmlpath", None)),
        ("--junitxml", config.option.xmlpath),
        ("--dlr-json", json_path),
    ):
        try:
            opts.report_path(str(path)) if path else None
        except argparse.ArgumentTypeError as exc:
            raise pytest.UsageError(f"{flag}: {exc}.") from None
    _quiet_transport_logs()
    receiver = None
    scratch = None
    if url is None:
        import tempfile

        from conformance.reference.receiver import ReceiverServer

        # a database file, so that the receiver's own state reader (another process) can read what it stored
        scratch = Path(tempfile.mkdtemp(prefix="dlr-conformance-"))
        db = scratch / "reference.sqlite3"
        receiver = ReceiverServer(db=str(db)).start()
        url = receiver.url
        if options.state_cmd is None:
            import dataclasses

            from conformance.reference.reader import reader_command

            options = dataclasses.replace(options, state_cmd=reader_command(str(db)))
    run = Run(options, url, embedded=receiver is not None)
    run.spill_ids_to(Path(json_path).with_suffix(".api_job_ids.txt"))  # past 10,000 ids (a long generated run)
    try:
        _check_reader(run)
    except pytest.UsageError:
        if receiver is not None:
            receiver.stop()
        raise
    if options.state_cmd:
        run.keep_state(
            f"state reader {options.state_cmd}"
            if receiver is None
            else "reference receiver's reader, dlr-conformance stored"
        )
    keyword = config.getoption("keyword", "") or ""
    if not keyword or "generated" in keyword:  # the generated check may run: start drawing payloads now
        prestart(options.examples, run.seed, tag=run.run_id)
    run.bodies_dir = Path(json_path).parent / "bodies"  # long reproduction bodies, next to the reports
    state = _State(run, receiver, json_path)
    state.scratch = scratch
    state.summary.selection = Selection(keyword=keyword, requirements=options.requirements)
    state.summary.report_paths = {
        "HTML report": str(getattr(config.option, "htmlpath", "") or ""),
        "JUnit XML": str(config.option.xmlpath),
        "JSON summary": str(json_path),
    }
    config.stash[STATE] = state
    config.pluginmanager.register(_SuiteFixtures(), "dlr-conformance-fixtures")
    config.pluginmanager.register(_OnInterrupt(state), "dlr-conformance-interrupt")
    if not config.pluginmanager.is_blocked(PLUGIN_NAME):  # `-p no:dlr_progress`; the CLI's -q
        config.pluginmanager.register(Progress(run, lambda: state.planned), PLUGIN_NAME)
    mask_filter = _MaskFilter(config)
    for name in ("urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.response", "requests"):
        logging.getLogger(name).addFilter(mask_filter)
    if config.pluginmanager.hasplugin("html"):
        from conformance.pytest.html_report import HtmlReport

        config.pluginmanager.register(HtmlReport(state.summary), "dlr-conformance-html")


def _state(config: pytest.Config) -> _State | None:
    return config.stash.get(STATE, None)


class _OnInterrupt:
    """Ctrl-C: abort the deliveries in flight at once, so that the reports are written without waiting."""

    def __init__(self, state: _State) -> None:
        self._state = state

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self._state.run.sender.stop()


class _MaskFilter(logging.Filter):
    """Masks the run's secrets in log records (urllib3 logs request lines, query strings included)."""

    def __init__(self, config: pytest.Config) -> None:
        super().__init__()
        self._config = config

    def filter(self, record: logging.LogRecord) -> bool:
        state = _state(self._config)
        if state is not None:
            record.msg = state.run.redactor.mask(record.getMessage())
            record.args = None
        return True


def _quiet_transport_logs() -> None:
    # urllib3 logs every request line (the URL's query string included) at DEBUG: keep those out of the
    # captured logs that pytest puts into the reports, whatever --log-level a customer chooses.
    for name in ("urllib3", "urllib3.connectionpool", "urllib3.connection", "urllib3.response", "requests"):
        logging.getLogger(name).setLevel(logging.WARNING)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = _state(config)
    if state is not None:
        discard_prestarted()
        state.run.close()
        if state.receiver is not None:
            state.receiver.stop()
        if state.scratch is not None:
            import shutil

            shutil.rmtree(state.scratch, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    state = _state(config)
    if state is None:
        return None
    run = state.run
    return [
        f"dlr-conformance target: {run.masked_url}" + (" (bundled reference receiver)" if run.embedded else ""),
        f"dlr-conformance run id: {run.run_id}, seed: {run.seed}, examples: {run.options.examples}, "
        f"timeout: {run.options.timeout:g} s",
        f"dlr-conformance stored state: {run.state_line()}",
    ]


def _planned(item: pytest.Item, options: opts.RunOptions) -> int:
    marker = item.get_closest_marker("requirement")
    if marker is None:
        return 0
    requests = marker.kwargs.get("requests", 1)
    return int(requests(options) if callable(requests) else requests)


def _reader_overridden(session: pytest.Session) -> bool:
    """True when a conftest or plugin provides its own ``dlr_state_reader`` fixture."""
    for item in session.items:
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.get("dlr_state_reader") if info is not None else None
        if defs:
            return getattr(defs[-1].func, "__module__", "") != __name__
    return False


def _requirement_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("requirement")
    return str(marker.args[0]) if marker is not None and marker.args else ""


def _order(item: pytest.Item) -> int:
    """The certificate first (one delivery that shows a TLS problem before anything else trips the breaker), the
    scenarios that load the receiver last (its rate limiter must not turn every other requirement red)."""
    marker = item.get_closest_marker("requirement")
    if marker is None:
        return 1
    if marker.kwargs.get("load"):
        return 2
    return 0 if marker.args and marker.args[0] == "DLR-12" else 1


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is None:
        return
    for item in items:
        requirement = _requirement_of(item)
        if requirement:
            # -k DLR-04 selects by requirement, -k newest_status_wins by a check that --list-checks names
            found = by_id(requirement)
            item.extra_keyword_matches.update((requirement, *found.checks, *found.scenario_checks))
    wanted = set(state.run.options.requirements)
    if wanted:
        keep = [item for item in items if _requirement_of(item) in wanted]
        dropped = [item for item in items if _requirement_of(item) not in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    items.sort(key=_order)  # a stable sort: the suite's own order within each group


def pytest_deselected(items: list[pytest.Item]) -> None:
    if not items:
        return
    state = _state(items[0].config)
    if state is not None:
        state.summary.selection.deselected += [(item.name, _requirement_of(item)) for item in items]


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None:
        return
    if _reader_overridden(session):
        state.run.keep_state("fixture dlr_state_reader")
    state.planned = sum(_planned(item, state.run.options) for item in session.items)
    state.summary.planned = state.planned
    run = state.run
    line = (
        f"dlr-conformance: sending {state.planned} requests to {run.masked_url} "
        f"({len(session.items)} checks, run id {run.run_id}, seed {run.seed}"
    )
    if run.options.max_rps:
        line += f", at most {run.options.max_rps:g} per second: at least {state.planned / run.options.max_rps:.0f} s"
    line += "); more if a generated failure is shrunk"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
        reporter._tw.flush()  # before the first request goes out, even when stdout is a pipe
    else:
        print(line, flush=True)


class _SuiteFixtures:
    """The suite's fixtures, registered only in a session that runs the suite (``target`` is a common name)."""

    @pytest.fixture(scope="session")
    @classmethod  # a session fixture on an instance is deprecated (PytestRemovedIn10Warning)
    def dlr_run(cls, request: pytest.FixtureRequest) -> Run:
        """The conformance run of this session."""
        state = _state(request.config)
        assert state is not None  # registered together with the state
        return state.run

    @pytest.fixture(scope="session")
    @classmethod
    def dlr_state_reader(cls, dlr_run: Run) -> Any:
        """What the receiver stored, for DLR-13..16: a function from the request ``{"run_id", "message_ids",
        "api_job_ids"}`` to rows ``{"message_id", "status", "reports"?, ...}``, or None (not checked).

        The default runs ``--state-cmd``; a project that reads its own database through its ORM overrides this
        fixture in its ``conftest.py`` (see docs/state.md).
        """
        from conformance.engine.store import CommandReader

        options = dlr_run.options
        return CommandReader(options.state_cmd, options.state_timeout) if options.state_cmd else None

    @pytest.fixture
    def target(self, request: pytest.FixtureRequest, dlr_run: Run) -> Target:
        """What a suite test drives: delivers payloads to the target and checks each answer."""
        marker = request.node.get_closest_marker("requirement")
        if marker is None:
            pytest.fail(f"{request.node.nodeid} has no @pytest.mark.requirement", pytrace=False)
        tgt = dlr_run.target(by_id(marker.args[0]), request.node.name)
        request.node.stash[TARGET] = tgt
        return tgt


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """A preparer that fails before the first delivery stops the run as a usage error (exit 4)."""
    from conformance.engine.store import StateCommandError

    try:
        return (yield)
    except StateCommandError as exc:
        state = _state(item.config)
        if state is not None and getattr(exc, "before_first_delivery", False):
            message = f"--prepare-cmd: {state.run.redactor.mask(str(exc))} (before the first delivery)."
            state.summary.internal_error = message
            pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    state = _state(item.config)
    if state is None:
        return report
    marker = item.get_closest_marker("requirement")
    requirement = marker.args[0] if marker else ""
    if requirement and ("requirement", requirement) not in report.user_properties:
        report.user_properties.append(("requirement", requirement))
    if call.excinfo is not None and call.excinfo.errisinstance(ConformanceFailure):
        report.longrepr = str(call.excinfo.value)  # the findings, not a traceback
    elif call.excinfo is not None and type(call.excinfo.value).__name__ == "StateCommandError":
        what = str(getattr(call.excinfo.value, "what", ""))
        doing = "prepare the messages" if what.startswith("preparer") else "read the stored state"
        problem = f"dlr-conformance could not {doing}: {call.excinfo.value}"
        report.longrepr = state.run.redactor.mask(problem)
    elif report.failed and report.longrepr is not None:
        report.longrepr = state.run.redactor.mask(str(report.longrepr))
    tgt = item.stash.get(TARGET, None)
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome: str = report.outcome
        if report.failed and not (call.excinfo and call.excinfo.errisinstance(ConformanceFailure)):
            outcome = "error"
        message = report.longreprtext if report.failed else ""
        if report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        result = TestResult(
            nodeid=item.nodeid,
            name=item.name,
            requirement=requirement,
            outcome=outcome,
            duration=report.duration,
            message=state.run.redactor.mask(message),
            findings=list(tgt.findings) if tgt else [],
            warnings=list(tgt.warnings) if tgt else [],
            evidence=list(tgt.evidence) if tgt else [],
            notes=list(tgt.notes) if tgt else [],
            delivered=tgt.delivered if tgt else 0,
        )
        state.summary.add(result)
        report.dlr_result = result  # type: ignore[attr-defined]
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None:
        return
    summary = state.summary
    summary.finished = time.time()
    summary.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        summary.internal_error = "pytest reported an internal error"
    summary.write_json(state.json_path)
    _junit_facts(session.config, summary)
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # the verdict decides: a failed SHOULD alone is exit 0 unless --strict; nothing judged is an error
        session.exitstatus = summary.exit_code


def _junit_xml(config: pytest.Config) -> Any:
    try:
        from _pytest.junitxml import xml_key  # pytest's own JUnit writer: no public handle to it
    except ImportError:  # pragma: no cover - pytest moved it
        return None
    return config.stash.get(xml_key, None)


def _junit_facts(config: pytest.Config, summary: Summary) -> None:
    """The JUnit suite named after the tool and the target, the run's facts as its properties."""
    xml = _junit_xml(config)
    if xml is None:
        return
    run = summary.run
    xml.suite_name = f"dlr-conformance {run.masked_url}"
    facts = {
        "verdict": summary.verdict,
        "complete": str(summary.complete).lower(),
        "strict": str(summary.strict).lower(),
        "target": run.masked_url,
        "seed": run.seed,
        "run_id": run.run_id,
        "tool_version": summary.to_json()["tool"]["version"],
        "options": summary.options_text(),
        "requests_sent": summary.sent_text(),
    }
    for name, value in facts.items():
        xml.add_global_property(f"dlr-conformance.{name}", value)


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = _state(item.config)
    requirement = _requirement_of(item)
    xml = _junit_xml(item.config) if state is not None and requirement else None
    if xml is not None:
        xml.node_reporter(item.nodeid).add_attribute("classname", requirement)  # CI tools group by requirement


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> Generator[None]:
    # a wrapper, so that the verdict comes after what other plugins print (pytest-html's "Generated html report")
    yield
    state = _state(config)
    if state is None:
        return
    from conformance.reporting.console import verdict_lines

    terminalreporter.section("dlr-conformance")
    for line in verdict_lines(state.summary, quiet=terminalreporter.verbosity < QUIET):
        terminalreporter.write_line(line)
