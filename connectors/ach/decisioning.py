"""The RDFI decisioning webhook: one signed POST per received entry, and its answer.

The request is signed the Standard Webhooks way (``connectors/webhooks/signing.py``) with
the secret the process was given; its ``webhook-id`` derives from the entry's execution id,
so every attempt for an entry, after a crash too, carries the same id to dedupe on. The
answer must be signed with the same secret and name the same ``webhook-id``: a decision
moves money, so an answer that is not the bank's own, or was made for another entry, is no
decision. Anything but a valid signed SETTLE or RETURN, a failure or a timeout is answered
with the ``Reason`` the entry goes to suspense for; nothing is retried within a run.

The account number goes in the body of this request and nowhere else: it is never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.ach.received import ReceivedItem
from connectors.webhooks.signing import ID_HEADER, SignatureError, headers, verify_signature
from ledger_core.ach_rdfi import Reason, ReturnAnswer, SettleAnswer, entry_execution_id
from nacha.codes import RETURN_CODES

log = logging.getLogger(__name__)

ANSWER_MAX = 64 * 1024  # an answer is a few hundred bytes
Answer = SettleAnswer | ReturnAnswer | Reason


class _AnswerBody(BaseModel):
    """The answer as the webhook sends it (camelCase); other fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: Literal["SETTLE", "RETURN"]
    accountId: UUID | None = None  # noqa: N815 - the wire's name
    returnCode: str | None = None  # noqa: N815


def webhook_id(execution_id: UUID) -> str:
    """The ``webhook-id`` of every request about one entry."""
    return f"msg_{execution_id.hex}"


def request_body(item: ReceivedItem, *, file_id: UUID, config_id: UUID,
                 config_version: int) -> dict[str, Any]:
    """The request's JSON body, in the shape of Twisp's RDFI webhook."""
    entry, detail, batch = item.entry, item.detail, item.batch_header
    return {
        "workflowName": "ACH.RDFI.CR" if entry.credit else "ACH.RDFI.DR",
        "workflowTask": "CREATE",
        "executionId": str(entry_execution_id(file_id, entry.trace_number)),
        "fileId": str(file_id), "configId": str(config_id), "configVersion": config_version,
        "batchHeader": {
            "companyName": batch["company_name"],
            "companyIdentification": batch["company_identification"],
            "standardEntryClassCode": batch["standard_entry_class_code"],
            "companyEntryDescription": batch["company_entry_description"],
            "effectiveEntryDate": entry.effective_date.isoformat(),
        },
        "entryDetail": {
            "transactionCode": entry.transaction_code,
            "direction": "CREDIT" if entry.credit else "DEBIT",
            "rdfiIdentification": detail["receiving_dfi_identification"]
            + detail["check_digit"],
            "dfiAccountNumber": detail["dfi_account_number"],
            "amount": str(entry.amount),
            "currency": "USD",
            "traceNumber": entry.trace_number,
            "individualName": _field(detail, "individual_name", "receiving_company_name"),
            "identificationNumber": _field(detail, "individual_identification_number",
                                           "identification_number"),
        },
    }


def _field(record: Any, *names: str) -> str:
    return next((record[name] for name in names if record.layout.has(name)), "")


def parse_answer(body: bytes) -> Answer:
    """A SETTLE with its account, a RETURN with a known return code, or ANSWER_INVALID."""
    try:
        answer = _AnswerBody.model_validate_json(body)
    except ValidationError:
        return Reason.ANSWER_INVALID
    if answer.action == "SETTLE":
        return Reason.ANSWER_INVALID if answer.accountId is None else SettleAnswer(
            answer.accountId)
    if answer.returnCode is None or answer.returnCode not in RETURN_CODES:
        return Reason.ANSWER_INVALID
    return ReturnAnswer(answer.returnCode, answer.accountId)


class Decisioning:
    """Calls the webhook at ``url``; each call has ``timeout_s`` for the whole exchange."""

    def __init__(self, session: aiohttp.ClientSession, url: str, key: bytes,
                 timeout_s: Decimal) -> None:
        self._session = session
        self._url = url
        self._key = key
        self._timeout_s = float(timeout_s)

    async def decide(self, body: dict[str, Any]) -> Answer:
        """The answer to one entry's request, or why there is none."""
        message_id = webhook_id(UUID(body["executionId"]))
        payload = json.dumps(body, separators=(",", ":")).encode()
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._call(message_id, payload)
        except TimeoutError:
            return Reason.WEBHOOK_TIMEOUT
        except aiohttp.ClientError as error:
            log.warning("decisioning webhook failed for %s: %s", message_id,
                        type(error).__name__)
            return Reason.WEBHOOK_FAILED

    async def _call(self, message_id: str, payload: bytes) -> Answer:
        signed = headers(self._key, message_id, int(time.time()), payload)
        async with self._session.post(self._url, data=payload, headers=signed,
                                      allow_redirects=False) as response:
            if response.status // 100 != 2:
                log.warning("decisioning webhook answered %s for %s", response.status,
                            message_id)
                return Reason.WEBHOOK_FAILED
            answer = await response.content.read(ANSWER_MAX + 1)
            if len(answer) > ANSWER_MAX:
                return Reason.ANSWER_INVALID
            try:
                verify_signature(self._key, response.headers, answer, time.time())
            except SignatureError:
                return Reason.ANSWER_SIGNATURE_INVALID
            if response.headers.get(ID_HEADER) != message_id:
                return Reason.ANSWER_SIGNATURE_INVALID
            return parse_answer(answer)
