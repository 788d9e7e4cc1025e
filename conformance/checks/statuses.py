"""Relating a stored status to the statuses sent: the first step of every stored-state comparison.

A receiver stores either the platform's statuses or its own words for them (``delivered`` for ``DELIVRD`` and
``SEEN``), given to the tool as a status map (``--status-map``). Each stored-state check first asks
:func:`relate` which of the statuses sent for a message the stored value stands for -- through the map, or,
without one, exactly or as a mangled form (case changed, trimmed, cut) -- and only then judges its own property
on that, so that one fault (a lowercased status) never hides another (an older status that won).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from conformance.contract import KNOWN_STATUSES
from conformance.options import ANY_STATUS, read_status_map

__all__ = ["Relation", "StatusMap", "mangled_form_of", "relate"]


@dataclass(frozen=True)
class StatusMap:
    """The receiver's words, each with the platform statuses it stands for (``*``: every status named nowhere)."""

    words: Mapping[str, tuple[str, ...]]

    @classmethod
    def load(cls, path: str) -> StatusMap:
        """The map in a JSON file (validated when the option was read)."""
        return cls(read_status_map(path))

    def word_of(self, status: str) -> str | None:
        """The receiver's word for a platform status: the word naming it, else the word of ``*``, else None."""
        fallback = None
        for word, statuses in self.words.items():
            if status in statuses:
                return word
            if ANY_STATUS in statuses:
                fallback = word
        return fallback

    def must_recognise(self, status: str) -> bool:
        """Whether the map says which word a status is: every documented status, and any other when ``*`` is used."""
        return status in KNOWN_STATUSES or self.word_of(status) is not None


def mangled_form_of(stored: str, sent: Iterable[str]) -> str | None:
    """The status sent of which ``stored`` is a mangled form (case, cut, padded, '?' for characters), if any."""
    for status in sent:
        if stored.lower() == status.lower() or stored.strip() == status:
            return status
        if stored and (status.startswith(stored) or stored.startswith(status)):
            return status
        if len(stored) == len(status) and all(a == b or a == "?" for a, b in zip(stored, status, strict=True)):
            return status
    return None


@dataclass(frozen=True)
class Relation:
    """What a stored status stands for among the statuses sent for one message."""

    stored: str
    statuses: tuple[str, ...]  # the statuses sent it stands for; () when none
    exact: bool  # stored as it should be: the status itself (no map) or one of the receiver's words (a map)

    @property
    def mangled(self) -> bool:
        """Stored as a mangled form of a status sent (or, with a map, as none of the receiver's words)."""
        return bool(self.statuses) and not self.exact


def relate(stored: str, sent: Iterable[str], status_map: StatusMap | None = None) -> Relation:
    """Which of the statuses ``sent`` the ``stored`` value stands for, through the map when there is one."""
    sent = tuple(sent)
    if status_map is not None and stored in status_map.words:
        return Relation(stored, tuple(s for s in sent if status_map.word_of(s) == stored), True)
    if status_map is None and stored in sent:
        return Relation(stored, (stored,), True)
    related = stored if stored in sent else mangled_form_of(stored, sent)
    return Relation(stored, (related,) if related is not None else (), False)
