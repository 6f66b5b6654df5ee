"""Cards on the real log: created and locked through the client and `ledger card`, read back
by the catalog reader by PAN hash and token, and no PAN on any topic or in any output."""

import json
import os
import subprocess
import sys
import uuid

from ledger_core import Account, Card, Status
from ledger_core.cards import card_from_pan, pan_hash
from ledger_core.catalog import CatalogKind
from streams.card_keys import PAN_KEY_VARIABLE
from streams.catalog import CatalogReader
from tests.streams.conftest import KafkaLedger

KEY = b"the card program's key, 32 bytes+"
PAN = "4111111111111111"
CLI_PAN = "5555555555554444"


def _account() -> Account:
    return Account(account_id=uuid.uuid4(), code=f"CARDHOLDER.{uuid.uuid4().hex[:8]}",
                   name="Cardholder")


def _secrets_in(ledger: KafkaLedger, secrets: list[bytes]) -> list[str]:
    """The positions of records, on every topic a card passes through, holding a secret."""
    found = []
    for topic in (ledger.topics.catalog, ledger.topics.catalog_commands, ledger.topics.results,
                  ledger.topics.dead_letters):
        for message in ledger.read(topic):
            record = (message.key() or b"") + (message.value() or b"")
            found += [f"{topic}@{message.offset()}" for s in secrets if s in record]
    return found


def test_a_card_is_created_found_by_hash_and_token_and_locked(
    kafka_ledger: KafkaLedger,
) -> None:
    """Through LedgerClient: the card reaches the catalog, the reader finds it by the PAN's
    hash and by its token, a lock shows, a second card with the PAN is refused naming the
    first, no record holds the PAN, and the audit matches the card records to their
    results."""
    kafka_ledger.add_processor()
    client = kafka_ledger.client()
    account = _account()
    assert client.create(account).ok
    card = card_from_pan(uuid.uuid4(), account.account_id, PAN, KEY, "tok_lithic_1")
    assert isinstance(card, Card)
    created = client.create(card)
    assert (created.status, created.entity) == (
        "APPLIED", card.model_dump(mode="json", by_alias=True))

    reader = CatalogReader(kafka_ledger.bootstrap, kafka_ledger.topics.catalog)
    try:
        reader.catch_up()
        assert reader.table.card_by_pan_hash(pan_hash(PAN, KEY)) == card
        assert reader.table.card_by_token("tok_lithic_1") == card

        locked = client.catalog(CatalogKind.UPDATE_CARD,
                                {"cardId": str(card.card_id), "status": "LOCKED"})
        assert locked.status == "APPLIED", locked
        reader.catch_up()
        found = reader.table.card_by_pan_hash(pan_hash(PAN, KEY))
        assert found is not None
        assert (found.card_id, found.status) == (card.card_id, Status.LOCKED)
        assert reader.quarantined == []
    finally:
        reader.close()

    again = card_from_pan(uuid.uuid4(), account.account_id, PAN, KEY)
    assert isinstance(again, Card)
    refused = client.create(again)
    assert (refused.status, refused.code) == ("REJECTED", "card_pan_duplicate")
    assert f"card {card.card_id} (last four 1111)" in (refused.message or "")
    assert card.pan_hash not in json.dumps(refused.to_json())
    assert _secrets_in(kafka_ledger, [PAN.encode()]) == []

    audit = _ledger(kafka_ledger, "audit", "--json")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    report = json.loads(audit.stdout)
    assert (report["violations"], report["catalogRecords"]) == ([], 3)


def _ledger(ledger: KafkaLedger, *args: str, stdin: str = "",
            key: str = KEY.decode()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger_cli", *args, "--bootstrap-servers", ledger.bootstrap,
         "--topic-prefix", ledger.topics.prefix],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, PAN_KEY_VARIABLE: key})


def test_ledger_card_create_update_and_list_never_show_the_pan_or_its_hash(
    kafka_ledger: KafkaLedger,
) -> None:
    """`ledger card create --pan-stdin`, `update --status LOCKED` and `list`: the card is
    written under the environment's key, listed with its last four, and neither the PAN nor
    its hash appears in any output or record; a short key is refused before anything."""
    kafka_ledger.add_processor()
    account = _account()
    assert kafka_ledger.client().create(account).ok
    short = _ledger(kafka_ledger, "card", "create", "--account", str(account.account_id),
                    "--pan-stdin", stdin=CLI_PAN + "\n", key="too short")
    assert (short.returncode, short.stdout) == (1, "")
    assert f"{PAN_KEY_VARIABLE} holds 9 bytes" in short.stderr

    created = _ledger(kafka_ledger, "card", "create", "--account", str(account.account_id),
                      "--pan-stdin", "--card-token", "tok_cli", "--json",
                      stdin=CLI_PAN + "\n")
    assert created.returncode == 0, created.stderr
    card_id = json.loads(created.stdout)["entity"]["cardId"]
    locked = _ledger(kafka_ledger, "card", "update", "--card-id", card_id, "--status", "LOCKED")
    assert locked.returncode == 0, locked.stderr
    assert f"APPLIED card {card_id}" in locked.stdout
    assert "LOCKED" in locked.stdout
    listed = _ledger(kafka_ledger, "card", "list", "--json")
    assert json.loads(listed.stdout) == {"cards": [{
        "cardId": card_id, "accountId": str(account.account_id), "lastFour": "4444",
        "cardToken": "tok_cli", "status": "LOCKED", "metadata": None}]}
    table = _ledger(kafka_ledger, "card", "list")
    assert card_id in table.stdout

    reader = CatalogReader(kafka_ledger.bootstrap, kafka_ledger.topics.catalog)
    try:
        reader.catch_up()
        assert reader.table.card_by_pan_hash(pan_hash(CLI_PAN, KEY)) == reader.table.card(
            uuid.UUID(card_id))
    finally:
        reader.close()
    secret = pan_hash(CLI_PAN, KEY)
    for run in (short, created, locked, listed, table):
        assert CLI_PAN not in run.stdout + run.stderr
        assert secret not in run.stdout + run.stderr
    assert _secrets_in(kafka_ledger, [CLI_PAN.encode()]) == []
