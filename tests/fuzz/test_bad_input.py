"""Bad input fuzzed against a running processor: every input is answered, nothing stalls,
and balances move only as the pure core says valid postings move them.

Each example sends a few hostile inputs to one partition, then a valid sentinel posting
that must be POSTED: the partition kept moving. A mirror ledger (the pure core, fed the same
decodable commands in the same order) must reach the same decision for every command and
the same balances.
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_core import (
    Account,
    Layer,
    MemoryLedger,
    Posted,
    Rejected,
    Status,
    VelocityLimit,
    apply,
    parse_command,
    tutorial,
)
from schemas import mapping
from schemas.codec import DecodeError, codec
from streams.audit_log import run_audit
from streams.client import LedgerClient
from streams.partitioning import account_key, owner_partition
from streams.topics import Topics
from tests.core.test_rejections import BROKEN_CEL, TYPED
from tests.streams.conftest import KafkaLedger

PARTITIONS = 3
FUZZ = Account(account_id=uuid.UUID("f0220000-0000-4000-8000-000000000001"), code="FUZZ",
               name="Fuzzed customer")
LOCKED = Account(account_id=uuid.UUID("f0220000-0000-4000-8000-000000000002"),
                 code="FUZZ.LOCKED", name="Locked", status=Status.LOCKED)
PARTITION = owner_partition(FUZZ.account_id, PARTITIONS)
CATALOG = (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES, TYPED, BROKEN_CEL,
           FUZZ, LOCKED, VelocityLimit.no_overdraft(FUZZ.account_id, layer=Layer.SETTLED))


class Fuzzing:
    """The running ledger, its client, and the mirror the results are checked against."""

    def __init__(self, ledger: KafkaLedger) -> None:
        self.ledger = ledger
        self.client: LedgerClient = ledger.client()
        self.mirror = MemoryLedger()
        self.used_ids: list[uuid.UUID] = []
        for entity in CATALOG:
            assert self.client.create(entity).ok, entity
            _install(self.mirror, entity)


def _install(mirror: MemoryLedger, entity: Any) -> None:
    adders = {"Journal": mirror.add_journal, "Account": mirror.add_account,
              "TranCode": mirror.add_tran_code, "VelocityLimit": mirror.add_limit}
    adders[type(entity).__name__](entity)


@pytest.fixture(scope="module")
def fuzzing(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Fuzzing]:
    """A ledger with a processor, the fuzz accounts and the mirror."""
    ledger = KafkaLedger(kafka_bootstrap, Topics(f"f{uuid.uuid4().hex[:10]}", PARTITIONS),
                         tmp_path_factory.mktemp("fuzz"))
    ledger.add_processor()
    yield Fuzzing(ledger)
    ledger.close()


AMOUNTS = st.one_of(
    st.sampled_from(["0", "0.00", "-5.00", "1.001", "1e30", "NaN", "Infinity", "-0", " 5.00",
                     "5,00", "", "99999999999999999999999999.99", "0.01", "1E+2", "12.50"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
)
CURRENCIES = st.one_of(st.sampled_from(["USD", "usd", "XXX", "JPY", "BHD", "", "€", "US"]),
                       st.text(max_size=4))
ACCOUNTS = st.sampled_from([str(FUZZ.account_id), str(LOCKED.account_id), str(uuid.uuid4()),
                            "not-a-uuid", ""])


@st.composite
def hostile(draw: st.DrawFn) -> tuple[str, Any]:
    """One hostile input: raw bytes, or a posting command with hostile params."""
    kind = draw(st.sampled_from(["bytes", "other-schema", "params", "typed", "cel",
                                 "duplicate", "json"]))
    if kind == "bytes":
        return kind, draw(st.binary(max_size=300))
    if kind == "other-schema":
        entry = {"entry_id": "e", "transaction_id": "t", "journal_id": "j",
                 "account_id": draw(ACCOUNTS), "sequence": 1, "units": draw(AMOUNTS),
                 "currency": "USD", "direction": "DEBIT", "entry_type": "X",
                 "layer": "SETTLED", "effective": datetime(2026, 1, 1).date(),
                 "created": datetime.now(UTC)}
        return kind, codec().encode("entry", entry)
    if kind == "params":
        params = draw(st.dictionaries(st.sampled_from(["account", "amount", "effective",
                                                       "extra", "amuont"]),
                                      st.one_of(ACCOUNTS, AMOUNTS, st.none(), st.integers()),
                                      max_size=5))
        return kind, ("ACH_CREDIT", params)
    if kind == "typed":
        return kind, ("TYPED", {"account": draw(ACCOUNTS), "amount": draw(AMOUNTS),
                                "currency": draw(CURRENCIES),
                                "debitAccount": str(FUZZ.account_id)})
    if kind == "cel":
        return kind, ("BROKEN_CEL", {"amount": draw(AMOUNTS)})
    if kind == "json":
        return kind, ("TYPED", {"account": str(FUZZ.account_id), "amount": "1.00",
                                "count": draw(st.lists(st.integers(), max_size=5))})
    return kind, ("DEPOSIT?", {})


def _send(fuzzing: Fuzzing, kind: str, payload: Any) -> tuple[str | None, dict[str, Any] | None]:
    """Send one input; return (command id, decoded command record) or (None, None)."""
    client = fuzzing.client
    if kind in ("bytes", "other-schema"):
        client.send_raw(client.topics.commands, account_key(FUZZ.account_id), payload,
                        PARTITION)
        try:
            record = codec().decode("command", payload)
        except DecodeError:
            return None, None
        return record["command_id"], record
    if kind == "duplicate" and fuzzing.used_ids:
        transaction_id = fuzzing.used_ids[-1]
        tran_code, params = "TYPED", {"account": str(FUZZ.account_id), "amount": "1.00"}
    else:
        transaction_id = uuid.uuid4()
        tran_code, params = payload
    fuzzing.used_ids.append(transaction_id)
    clean = {k: v for k, v in params.items() if v is not None}
    command_id = client.send_post(transaction_id, tran_code, clean, FUZZ.account_id)
    record = mapping.command_record(parse_command(
        {"transaction_id": str(transaction_id), "tran_code": tran_code, "params": clean}),
        command_id, datetime.now(UTC))  # type: ignore[arg-type]
    return command_id, record


def _mirror(fuzzing: Fuzzing, record: dict[str, Any]) -> tuple[str, str | None]:
    command = parse_command(mapping.command_payload(record))
    if isinstance(command, Rejected):
        return "REJECTED", command.code.value
    decision = apply(fuzzing.mirror, command, datetime.now(UTC))
    if isinstance(decision, Posted):
        fuzzing.mirror.commit(decision)
        return "POSTED", None
    return "REJECTED", decision.code.value


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(inputs=st.lists(hostile(), min_size=1, max_size=6))
def test_hostile_input_is_answered_and_never_stalls_or_moves_money(
    fuzzing: Fuzzing, inputs: list[tuple[str, Any]]
) -> None:
    """Each input gets its result (or a dead letter) and the sentinel behind them posts."""
    expected: dict[str, tuple[str, str | None]] = {}
    for kind, payload in inputs:
        command_id, record = _send(fuzzing, kind, payload)
        if record is not None and command_id is not None:
            expected[command_id] = _mirror(fuzzing, record)
    sentinel = uuid.uuid4()
    deposit = {"account": str(FUZZ.account_id), "amount": "1.00", "effective": "2026-11-22"}
    sentinel_id = fuzzing.client.send_post(sentinel, "ACH_CREDIT", deposit, FUZZ.account_id)
    expected[sentinel_id] = _mirror(fuzzing, mapping.command_record(
        parse_command({"transaction_id": str(sentinel), "tran_code": "ACH_CREDIT",
                       "params": deposit}), sentinel_id, datetime.now(UTC)))  # type: ignore[arg-type]

    results = fuzzing.client.wait(expected, timeout_s=60)

    assert results[sentinel_id].status == "POSTED"
    assert {c: (r.status, r.code) for c, r in results.items()} == expected
    [balance] = fuzzing.client.balances(FUZZ.account_id)
    mirrored = fuzzing.mirror.balances[(FUZZ.account_id, balance.journal_id, "USD")]
    assert (balance.settled, balance.version) == (mirrored.settled, mirrored.version)


def test_the_fuzzed_log_audits_clean(fuzzing: Fuzzing) -> None:
    """After the fuzzing, every input has exactly one answer and the log proves itself."""
    _send(fuzzing, "bytes", b"\x4c\x00\x01 truncated")
    posted = fuzzing.client.post(uuid.uuid4(), "TYPED", {"account": str(FUZZ.account_id),
                                                         "amount": "2.00"}, FUZZ.account_id)
    assert posted.status == "POSTED"
    fuzzing.client.wait_converged(60)
    report = run_audit(fuzzing.ledger.bootstrap, fuzzing.ledger.topics, PARTITIONS)
    assert report.violations == []
    assert report.entries > 0
    letters = fuzzing.ledger.read(fuzzing.ledger.topics.dead_letters)
    assert letters, "no hostile bytes reached the dead-letter topic"
