"""The demo's sinks: a signed webhook to a receiver on loopback, and the Parquet warehouse
that ``ledger sql`` reads.

The receiver checks every delivery with the ``standardwebhooks`` library (not with the
sink's own signing code), as a product service would.
"""

import base64
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from standardwebhooks import Webhook, WebhookVerificationError

from streams.errors import LedgerError

DELIVERY_TIMEOUT_S = 60.0
TRIAL_BALANCE = """
SELECT journal_id, currency, account_id,
       coalesce(sum(units) FILTER (WHERE direction = 'DEBIT'), 0) AS debits,
       coalesce(sum(units) FILTER (WHERE direction = 'CREDIT'), 0) AS credits
FROM entries
WHERE layer = 'SETTLED'
GROUP BY GROUPING SETS ((journal_id, currency, account_id), (journal_id, currency))
ORDER BY journal_id, currency, account_id NULLS LAST
"""


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got, and whether its signature held."""

    webhook_id: str
    verified: bool
    event: dict[str, Any]


class WebhookReceiver:
    """An HTTP endpoint on loopback that verifies and keeps what it receives."""

    def __init__(self, secret: str) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        webhook = Webhook(secret)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                try:
                    event = webhook.verify(body, dict(self.headers.items()))
                    verified = True
                except WebhookVerificationError:
                    event, verified = json.loads(body), False
                receiver._keep(Delivery(self.headers.get("webhook-id", ""), verified, event))
                self.send_response(204 if verified else 400)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo prints what it received itself."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/ledger-hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _keep(self, delivery: Delivery) -> None:
        with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()

    def wait_for(self, account_id: UUID, version: int, timeout_s: float = DELIVERY_TIMEOUT_S
                 ) -> Delivery:
        """The delivery of ``account_id``'s balance version ``version``."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while True:
                for delivery in self.deliveries:
                    data = delivery.event.get("data", {})
                    if data.get("accountId") == str(account_id) and data.get("version") == version:
                        return delivery
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LedgerError(f"no webhook for balance version {version} of "
                                      f"{account_id} within {timeout_s:.0f}s")
                self._arrived.wait(left)


def start_webhook_sink(bootstrap: str, home: Path, account_id: UUID
                       ) -> tuple[subprocess.Popen[bytes], WebhookReceiver]:
    """A receiver, and ``ledger sink webhook run`` sending it ``account_id``'s balances."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    receiver = WebhookReceiver(secret)
    config = home / "demo-webhooks.yaml"
    # The secret stays out of the file: the sink reads it from its environment.
    config.write_text(yaml.safe_dump({"subscriptions": [{
        "id": "demo-balances", "name": "the demo's receiver", "url": receiver.url,
        "secret_env": "DEMO_WEBHOOK_SECRET", "events": ["balance.updated"],
        "accounts": [str(account_id)], "start": "earliest"}]}))
    with open(home / "demo-webhook-sink.log", "ab") as log:
        sink = subprocess.Popen(
            [sys.executable, "-m", "ledger_cli", "sink", "webhook", "run", "--config",
             str(config), "--bootstrap-servers", bootstrap],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "DEMO_WEBHOOK_SECRET": secret})
    return sink, receiver


def write_warehouse(bootstrap: str, warehouse: Path) -> None:
    """Run the Parquet sink until it has written every record on the topics, then stop."""
    done = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "sink", "parquet", "run", "--out", str(warehouse),
         "--bootstrap-servers", bootstrap, "--until-end"],
        capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise LedgerError(f"the Parquet sink failed:\n{done.stderr[-2000:]}")


def trial_balance(warehouse: Path) -> str:
    """``ledger sql`` over the warehouse: the trial balance, as a table."""
    done = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "sql", " ".join(TRIAL_BALANCE.split()),
         "--warehouse", str(warehouse)],
        capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise LedgerError(f"ledger sql failed:\n{done.stderr[-2000:]}")
    return done.stdout.rstrip()
