"""The verdicts every face gives, and the exit code each one means: one vocabulary for the suite and ``load``.

The suite's run ends ``conformant``, ``conformant_with_warnings`` or ``not_conformant`` (the rules are in
:mod:`conformance.reporting.summary`); a load ends ``held`` or ``not_held`` (the rate), or ``not_conformant`` when
the receiver lost or double-processed what it acknowledged; either may end ``interrupted`` or ``error``. The JSON
summaries carry the value, the consoles and banners its text, and the process exits with its code.
"""

from __future__ import annotations

from enum import StrEnum

from conformance.options import ExitCode

__all__ = ["ExitCode", "Verdict"]


class Verdict(StrEnum):
    """How a run ended."""

    CONFORMANT = "conformant"
    CONFORMANT_WITH_WARNINGS = "conformant_with_warnings"
    NOT_CONFORMANT = "not_conformant"
    HELD = "held"
    NOT_HELD = "not_held"
    INTERRUPTED = "interrupted"
    ERROR = "error"

    @property
    def text(self) -> str:
        """As the console and the banners show it: ``CONFORMANT WITH WARNINGS``, ``NOT HELD``."""
        return self.value.upper().replace("_", " ")

    @property
    def exit_code(self) -> ExitCode:
        """0 passed (warnings allowed), 1 failed, 2 interrupted, 3 error."""
        return _EXIT[self]

    @property
    def failed(self) -> bool:
        """True for a verdict that fails the run: the receiver does not do what it must."""
        return self.exit_code == ExitCode.FAILED

    @property
    def unjudged(self) -> bool:
        """True when the run could not judge the receiver: interrupted, or an error."""
        return self.exit_code in (ExitCode.INTERRUPTED, ExitCode.ERROR)


_EXIT = {
    Verdict.CONFORMANT: ExitCode.OK,
    Verdict.CONFORMANT_WITH_WARNINGS: ExitCode.OK,
    Verdict.HELD: ExitCode.OK,
    Verdict.NOT_CONFORMANT: ExitCode.FAILED,
    Verdict.NOT_HELD: ExitCode.FAILED,
    Verdict.INTERRUPTED: ExitCode.INTERRUPTED,
    Verdict.ERROR: ExitCode.ERROR,
}
