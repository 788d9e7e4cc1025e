"""The callback: POST a delivery-report batch, get exactly 200 once it is stored.

Only messages the application sent are updated (a report for an unknown ``message_id`` is answered 200 and
ignored), each distinct report is processed once, and the status of the newest report (by ``timestamp``, then
``micro_timestamp``) wins whatever order reports arrive in; a batch is stored in one transaction.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from receipts.models import Message, Report


def _newer(message: Message, record: dict[str, Any]) -> bool:
    if message.status is None:
        return True
    stored = (message.timestamp or 0, message.micro_timestamp or 0)
    return stored <= (record.get("timestamp") or 0, record.get("micro_timestamp") or 0)


def store(callback: dict[str, Any]) -> None:
    """Apply every record of one callback, in one transaction."""
    with transaction.atomic():
        for record in callback.get("data") or []:
            message = Message.objects.filter(message_id=str(record.get("message_id"))).first()
            if message is None:
                continue  # not a message we sent: answered 200, ignored
            _, first = Report.objects.get_or_create(message=message, status=str(record.get("status")))
            if not first:
                continue  # a retry of a report already processed
            message.reports += 1
            if _newer(message, record):
                message.status = str(record.get("status"))
                message.timestamp = record.get("timestamp")
                message.micro_timestamp = record.get("micro_timestamp")
                message.error_code = record.get("error_code")
                message.sender = record.get("from") or record.get("sms_from") or record.get("viber_from") or None
                message.api_job_id = callback.get("api_job_id")
                message.client_job_id = callback.get("client_job_id") or None
                message.client_message_id = record.get("client_message_id")
                message.type = record.get("type")
            message.save()


@csrf_exempt
@require_POST
def callback(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
    except ValueError:
        return HttpResponse(status=400)
    store(body)
    return HttpResponse(status=200)
