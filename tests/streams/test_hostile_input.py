"""Hostile input against a running processor on the real broker: each poison record gets a
typed answer, the processor never exits, and the next valid command on the same partition
posts. Each test reproduces an attack that stopped the ledger before it was contained.
"""

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger_core import Account, TranCode, tutorial
from ledger_core.catalog import CatalogKind
from schemas.codec import codec
from streams.audit_log import run_audit
from streams.catalog import catalog_key, catalog_value
from streams.client import LedgerClient, Result
from streams.partitioning import account_key, owner_partition
from streams.topics import Topics
from tests.oversized import BLOB, oversized_tran_code
from tests.streams.conftest import KafkaLedger

PARTITIONS = 3
ERNIE = tutorial.ERNIE.account_id
ERNIE_PARTITION = owner_partition(ERNIE, PARTITIONS)
HOUSE_EXPR = f"uuid('{tutorial.ASSETS.account_id}')"

# Copies a text param into the transaction's description.
MEMO = TranCode.model_validate({
    "tranCodeId": "b1000000-0000-4000-8000-000000000001", "code": "MEMO",
    "params": [{"name": "account", "type": "UUID"}, {"name": "memo", "type": "STRING"}],
    "transaction": {"description": "params.memo"},
    "entries": [
        {"accountId": HOUSE_EXPR, "units": "'1.00'", "currency": "'USD'", "direction": "DEBIT"},
        {"accountId": "params.account", "units": "'1.00'", "currency": "'USD'",
         "direction": "CREDIT"},
    ],
})
BIG = oversized_tran_code("BIG", HOUSE_EXPR)


class Hostile:
    """One processor and a client over the tutorial's catalog and the poison tran codes."""

    def __init__(self, ledger: KafkaLedger) -> None:
        self.ledger = ledger
        self.client: LedgerClient = ledger.client()
        for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES, MEMO, BIG):
            assert self.client.create(entity).ok, entity
        self.recovery: dict[str, float] = {}

    @property
    def topics(self) -> Topics:
        """The ledger's topics."""
        return self.ledger.topics

    def send_command(self, params_json: str, tran_code: str = "MEMO",
                     owner: uuid.UUID = ERNIE) -> Result:
        """A posting produced as raw bytes, as a producer that skips the client would."""
        command_id = str(uuid.uuid4())
        record = {"command_id": command_id, "kind": "POST",
                  "transaction_id": str(uuid.uuid4()), "tran_code": tran_code,
                  "tran_code_version": None, "params_json": params_json, "void_of": None,
                  "sent_at": datetime.now(UTC), "override_enforcement": None}
        self.client.send_raw(self.topics.commands, account_key(owner),
                             codec().encode("command", record),
                             owner_partition(owner, PARTITIONS))
        return self.client.wait([command_id])[command_id]

    def send_catalog(self, kind: CatalogKind, body_json: str) -> Result:
        """A catalog command whose body is JSON text the test wrote itself."""
        command_id = str(uuid.uuid4())
        record = {"command_id": command_id, "kind": kind.value, "body_json": body_json,
                  "sent_at": datetime.now(UTC)}
        self.client.send_raw(self.topics.catalog_commands, None,
                             codec().encode("catalog_command", record), 0)
        return self.client.wait([command_id])[command_id]

    def next_posting_posts(self, case: str, owner: uuid.UUID = ERNIE) -> None:
        """A valid posting on the poisoned partition posts; how long it took is kept."""
        started = time.monotonic()
        result = self.client.post(uuid.uuid4(), "ACH_CREDIT",
                                  {"account": str(owner), "amount": "1.00",
                                   "effective": "2026-12-01"}, owner=owner)
        self.recovery[case] = time.monotonic() - started
        assert result.status == "POSTED", result
        assert all(processor.alive for processor in self.ledger.processors)

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every dead letter, decoded."""
        return [codec().decode("dead_letter", m.value())
                for m in self.ledger.read(self.topics.dead_letters)]


@pytest.fixture(scope="module")
def hostile(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Hostile]:
    """A ledger under attack, with one processor."""
    ledger = KafkaLedger(kafka_bootstrap, Topics(f"h{uuid.uuid4().hex[:10]}", PARTITIONS),
                         tmp_path_factory.mktemp("hostile"))
    ledger.add_processor()
    hostile = Hostile(ledger)
    yield hostile
    figures = ", ".join(f"{case} {seconds * 1000:.0f} ms"
                        for case, seconds in sorted(hostile.recovery.items()))
    print(f"\nnext valid posting after each poison case: {figures}")
    report = run_audit(kafka_bootstrap, ledger.topics, PARTITIONS)
    ledger.close()
    assert report.violations == [], report.violations


def _account_body(**fields: str) -> str:
    body = {"accountId": str(uuid.uuid4()), "code": f"H.{uuid.uuid4().hex[:8]}",
            "name": "Hostile", **fields}
    return json.dumps(body)


def test_lone_surrogate_in_an_account_name_is_refused(hostile: Hostile) -> None:
    """Case 1: createAccount with "x\\ud800y" as its name is REJECTED, the desk goes on."""
    result = hostile.send_catalog(CatalogKind.CREATE_ACCOUNT, _account_body(name="x\ud800y"))
    assert result.status == "REJECTED"
    assert result.code == "text_not_valid_unicode"
    assert result.field == "name"
    fine = hostile.send_catalog(CatalogKind.CREATE_ACCOUNT, _account_body())
    assert fine.status == "APPLIED", fine
    hostile.next_posting_posts("surrogate name")


def test_lone_surrogate_in_a_param_copied_into_a_description_is_refused(
        hostile: Hostile) -> None:
    """Case 2: a STRING param with a lone surrogate, copied into the description."""
    params = json.dumps({"account": str(ERNIE), "memo": "x\ud800y"})
    assert "\\ud800" in params
    result = hostile.send_command(params)
    assert result.status == "REJECTED"
    assert result.code == "text_not_valid_unicode"
    hostile.next_posting_posts("surrogate param")


@pytest.mark.parametrize("units", ["(" * 200 + "1" + ")" * 200, "+".join(["1"] * 20_000)])
def test_cel_too_deep_or_too_long_is_refused_at_creation(hostile: Hostile, units: str) -> None:
    """Case 3: a tran code of 200 nested parentheses, or of 20,000 terms."""
    body = tutorial.ACH_CREDIT_INPUT | {"tranCodeId": str(uuid.uuid4()),
                                        "code": f"DEEP_{uuid.uuid4().hex[:6]}"}
    body["entries"] = [{**body["entries"][0], "units": units}, *body["entries"][1:]]
    result = hostile.send_catalog(CatalogKind.CREATE_TRAN_CODE, json.dumps(body))
    assert result.status == "REJECTED"
    assert result.code == "cel_expression_too_complex"
    assert len(result.value or "") <= 200
    hostile.next_posting_posts("deep CEL")


def test_a_long_param_is_refused_and_an_oversized_decision_is_record_too_large(
        hostile: Hostile) -> None:
    """Case 4: a 400,000-character param is refused at once; a posting within every bound
    whose records would still exceed max.message.bytes is REJECTED, never retried."""
    long_param = json.dumps({"account": str(ERNIE), "memo": "x" * 400_000})
    result = hostile.send_command(long_param)
    assert (result.status, result.code) == ("REJECTED", "text_too_long")
    result = hostile.send_command(json.dumps({"account": str(ERNIE), "blob": BLOB}), "BIG")
    assert result.status == "REJECTED"
    assert result.code == "record_too_large"
    assert "max.message.bytes" in (result.message or "")
    hostile.next_posting_posts("oversized posting")


@pytest.mark.parametrize("topic_name", ["legs", "catalog", "id_claims"])
def test_random_bytes_on_an_internal_topic_are_quarantined(
        hostile: Hostile, topic_name: str) -> None:
    """Case 5: 512 random bytes on legs, catalog or id-claims become a quarantine record; the
    processor survives them, also across a restart, which reads them again."""
    garbage = os.urandom(512)
    topic = getattr(hostile.topics, topic_name)
    partition = ERNIE_PARTITION if topic_name == "legs" else 0
    hostile.client.send_raw(topic, b"forged", garbage, partition)
    hostile.client.flush()
    hostile.next_posting_posts(f"random bytes on {topic_name}")
    if topic_name == "catalog":
        assert hostile.send_catalog(CatalogKind.CREATE_ACCOUNT, _account_body()).ok
    _quarantined(hostile, garbage)
    quarantined = [d for d in hostile.dead_letters() if d["value"] == garbage]
    assert {d["code"] for d in quarantined} == {"record_not_decodable"}
    assert quarantined[0]["topic"] == topic
    processor = hostile.ledger.processors[0]
    processor.stop()
    processor.start()
    hostile.next_posting_posts(f"random bytes on {topic_name}, restarted")


def test_a_catalog_record_read_at_start_up_is_quarantined(hostile: Hostile) -> None:
    """A bad catalog record written while the processor was down is read before the
    processor holds any partition, and still quarantined once it holds the catalog desk."""
    processor = hostile.ledger.processors[0]
    processor.stop()
    garbage = os.urandom(512)
    hostile.client.send_raw(hostile.topics.catalog, b"forged", garbage, 0)
    hostile.client.flush()
    processor.start()
    assert _quarantined(hostile, garbage)["code"] == "record_not_decodable"
    hostile.next_posting_posts("catalog record read at start-up")


def test_control_characters_in_codes_and_names_are_refused(hostile: Hostile) -> None:
    """Case 11: NUL, ESC and U+202E in account codes and names."""
    for field, text in (("name", "Ernie\x00"), ("name", "Ernie\x1b[2J"),
                        ("code", "EVIL\u202egnp.EXE"), ("name", "\u202eesrever")):
        result = hostile.send_catalog(CatalogKind.CREATE_ACCOUNT, _account_body(**{field: text}))
        assert result.status == "REJECTED", (field, text)
        assert result.code == "text_has_control_characters"
        assert result.field == field
        assert "\x00" not in (result.value or "") and "\u202e" not in (result.value or "")
    hostile.next_posting_posts("control characters")


def test_a_forged_leg_for_an_account_the_partition_does_not_own_is_quarantined(
        hostile: Hostile) -> None:
    """A decodable leg on the wrong partition would have been dropped silently: it is
    quarantined as leg_account_not_owned, and nothing moves."""
    before = hostile.client.balances(ERNIE)
    other = (ERNIE_PARTITION + 1) % PARTITIONS
    value = codec().encode("entry", _entry(ERNIE, "1000.00"))
    hostile.client.send_raw(hostile.topics.legs, account_key(ERNIE), value, other)
    hostile.client.flush()
    assert _quarantined(hostile, value)["code"] == "leg_account_not_owned"
    assert hostile.client.balances(ERNIE) == before
    hostile.next_posting_posts("leg on the wrong partition", owner=ERNIE)


def test_a_leg_the_fold_fails_on_is_contained(hostile: Hostile) -> None:
    """A leg whose amount the exact decimal context cannot fold (1e99999 rounds) raises
    while folding: the failure is contained to the leg, which is quarantined as
    processing_failed with nothing staged, and the partition goes on."""
    before = hostile.client.balances(ERNIE)
    value = codec().encode("entry", _entry(ERNIE, "1e99999"))
    hostile.client.send_raw(hostile.topics.legs, account_key(ERNIE), value, ERNIE_PARTITION)
    hostile.client.flush()
    letter = _quarantined(hostile, value)
    assert letter["code"] == "processing_failed"
    assert "Rounded" in letter["error"]
    assert hostile.client.balances(ERNIE) == before
    hostile.next_posting_posts("leg the fold fails on")


def _entry(account: uuid.UUID, units: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"entry_id": str(uuid.uuid4()), "transaction_id": str(uuid.uuid4()),
            "journal_id": str(tutorial.JOURNAL.journal_id), "account_id": str(account),
            "sequence": 1, "units": units, "currency": "USD", "direction": "CREDIT",
            "entry_type": "FORGED", "layer": "SETTLED", "description": None,
            "metadata_json": None, "effective": now.date(), "created": now}


def _quarantined(hostile: Hostile, value: bytes) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        letters = [d for d in hostile.dead_letters() if d["value"] == value]
        if letters:
            return letters[0]
        assert time.monotonic() < deadline, "no quarantine record"
        time.sleep(0.2)


def test_a_forged_catalog_record_that_is_not_a_valid_entity_is_quarantined(
        hostile: Hostile) -> None:
    """A catalog record that decodes but holds an account no desk would accept (a name with a
    lone surrogate cannot even be encoded; a code with a bidi override can) is skipped by
    every reader and quarantined as record_not_valid."""
    forged = Account.model_construct(
        account_id=uuid.uuid4(), code="FORGED\u202e", name="Forged", description="",
        normal_balance_type=tutorial.ERNIE.normal_balance_type, status=tutorial.ERNIE.status,
        metadata=None, external_id=None, config=tutorial.ERNIE.config)
    value = codec().encode("catalog_record", {"entity": catalog_value(forged),
                                              "command_id": "forged",
                                              "written_at": datetime.now(UTC)})
    key = codec().encode("catalog_key", catalog_key(forged))
    hostile.client.send_raw(hostile.topics.catalog, key, value, 0)
    hostile.client.flush()
    assert hostile.send_catalog(CatalogKind.CREATE_ACCOUNT, _account_body()).ok
    assert _quarantined(hostile, value)["code"] == "record_not_valid"
    hostile.next_posting_posts("invalid catalog record")


def _post(client: LedgerClient, transaction_id: uuid.UUID, owner: uuid.UUID) -> str:
    return client.send_post(transaction_id, "ACH_CREDIT",
                            {"account": str(owner), "amount": "2.00",
                             "effective": "2026-12-01"}, owner=owner)


def test_one_transaction_id_posts_once_whatever_its_owner(kafka_bootstrap: str,
                                                           tmp_path: Path) -> None:
    """Case 6: the same transactionId sent again with another owner account, on another
    partition, is a duplicate, with one processor (the registry decides in the same
    transaction) and with two (the registry of an id may live in the other process)."""
    ledger = KafkaLedger(kafka_bootstrap, Topics(f"i{uuid.uuid4().hex[:10]}", 4), tmp_path)
    try:
        ledger.add_processor()
        client = ledger.client()
        customers = _customers(client, 4)
        _each_id_posts_once(client, customers, rounds=8)
        ledger.add_processor()
        for processor in ledger.processors:
            processor.wait_assigned()
        _each_id_posts_once(client, customers, rounds=24)
        claims = ledger.read(ledger.topics.id_claims)
        assert claims, "no claim crossed between the two processes"
        report = run_audit(kafka_bootstrap, ledger.topics, 4)
        assert report.violations == [], report.violations
    finally:
        ledger.close()


def test_poison_behind_a_command_waiting_for_the_registry_is_answered_once(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    """Commands read after one that waits for a registry in another process are read again
    once it answers: poison among them gets its answer once, not once per reading."""
    ledger = KafkaLedger(kafka_bootstrap, Topics(f"w{uuid.uuid4().hex[:10]}", 4), tmp_path)
    try:
        ledger.add_processor()
        client = ledger.client()
        customers = _customers(client, 4)
        ledger.add_processor()
        for processor in ledger.processors:
            processor.wait_assigned()
        answers: list[str] = []
        for owner in customers.values():
            for registry in range(4):
                transaction_id = _id_on_registry(registry, 4)
                answers.append(_post(client, transaction_id, owner))
                client.send_raw(client.topics.commands, account_key(owner), os.urandom(64),
                                owner_partition(owner, 4))
                answers.append(_raw_surrogate_posting(client, owner))
        client.wait(answers)
        client.wait_converged(60)
        for processor in ledger.processors:
            processor.stop()
        report = run_audit(kafka_bootstrap, ledger.topics, 4)
        assert report.violations == [], report.violations
    finally:
        ledger.close()


def _id_on_registry(partition: int, partitions: int) -> uuid.UUID:
    while True:
        transaction_id = uuid.uuid4()
        if transaction_id.int % partitions == partition:
            return transaction_id


def _raw_surrogate_posting(client: LedgerClient, owner: uuid.UUID) -> str:
    command_id = str(uuid.uuid4())
    record = {"command_id": command_id, "kind": "POST", "transaction_id": str(uuid.uuid4()),
              "tran_code": "ACH_CREDIT", "tran_code_version": None,
              "params_json": json.dumps({"account": str(owner), "memo": "x\ud800"}),
              "void_of": None, "sent_at": datetime.now(UTC), "override_enforcement": None}
    client.send_raw(client.topics.commands, account_key(owner),
                    codec().encode("command", record), owner_partition(owner, 4))
    return command_id


def _customers(client: LedgerClient, partitions: int) -> dict[int, uuid.UUID]:
    for entity in (tutorial.JOURNAL, tutorial.ASSETS, *tutorial.TRAN_CODES):
        assert client.create(entity).ok
    customers: dict[int, uuid.UUID] = {}
    while len(customers) < partitions:
        account = Account(account_id=uuid.uuid4(), code=f"C.{uuid.uuid4().hex[:8]}",
                          name="Customer")
        partition = owner_partition(account.account_id, partitions)
        if partition not in customers:
            assert client.create(account).ok
            customers[partition] = account.account_id
    return customers


def _each_id_posts_once(client: LedgerClient, customers: dict[int, uuid.UUID],
                        rounds: int) -> None:
    """Each id is sent with every owner at once: exactly one of its commands posts, whichever
    partition gets there first, and every other one is a duplicate."""
    sent: dict[uuid.UUID, list[str]] = {}
    for _ in range(rounds):
        transaction_id = uuid.uuid4()
        sent[transaction_id] = [_post(client, transaction_id, owner)
                                for owner in customers.values()]
    results = client.wait([c for command_ids in sent.values() for c in command_ids])
    for command_ids in sent.values():
        answers = sorted((results[c].status, results[c].code or "") for c in command_ids)
        assert answers == [("POSTED", ""), *[("REJECTED", "transaction_id_duplicate")]
                           * (len(command_ids) - 1)], answers
