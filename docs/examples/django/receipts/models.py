"""One row per message the application sent, updated by its delivery reports; one row per distinct report."""

from __future__ import annotations

from typing import Any

from django.db import models


class Message(models.Model):
    message_id = models.CharField(max_length=64, primary_key=True)
    api_job_id = models.TextField(null=True)
    client_job_id = models.TextField(null=True)
    client_message_id = models.TextField(null=True)
    type = models.TextField(null=True)
    recipient = models.TextField(null=True)
    sender = models.TextField(null=True)
    status = models.TextField(null=True)  # the newest report's status; None until the first report
    timestamp = models.BigIntegerField(null=True)  # 64-bit: the platform sends milliseconds here
    micro_timestamp = models.BigIntegerField(null=True)
    error_code = models.SmallIntegerField(null=True)  # a short, over its whole range
    reports = models.IntegerField(default=0)

    def as_row(self) -> dict[str, Any]:
        """The message in the platform's words, as the conformance suite's state reader returns it."""
        return {
            "message_id": self.message_id,
            "status": self.status,
            "reports": self.reports,
            "api_job_id": self.api_job_id,
            "client_job_id": self.client_job_id,
            "client_message_id": self.client_message_id,
            "type": self.type,
            "to": self.recipient,
            "timestamp": self.timestamp,
            "micro_timestamp": self.micro_timestamp,
            "error_code": self.error_code,
        }


class Report(models.Model):
    """A report processed: a retry of it (same message, same status) changes nothing."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE)
    status = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "status"], name="one_report_per_status")]
