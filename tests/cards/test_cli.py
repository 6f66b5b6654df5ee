"""``ledger cards setup|iso8583 serve|lithic serve`` as an operator runs them, on the real
broker: each server logs where it listens, answers there, and exits 0 on SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx

from ledger_core import Card
from ledger_core.catalog import CatalogKind
from tests.cards.conftest import CardProgram
from tests.cards.test_lithic import asa, signed_headers

START_TIMEOUT_S = 60.0
KEY = b"a Lithic ASA signing key of 32 b"


def _ledger(cards: CardProgram, *args: str, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    ledger = cards.ledger
    return subprocess.run(
        [sys.executable, "-m", "ledger_cli", *args, "--bootstrap-servers", ledger.bootstrap,
         "--topic-prefix", ledger.topics.prefix], capture_output=True, text=True, timeout=120,
        env=env, check=False)


def _serving(cards: CardProgram, log_file: Path, ready: str, *args: str,
             env: dict[str, str] | None = None) -> Iterator[re.Match[str]]:
    ledger = cards.ledger
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger_cli", *args, "--port", "0", "--bootstrap-servers",
             ledger.bootstrap, "--topic-prefix", ledger.topics.prefix],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (found := re.search(ready, log_file.read_text())):
            assert process.poll() is None, log_file.read_text()
            assert time.monotonic() < deadline, log_file.read_text()
            time.sleep(0.1)
        yield found
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log_file.read_text()


def test_cards_setup_repeats_cleanly(cards: CardProgram) -> None:
    """Setup creates the settlement account and the card tran codes; a second run finds them
    exactly as written and succeeds again."""
    for _ in range(2):
        done = _ledger(cards, "--json", "cards", "setup")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["tranCodes"] == ["CARD_HOLD", "CARD_RELEASE",
                                                        "CARD_SETTLE"]


def test_lithic_serve_answers_a_signed_request(cards: CardProgram, tmp_path: Path) -> None:
    """The endpoint verifies Lithic's signature and books through the ledger."""
    account, _pan, card = cards.cardholder(Decimal("10.00"))
    token = f"card-{uuid.uuid4()}"
    updated = cards.ledger.clients[0].catalog(CatalogKind.UPDATE_CARD,
                                              {"cardId": str(card.card_id), "cardToken": token})
    assert updated.ok and isinstance(Card.model_validate(updated.entity), Card)
    secret = tmp_path / "asa-secret"
    secret.write_text("whsec_" + base64.b64encode(KEY).decode())
    serving = _serving(cards, tmp_path / "lithic.log", r"serving Lithic ASA at (http://\S+)",
                       "cards", "lithic", "serve", "--secret-file", str(secret))
    url = next(serving).group(1)
    try:
        body = json.dumps(asa(token=str(uuid.uuid4()), card={"token": token}, amount=400,
                              amounts={"cardholder": {"amount": 400, "currency": "USD"}})
                          ).encode()
        answered = httpx.post(url, content=body, headers=signed_headers(body, KEY), timeout=30)
        forged = httpx.post(url, content=body, headers=signed_headers(body, b"x" * 32),
                            timeout=30)
    finally:
        next(serving, None)
    assert answered.status_code == 200 and answered.json()["result"] == "APPROVED"
    assert forged.status_code == 401
    assert cards.available(account) == Decimal("6.00")


def test_iso8583_serve_refuses_an_unknown_configuration(cards: CardProgram) -> None:
    """--config-id naming no configuration: one clear line and exit status 1."""
    missing = str(uuid.uuid4())
    done = _ledger(cards, "cards", "iso8583", "serve", "--port", "0", "--config-id", missing,
                   env={**os.environ, "LEDGER_CARD_PAN_KEY": "k" * 32})
    assert done.returncode == 1, done.stderr
    assert f"no ISO 8583 configuration {missing}" in done.stderr
    assert "Traceback" not in done.stderr
