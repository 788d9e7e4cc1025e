"""Campaign traffic for the load mode: contract-valid callbacks at thousands per second, as a campaign's come back.

Hypothesis draws a few thousand simple values per second, and a composed callback costs ~0.4 ms: too slow to draw
every callback at campaign rates. So the contract is sampled once, before the load starts: :func:`templates`
draws records from the generated check's own strategy (``payloads.record``, realistic most of the time, with
unicode, extra fields and both sender forms now and then) and keeps them as templates. Per callback,
:class:`Campaign` only stamps what makes a delivery report unique and current onto a template -- ``api_job_id``
(``dlrc-<run-id>-...``, so a run's reports can be found and purged), ``message_id``, ``status``, ``error_code`` and
the two timestamps -- into the template's other fields, encoded as JSON once per process: ~9 microseconds a
callback here, where a ``json.dumps`` of every record took ~18.

Traffic like a campaign's: each message goes through a progression (``ACCEPTD``, ``ENROUTE``, then a final status
in the proportions of :data:`FINALS`); messages of one send request share an ``api_job_id``; some callbacks carry a
batch of reports; a small share are retries (the same body again, as the platform re-sends a callback it counted
as failed). Every template is validated against the contract when drawn, and so is the first stamped callback of
each.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from conformance.contract import schema as contract

__all__ = ["BATCH_SHARE", "FINALS", "RETRY_SHARE", "Campaign", "templates"]

# final statuses and their shares in a campaign (most messages are delivered), with the error code each carries
FINALS: tuple[tuple[str, float, int], ...] = (
    ("DELIVRD", 0.88, 0),
    ("UNDELIV", 0.05, 1),
    ("EXPIRED", 0.04, 254),
    ("REJECTD", 0.03, 11),
)
PROGRESSION = ("ACCEPTD", "ENROUTE")  # the intermediate reports before the final one
BATCH_SHARE = 0.10  # callbacks carrying several reports
BATCH_MAX = 20
RETRY_SHARE = 0.02  # callbacks delivered again, unchanged
MESSAGES_PER_JOB = 100  # recipients of one send request: one api_job_id
ACTIVE = 64  # messages in progress per campaign at a time


def templates(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` record templates drawn from the contract's strategy with Hypothesis, seeded, each one valid."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from conformance.generation import payloads

    found: list[dict[str, Any]] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(payloads.record())
    def draw(record: dict[str, Any]) -> None:
        found.append(record)

    draw()
    valid = [r for r in found if not contract.errors({"api_job_id": "x", "data": [r]})]
    return valid or [_plain()]


def _plain() -> dict[str, Any]:
    return {
        "type": "SMS",
        "message_id": "1",
        "status": "DELIVRD",
        "timestamp": 0,
        "micro_timestamp": 0,
        "to": "4915112345678",
        "from": "Fortytwo",
        "error_code": 0,
    }


STAMPED = ("message_id", "status", "error_code", "timestamp", "micro_timestamp", "client_message_id")


@dataclass(eq=False)
class _Template:
    """A record template with its unstamped fields encoded once: stamping a report is then one string format."""

    record: dict[str, Any]
    head: str  # '{"type":"SMS",...,' -- the other fields as JSON, open for the stamped ones
    client_message_id: bool
    checked: bool = False  # its first stamp was validated in this process


# the templates encoded in this process, by id (each kept, so that its id is never reused): a load process runs
# hundreds of users (campaigns) over the same templates, and validating a stamp costs ~1 ms
_ENCODED: dict[int, _Template] = {}


def _encoded(record: dict[str, Any]) -> _Template:
    found = _ENCODED.get(id(record))
    if found is None:
        rest = {k: v for k, v in record.items() if k not in STAMPED}
        head = json.dumps(rest, separators=(",", ":"))[:-1] + ("," if rest else "")
        found = _ENCODED[id(record)] = _Template(record, head, "client_message_id" in record)
    return found


@dataclass(eq=False)  # compared by identity: a campaign holds each message once
class _Message:
    api_job_id: str
    job_json: str  # the api_job_id as a JSON string
    message_id: str
    template: _Template
    final: tuple[str, int]
    stage: int = 0


Sent = tuple[tuple[str, str, str], ...]
"""The reports of one callback as ``(api_job_id, message_id, status)``: what the load's ledger keeps."""


@dataclass
class Campaign:
    """Stamps unique, current callbacks from templates: one per :meth:`next_body` call (one campaign per user).

    After each call, :attr:`last` holds the reports that body carries (a retry's are its original's)."""

    run_id: str
    templates: list[dict[str, Any]]
    seed: int = 0
    rng: random.Random = field(init=False)
    last: Sent = field(init=False, default=())
    _active: list[_Message] = field(init=False, default_factory=list)
    _recent: deque[tuple[bytes, Sent]] = field(init=False, default_factory=lambda: deque(maxlen=32))
    _prefix: str = field(init=False, default="")
    _seq: int = field(init=False, default=0)
    _job: str = field(init=False, default="")
    _job_json: str = field(init=False, default="")
    reports: int = field(init=False, default=0)
    retries: int = field(init=False, default=0)
    finals: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - the shape of traffic, not a secret
        # unique across processes and machines without coordination: 12 random digits, then a counter
        self._prefix = f"{random.SystemRandom().randrange(10**11, 10**12)}"

    def next_body(self) -> bytes:
        """The next callback's body: a retry of a recent one now and then, else one or a batch of fresh reports."""
        if self._recent and self.rng.random() < RETRY_SHARE:
            self.retries += 1
            body, self.last = self._recent[self.rng.randrange(len(self._recent))]
            return body
        count = self.rng.randint(2, BATCH_MAX) if self.rng.random() < BATCH_SHARE else 1
        if len(self._active) < ACTIVE:
            self._active.append(self._new_message())
        message = self._active[self.rng.randrange(len(self._active))]
        job = message.api_job_id
        records = [self._report(message)]
        if count > 1:  # a batch: more reports of the same send request, while some of its messages are in progress
            peers = [m for m in self._active if m.api_job_id == job]
            for _ in range(count - 1):
                if not peers:
                    break
                peer = peers[self.rng.randrange(len(peers))]
                records.append(self._report(peer))
                if peer.stage > len(PROGRESSION):
                    peers.remove(peer)
        self.last = tuple((job, message_id, status) for _, message_id, status in records)
        text = f'{{"api_job_id":{message.job_json},"data":[{",".join(record for record, _, _ in records)}]}}'
        encoded = text.encode("utf-8")
        self._recent.append((encoded, self.last))
        return encoded

    def _new_message(self) -> _Message:
        if self._seq % MESSAGES_PER_JOB == 0:
            self._job = f"dlrc-{self.run_id}-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
            self._job_json = json.dumps(self._job)
        self._seq += 1
        roll, final = self.rng.random(), FINALS[0]
        for candidate in FINALS:
            roll -= candidate[1]
            if roll < 0:
                final = candidate
                break
        index = self.rng.randrange(len(self.templates))
        template = _encoded(self.templates[index])
        return _Message(self._job, self._job_json, f"{self._prefix}{self._seq:08d}", template, (final[0], final[2]))

    def _report(self, message: _Message) -> tuple[str, str, str]:
        """The next report of a message in progress, as JSON with its message id and status: its next stage. A
        finished message makes room for a new one."""
        if message.stage < len(PROGRESSION):
            status, error_code = PROGRESSION[message.stage], 0
        else:
            status, error_code = message.final
            self.finals[status] = self.finals.get(status, 0) + 1
            self._active.remove(message)
        message.stage += 1
        self.reports += 1
        now = time.time()
        template, message_id = message.template, message.message_id
        # message ids are digits and statuses plain ASCII: nothing to escape
        record = (
            f'{template.head}"message_id":"{message_id}","status":"{status}","error_code":{error_code},'
            f'"timestamp":{int(now * 1000)},"micro_timestamp":{int(now * 1_000_000)}'
            + (f',"client_message_id":"cm-{message_id}"}}' if template.client_message_id else "}")
        )
        if not template.checked:  # the first stamp of each template is validated, once per process
            template.checked = True
            problems = contract.errors({"api_job_id": message.api_job_id, "data": [json.loads(record)]})
            if problems:
                raise ValueError(f"a stamped campaign callback does not satisfy the contract: {problems[0]}")
        return record, message_id, status
