"""The Avro contracts: every record round-trips, old versions still decode, bad bytes fail."""

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import fastavro.utils
import pytest

from ledger_core import (
    Card,
    ControlAttachment,
    ControlLimit,
    Iso8583Config,
    MemoryLedger,
    Posted,
    PostedTransaction,
    Rejected,
    VelocityControl,
    tutorial,
)
from ledger_core.cards import card_from_pan
from schemas import mapping
from schemas.codec import DecodeError, codec
from streams.audit_log import entity_of
from streams.catalog import catalog_value, entity_from
from streams.partitioning import murmur2

SCHEMA_DIR = Path(mapping.__file__).parent
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _posted() -> Posted:
    ledger = MemoryLedger()
    tutorial.install(ledger)
    decision = ledger.post(tutorial.DEPOSIT, NOW)
    assert isinstance(decision, Posted)
    return decision


def test_every_schema_file_parses_and_is_versioned() -> None:
    """Each .avsc file is valid Avro named <name>.v<N>.avsc, and every name starts at v1."""
    files = sorted(SCHEMA_DIR.glob("*.avsc"))
    assert files
    for name in codec().names:
        assert codec().versions(name)[0] == 1
    for path in files:
        assert ".v" in path.name
        json.loads(path.read_text())


def test_ledger_records_round_trip_through_the_codec() -> None:
    """Transactions, entries and balances decode to the models they were encoded from."""
    decision = _posted()
    posted = PostedTransaction(transaction=decision.transaction, entries=decision.entries)
    back = mapping.posted_from(codec().decode(
        "transaction", codec().encode("transaction", mapping.transaction_record(posted))))
    assert back == posted
    for entry in decision.entries:
        data = codec().encode("entry", mapping.entry_record(entry))
        assert mapping.entry_from(codec().decode("entry", data)) == entry
    for balance in decision.balances:
        data = codec().encode("balance", mapping.balance_record(balance))
        assert mapping.balance_from(codec().decode("balance", data)) == balance


def test_catalog_entities_round_trip() -> None:
    """Journals, accounts and tran codes survive the catalog record's union."""
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
        data = codec().encode("catalog_record", {"entity": catalog_value(entity),
                                                 "command_id": "c", "written_at": NOW})
        assert entity_from(codec().decode("catalog_record", data)) == entity


def test_velocity_controls_round_trip() -> None:
    """A velocity limit (its CEL bounds and params as JSON), a control and an attachment
    survive the v7 catalog record; the audit reads each back from its APPLIED JSON."""
    limit = ControlLimit.model_validate({
        "velocityLimitId": str(uuid4()), "name": "daily", "currency": "USD",
        "params": [{"name": "amount", "type": "DECIMAL", "default": "decimal('5.00')"}],
        "balance": [{"layer": "SETTLED", "amount": "params.amount",
                     "normalBalanceType": "DEBIT"}]})
    control = VelocityControl.model_validate({
        "velocityControlId": str(uuid4()), "name": "spend", "enforcement": "WARN",
        "condition": "true", "velocityLimitIds": [str(limit.velocity_limit_id)]})
    attachment = ControlAttachment.model_validate({
        "velocityControlId": str(control.velocity_control_id),
        "accountId": str(tutorial.ERNIE.account_id), "params": {"amount": "1.50"}})
    for entity in (limit, control, attachment):
        data = codec().encode("catalog_record", {"entity": catalog_value(entity),
                                                 "command_id": "c", "written_at": NOW})
        assert entity_from(codec().decode("catalog_record", data)) == entity
        assert entity_of(entity.model_dump_json(by_alias=True)) == entity


def test_a_card_round_trips_and_catalog_records_written_before_cards_still_read() -> None:
    """A card survives the v2 catalog record; an account written with v1 (before the Card
    branch) and a v1 catalog command decode to what they were."""
    card = card_from_pan(tutorial.ERNIE.account_id, tutorial.ERNIE.account_id,
                         "4111111111111111", bytes(32), "tok_1")
    assert isinstance(card, Card)
    card = card.model_copy(update={"metadata": {"program": "debit"}})
    data = codec().encode("catalog_record", {"entity": catalog_value(card), "command_id": "c",
                                             "written_at": NOW})
    assert entity_from(codec().decode("catalog_record", data)) == card
    old = codec().encode("catalog_record", {"entity": catalog_value(tutorial.ERNIE),
                                            "command_id": "c", "written_at": NOW}, version=1)
    assert entity_from(codec().decode("catalog_record", old)) == tutorial.ERNIE
    command = {"command_id": "c", "kind": "CREATE_LIMIT", "body_json": "{}", "sent_at": NOW}
    assert codec().decode("catalog_command", codec().encode("catalog_command", command,
                                                            version=1)) == command


def test_an_iso8583_config_round_trips_and_v2_catalog_records_still_read() -> None:
    """A config survives the v3 catalog record; a card written with v2 and a v2 catalog
    command decode to what they were."""
    config = Iso8583Config.model_validate({
        "configId": str(tutorial.JOURNAL.journal_id), "journalId": str(tutorial.JOURNAL.journal_id),
        "settlementAccountId": str(tutorial.ERNIE.account_id), "timeZone": "America/Chicago",
        "processor": "I2C", "description": "Program A", "processorSpec": {"variant": "binary"},
        "version": 3, "status": "LOCKED"})
    data = codec().encode("catalog_record", {"entity": catalog_value(config), "command_id": "c",
                                             "written_at": NOW})
    assert entity_from(codec().decode("catalog_record", data)) == config
    card = card_from_pan(tutorial.ERNIE.account_id, tutorial.ERNIE.account_id,
                         "4111111111111111", bytes(32))
    assert isinstance(card, Card)
    old = codec().encode("catalog_record", {"entity": catalog_value(card), "command_id": "c",
                                            "written_at": NOW}, version=2)
    assert entity_from(codec().decode("catalog_record", old)) == card
    command = {"command_id": "c", "kind": "UPDATE_CARD", "body_json": "{}", "sent_at": NOW}
    assert codec().decode("catalog_command", codec().encode("catalog_command", command,
                                                            version=2)) == command


@pytest.mark.parametrize("name", [n for n in codec().names if len(codec().versions(n)) > 1])
def test_records_of_every_older_version_decode_with_the_newest(name: str) -> None:
    """A record written with an older schema decodes, new fields taking their defaults."""
    newest = codec().latest(name)
    for version in codec().versions(name)[:-1]:
        writer = codec().schema(version=version, name=name)
        sample = fastavro.utils.generate_one(writer)
        data = codec().encode(name, sample, version=version)
        decoded = codec().decode(name, data)
        reader_fields = {f["name"] for f in codec().schema(name, newest)["fields"]}
        writer_fields = {f["name"] for f in writer["fields"]}
        assert set(decoded) == reader_fields
        for field in reader_fields - writer_fields:
            default = next(f for f in codec().schema(name, newest)["fields"]
                           if f["name"] == field)["default"]
            assert decoded[field] == default


def test_a_v1_command_is_read_as_the_current_command() -> None:
    """A posting written before override_enforcement existed decodes with it unset."""
    record = mapping.command_record(tutorial.DEPOSIT, "cmd-1", NOW)
    del record["override_enforcement"]
    decoded = codec().decode("command", codec().encode("command", record, version=1))
    assert decoded["override_enforcement"] is None
    assert mapping.command_payload(decoded)["transaction_id"] == str(
        tutorial.DEPOSIT.transaction_id)


@pytest.mark.parametrize("data, reason", [
    (b"", "0 bytes"),
    (b"\x00\x00\x01rest", "first byte"),
    (b"\x4c\x00\x63\x00", "no schema version 99"),
    (b"\x4c\x00\x01\x02", "undecodable"),
])
def test_bad_frames_are_decode_errors(data: bytes, reason: str) -> None:
    """Bytes that are not a framed record of the schema raise DecodeError naming why."""
    with pytest.raises(DecodeError, match=reason):
        codec().decode("entry", data)


def test_murmur2_matches_kafkas_default_partitioner() -> None:
    """The partitioner hash agrees with Kafka's own test vectors."""
    vectors = {b"21": -973932308, b"foobar": -790332482,
               b"a-little-bit-long-string": -985981536,
               b"a-little-bit-longer-string": -1486304829,
               b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
               b"": 275646681}
    assert {key: murmur2(key) for key in vectors} == vectors


def test_json_numbers_read_back_as_the_same_decimals() -> None:
    """Metadata and params keep their numbers as numbers through a record: a Decimal is
    written as its exact JSON number and read back as the same Decimal, never a string."""
    value = {"fee": Decimal("1.50"), "limits": [Decimal("-2E+3"), Decimal("0.000001")],
             "label": "1.50", "count": 3}
    text = mapping.dump_json(value)
    assert text == '{"fee":1.50,"limits":[-2E+3,0.000001],"label":"1.50","count":3}'
    assert mapping.load_json(text) == value
    assert isinstance(mapping.load_json(text)["label"], str)


@pytest.mark.parametrize("params_json, code", [
    ("{not json", "command_invalid"),
    ("[" * 5000 + "]" * 5000, "json_too_deep"),
])
def test_params_that_cannot_be_read_are_refused(params_json: str, code: str) -> None:
    """A command record whose params are not JSON, or nest too deep to read, is a typed
    rejection, not an exception."""
    record = {**mapping.command_record(tutorial.DEPOSIT, "cmd-1", NOW),
              "params_json": params_json}
    refused = mapping.command_from(record)
    assert isinstance(refused, Rejected)
    assert refused.code == code
    assert refused.transaction_id == tutorial.DEPOSIT.transaction_id


@pytest.mark.parametrize("name", codec().names)
def test_the_compiled_writer_writes_fastavros_bytes(name: str) -> None:
    """Every schema's compiled writer produces exactly what fastavro's interpreter writes,
    over random records of the schema (unions, arrays, maps and logical types included)."""
    version = codec().latest(name)
    schema = codec().schema(name, version)
    for sample in fastavro.utils.generate_many(schema, 200):
        expected = io.BytesIO()
        fastavro.schemaless_writer(expected, schema, sample)
        assert codec().body(codec().encode(name, _named_branches(schema, sample))) == (
            expected.getvalue()), sample


def _named_branches(schema: Any, value: Any) -> Any:
    """``value`` with each record of a union of records named, as the ledger names them
    (``-type``): fastavro's generator leaves them to be recognised by their fields."""
    if not isinstance(value, dict) or schema.get("type") != "record":
        return value
    named = schema.get("__named_schemas", {})
    out = dict(value)
    for field in schema["fields"]:
        branches = field["type"] if isinstance(field["type"], list) else []
        resolved = [named.get(b, b) if isinstance(b, str) else b for b in branches]
        records = [r for r in resolved if isinstance(r, dict) and r.get("type") == "record"]
        child = out.get(field["name"])
        if isinstance(child, dict) and len(records) > 1:
            branch = next(r for r in records if {f["name"] for f in r["fields"]} == set(child))
            out[field["name"]] = {"-type": branch["name"], **child}
    return out


def test_a_transaction_embeds_its_entries_bytes_as_written() -> None:
    """The transaction record carries each entry as the bytes the entries topic got: the
    same record as if the entries had been encoded inside it, and it decodes the same."""
    ledger = MemoryLedger()
    tutorial.install(ledger)
    posted = ledger.post(tutorial.DEPOSIT, NOW)
    assert isinstance(posted, Posted)
    records = [mapping.entry_record(entry) for entry in posted.entries]
    bodies = [codec().body(codec().encode("entry", record)) for record in records]
    whole = PostedTransaction(transaction=posted.transaction, entries=posted.entries)
    embedded = codec().encode("transaction", mapping.transaction_record(whole, bodies))
    assert embedded == codec().encode("transaction", mapping.transaction_record(whole, records))
    assert mapping.posted_from(codec().decode("transaction", embedded)) == whole
