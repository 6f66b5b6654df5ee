"""What the RDFI tests share: a bank's decisioning webhook on loopback, received files
built with the NACHA library, and `ledger ach file process` and `ledger ach file returns`
run as an operator runs them."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import standardwebhooks
from aiohttp import web

from connectors.webhooks.signing import headers
from nacha import FileBuilder, addenda, generate

BANK_ROUTING = "026009593"     # the RDFI: this ledger's bank (ach_tran_codes.CONFIGURATION)
ORIGIN_ROUTING = "076401251"   # the ODFI that sent the file
# An answer the webhook gives after the processor's deadline.
SLOW = "slow"
# An answer sent without a valid signature.
UNSIGNED = "unsigned"
SLOW_S = 3.0


def new_secret() -> str:
    """A Standard Webhooks secret."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


class DecisioningWebhook:
    """The bank's decisioning webhook: verifies each request's signature, answers by the
    entry's DFI account number from ``answers`` (a JSON answer, SLOW or UNSIGNED: a SETTLE
    to ``fallback`` sent too late or with a wrong signature), signs its answer, and keeps
    every request it verified."""

    def __init__(self, secret: str, fallback: str, delay_s: float = 0.0) -> None:
        self.fallback = fallback
        self.secret = secret
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.answers: dict[str, Any] = {}
        self.requests: list[dict[str, Any]] = []
        self.refused = 0
        self.delay_s = delay_s
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the webhook did not start"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/decide"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/decide", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            standardwebhooks.Webhook(self.secret).verify(body, dict(request.headers))
        except standardwebhooks.WebhookVerificationError:
            self.refused += 1
            return web.json_response({"error": "bad signature"}, status=401)
        document = json.loads(body)
        self.requests.append(document)
        answer = self.answers.get(document["entryDetail"]["dfiAccountNumber"], SLOW)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if answer == SLOW:
            await asyncio.sleep(SLOW_S)
        forged = answer == UNSIGNED
        if answer in (SLOW, UNSIGNED):
            answer = {"action": "SETTLE", "accountId": self.fallback}
        payload = json.dumps(answer).encode()
        signed = headers(self.key, request.headers["webhook-id"], int(time.time()), payload)
        if forged:
            signed["webhook-signature"] = "v1," + base64.b64encode(b"0" * 32).decode()
        return web.Response(body=payload, headers=signed)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(SLOW_S + 10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@dataclass(frozen=True)
class Forward:
    """A forward entry: transaction code, cents, DFI account number."""

    code: int
    cents: int
    account_number: str


def forward_file(entries: Sequence[Forward], *, modifier: str, effective: date,
                 created: datetime = datetime(2025, 11, 14, 9, 30)) -> bytes:
    """A received file of PPD entries for this bank's customers."""
    builder = FileBuilder(immediate_destination=BANK_ROUTING, immediate_origin=ORIGIN_ROUTING,
                          created=created, file_id_modifier=modifier,
                          immediate_origin_name="ORIGIN BANK")
    batch = builder.batch("PPD", originating_dfi=ORIGIN_ROUTING[:8],
                          effective_entry_date=effective, company_name="ACME PAYROLL",
                          company_identification="1234567890",
                          company_entry_description="PAYROLL")
    for entry in entries:
        batch.entry(entry.code, BANK_ROUTING, entry.cents,
                    dfi_account_number=entry.account_number, individual_name="JANE DOE")
    return generate(builder.build()).encode()


@dataclass(frozen=True)
class Returned:
    """A return (``code`` R..) or a NOC (``code`` C.., with ``corrected``) of an entry this
    ODFI sent under ``original_trace``."""

    original_trace: str
    code: str
    cents: int = 0
    credit: bool = True
    corrected: str = ""


def return_file(items: Sequence[Returned], *, modifier: str, effective: date) -> bytes:
    """A file of returns and NOCs from the receiving bank, for entries this bank sent."""
    builder = FileBuilder(immediate_destination=BANK_ROUTING, immediate_origin=ORIGIN_ROUTING,
                          created=datetime(2025, 11, 20, 8, 0), file_id_modifier=modifier)
    returns = [item for item in items if item.code.startswith("R")]
    nocs = [item for item in items if item.code.startswith("C")]
    for sec, group in (("PPD", returns), ("COR", nocs)):
        if not group:
            continue
        batch = builder.batch(sec, originating_dfi=ORIGIN_ROUTING[:8],
                              effective_entry_date=effective, company_name="EXAMPLE BANK",
                              company_identification="1026009593",
                              company_entry_description="RETURN" if sec == "PPD" else "NOC")
        for item in group:
            code = 21 if item.credit else 26
            if sec == "PPD":
                record = addenda("99", return_reason_code=item.code,
                                 original_entry_trace_number=item.original_trace,
                                 original_receiving_dfi_identification=ORIGIN_ROUTING[:8])
                batch.entry(code, BANK_ROUTING, item.cents, dfi_account_number="12345678901234567",
                            individual_name="CLARK KENT", addenda=[record])
            else:
                record = addenda("98", change_code=item.code,
                                 original_entry_trace_number=item.original_trace,
                                 original_receiving_dfi_identification=ORIGIN_ROUTING[:8],
                                 corrected_data=item.corrected)
                batch.entry(code, BANK_ROUTING, 0, dfi_account_number="12345678901234567",
                            receiving_company_name="CLARK KENT", addenda=[record])
    return generate(builder.build()).encode()


def process_command(bootstrap: str, prefix: str, path: Path, secret_file: Path, url: str,
                    *extra: str) -> list[str]:
    """`ledger ach file process` with the test's webhook."""
    return [sys.executable, "-m", "ledger_cli", "ach", "file", "process", str(path),
            "--bootstrap-servers", bootstrap, "--topic-prefix", prefix,
            "--webhook-secret-file", str(secret_file), "--decisioning-url", url, "--json",
            *extra]


def returns_command(bootstrap: str, prefix: str, path: Path, config_id: str,
                    *extra: str) -> list[str]:
    """`ledger ach file returns` of the received file at ``path``."""
    return [sys.executable, "-m", "ledger_cli", "ach", "file", "returns", str(path),
            "--bootstrap-servers", bootstrap, "--topic-prefix", prefix, "--config-id", config_id,
            *extra]


def run_process(command: list[str]) -> tuple[int, dict[str, Any] | None, str]:
    """Run it to its end: exit status, the JSON report (None on an error), stderr."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(done.stdout) if done.returncode == 0 else None
    return done.returncode, report, done.stderr
