"""Every rejection code reaches the results topic through Kafka, and bad bytes never stall.

One ledger serves the whole module: a processor, the tutorial's catalog plus tran codes and
accounts built to break one rule each. Each case sends one command and checks the code and
that the message names the offending value.
"""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ledger_core import Account, Layer, Status, TranCode, VelocityLimit, tutorial
from ledger_core.catalog import CatalogKind, catalog_input_refusal
from schemas import mapping
from schemas.codec import codec
from streams.client import LedgerClient, Result
from streams.partitioning import account_key, owner_partition
from streams.topics import Topics
from tests.core.test_rejections import (
    BROKEN_CEL,
    LOCKED_CODE,
    MISSING_ACCOUNT,
    NOTHING_WRITTEN,
    OTHER_JOURNAL,
    TYPED,
)
from tests.streams.conftest import KafkaLedger

PARTITIONS = 4
ERNIE = tutorial.ERNIE.account_id


def _account_on(partition: int, same: bool, code: str) -> Account:
    """A credit-normal account whose owner partition is (or is not) ``partition``."""
    while True:
        candidate = uuid.uuid4()
        if (owner_partition(candidate, PARTITIONS) == partition) == same:
            return Account(account_id=candidate, code=code, name=code)


ERNIE_PARTITION = owner_partition(ERNIE, PARTITIONS)
REMOTE_LIMITED = _account_on(ERNIE_PARTITION, same=False, code="REMOTE.LIMITED")
LOCAL_LIMITED = _account_on(ERNIE_PARTITION, same=True, code="LOCAL.LIMITED")
LOCKED = Account(account_id=uuid.uuid4(), code="LOCKED.ACCOUNT", name="Locked",
                 status=Status.LOCKED)


# Debits two accounts at once: with both limited and on two partitions, no single partition
# can check both limits atomically, so the posting is refused.
TWO_DEBITS = TranCode.model_validate({
    "tranCodeId": "a1000000-0000-4000-8000-0000000000d2", "code": "TWO_DEBITS",
    "params": [{"name": "first", "type": "UUID"}, {"name": "second", "type": "UUID"}],
    "entries": [
        {"accountId": "params.first", "units": "'1.00'", "currency": "'USD'",
         "direction": "DEBIT"},
        {"accountId": "params.second", "units": "'1.00'", "currency": "'USD'",
         "direction": "DEBIT"},
        {"accountId": f"uuid('{tutorial.ASSETS.account_id}')", "units": "'2.00'",
         "currency": "'USD'", "direction": "CREDIT"},
    ]})


@pytest.fixture(scope="module")
def rules(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[KafkaLedger, LedgerClient]]:
    """A running ledger whose catalog holds a rule-breaking tran code for every rule."""
    ledger = KafkaLedger(kafka_bootstrap, Topics(f"r{uuid.uuid4().hex[:10]}", PARTITIONS),
                         tmp_path_factory.mktemp("rules"))
    ledger.add_processor()
    client = ledger.client()
    entities = (tutorial.JOURNAL, OTHER_JOURNAL.model_copy(update={"status": Status.LOCKED}),
                *tutorial.ACCOUNTS, *tutorial.TRAN_CODES, TYPED, BROKEN_CEL, NOTHING_WRITTEN,
                TWO_DEBITS,
                LOCKED_CODE, REMOTE_LIMITED, LOCAL_LIMITED, LOCKED,
                VelocityLimit.no_overdraft(REMOTE_LIMITED.account_id, layer=Layer.SETTLED),
                VelocityLimit.no_overdraft(LOCAL_LIMITED.account_id, layer=Layer.SETTLED))
    for entity in entities:
        assert client.create(entity).status == "APPLIED", entity
    yield ledger, client
    ledger.close()


def _typed(client: LedgerClient, owner: UUID = ERNIE, **params: str) -> Result:
    base = {"account": str(ERNIE), "amount": "1.00", **params}
    return client.post(uuid.uuid4(), "TYPED", base, owner=owner)


def _post_and_void_twice(client: LedgerClient) -> Result:
    deposit = uuid.uuid4()
    client.post(deposit, "ACH_CREDIT", {"account": str(ERNIE), "amount": "1.00",
                                        "effective": "2022-09-21"}, owner=ERNIE)
    assert client.void(deposit, owner=ERNIE).status == "POSTED"
    return client.void(deposit, owner=ERNIE, transaction_id=uuid.uuid4())


def _void_of_void(client: LedgerClient) -> Result:
    deposit = uuid.uuid4()
    client.post(deposit, "ACH_CREDIT", {"account": str(ERNIE), "amount": "1.00",
                                        "effective": "2022-09-21"}, owner=ERNIE)
    void = client.void(deposit, owner=ERNIE)
    assert void.transaction_id is not None
    return client.void(UUID(void.transaction_id), owner=ERNIE)


def _duplicate(client: LedgerClient) -> Result:
    transaction_id = uuid.uuid4()
    first = client.post(transaction_id, "TYPED", {"account": str(ERNIE), "amount": "2.00"},
                        owner=ERNIE)
    assert first.status == "POSTED"
    return client.post(transaction_id, "TYPED", {"account": str(ERNIE), "amount": "2.00"},
                       owner=ERNIE)


def _invalid_command(client: LedgerClient) -> Result:
    command_id = str(uuid.uuid4())
    record = {"command_id": command_id, "kind": "POST", "transaction_id": str(uuid.uuid4()),
              "tran_code": None, "params_json": "{}", "sent_at": datetime.now(UTC)}
    client.send_raw(client.topics.commands, account_key(ERNIE),
                    codec().encode("command", record), ERNIE_PARTITION)
    return client.wait([command_id])[command_id]


POSTING_CASES: dict[str, tuple[Callable[[LedgerClient], Result], str]] = {
    "command_invalid": (_invalid_command, "tran_code"),
    "transaction_id_duplicate": (_duplicate, "transactionId"),
    "tran_code_not_found": (lambda c: c.post(uuid.uuid4(), "ACH_TYPO", {}, owner=ERNIE),
                            "ACH_TYPO"),
    "tran_code_version_not_found": (
        lambda c: c.post(uuid.uuid4(), "ACH_CREDIT", {}, owner=ERNIE, version=9), "9"),
    "tran_code_locked": (lambda c: c.post(uuid.uuid4(), "LOCKED_CODE", {}, owner=ERNIE),
                         "LOCKED_CODE"),
    "param_missing": (lambda c: c.post(uuid.uuid4(), "ACH_CREDIT", {"account": str(ERNIE)},
                                       owner=ERNIE), "amount"),
    "param_type_invalid": (lambda c: _typed(c, amount="ten"), "ten"),
    "param_unknown": (lambda c: _typed(c, amuont="5.00"), "amuont"),
    "cel_evaluation_failed": (
        lambda c: c.post(uuid.uuid4(), "BROKEN_CEL", {"amount": "1.00"}, owner=ERNIE), "fee"),
    "void_target_not_found": (lambda c: c.void(UUID(int=77), owner=ERNIE),
                              str(UUID(int=77))),
    "void_of_void": (_void_of_void, "void"),
    "transaction_already_voided": (_post_and_void_twice, "voided"),
    "journal_not_found": (lambda c: _typed(c, journal=str(UUID(int=5))), str(UUID(int=5))),
    "journal_locked": (lambda c: _typed(c, journal=str(OTHER_JOURNAL.journal_id)),
                       str(OTHER_JOURNAL.journal_id)),
    "account_not_found": (lambda c: _typed(c, account=MISSING_ACCOUNT), MISSING_ACCOUNT),
    "account_locked": (lambda c: _typed(c, account=str(LOCKED.account_id)),
                       str(LOCKED.account_id)),
    "currency_invalid": (lambda c: _typed(c, currency="XYZ"), "XYZ"),
    "amount_invalid": (lambda c: _typed(c, amount="1.234"), "1.234"),
    "entries_must_balance": (lambda c: _typed(c, amount="10.00", creditAmount="9.99"), "USD"),
    "limited_account_must_be_local": (
        lambda c: _typed(c, debitAccount=str(REMOTE_LIMITED.account_id)),
        str(REMOTE_LIMITED.account_id)),
    "velocity_limit_exceeded": (
        lambda c: _typed(c, owner=LOCAL_LIMITED.account_id,
                         debitAccount=str(LOCAL_LIMITED.account_id)),
        str(LOCAL_LIMITED.account_id)),
}

CATALOG_CASES: dict[str, tuple[CatalogKind, dict[str, Any], str]] = {
    "catalog_command_invalid": (CatalogKind.CREATE_ACCOUNT, {"accountId": str(uuid.uuid4())},
                                "code"),
    "journal_id_duplicate": (CatalogKind.CREATE_JOURNAL,
                             {"journalId": str(tutorial.JOURNAL.journal_id), "name": "Other"},
                             str(tutorial.JOURNAL.journal_id)),
    "account_id_duplicate": (CatalogKind.CREATE_ACCOUNT,
                             {"accountId": str(ERNIE), "code": "OTHER", "name": "Other"},
                             str(ERNIE)),
    "account_code_duplicate": (CatalogKind.CREATE_ACCOUNT,
                               {"accountId": str(uuid.uuid4()), "code": "ERNIE.CHECKING",
                                "name": "Impostor"}, "ERNIE.CHECKING"),
    "tran_code_duplicate": (CatalogKind.CREATE_TRAN_CODE,
                            {**TYPED.model_dump(mode="json", by_alias=True),
                             "description": "changed"}, "TYPED"),
    "cel_expression_too_costly": (
        CatalogKind.CREATE_TRAN_CODE,
        {**TYPED.model_dump(mode="json", by_alias=True), "code": "RUNAWAY",
         "tranCodeId": str(uuid.uuid4()),
         "vars": {"n": "[1, 2].map(x, [3, 4].map(y, x + y)).size()"}}, "vars.n"),
    "limit_id_duplicate": (CatalogKind.CREATE_LIMIT,
                           {**VelocityLimit.no_overdraft(LOCAL_LIMITED.account_id,
                                                         layer=Layer.SETTLED)
                            .model_dump(mode="json", by_alias=True), "minAvailable": "5"},
                           "limitId"),
}


@pytest.mark.parametrize("code", sorted(POSTING_CASES))
def test_posting_rejection_reaches_the_results_topic(
    rules: tuple[KafkaLedger, LedgerClient], code: str
) -> None:
    """A command breaking the rule gets one REJECTED result with the rule's code."""
    _ledger, client = rules
    send, named = POSTING_CASES[code]
    result = send(client)
    assert (result.status, result.code) == ("REJECTED", code), result
    assert named in (result.message or ""), result.message


@pytest.mark.parametrize("code", sorted(CATALOG_CASES))
def test_catalog_rejection_reaches_the_results_topic(
    rules: tuple[KafkaLedger, LedgerClient], code: str
) -> None:
    """A catalog command breaking the rule gets one REJECTED result with the rule's code,
    also when it is sent past the client, which refuses what it can check with the same
    code."""
    _ledger, client = rules
    kind, body, named = CATALOG_CASES[code]
    refused_early = catalog_input_refusal(kind, body)
    assert refused_early is None or refused_early.code == code, refused_early
    command_id = str(uuid.uuid4())
    client.send_raw(client.topics.catalog_commands, None, codec().encode("catalog_command", {
        "command_id": command_id, "kind": kind.value, "body_json": mapping.dump_json(body),
        "sent_at": datetime.now(UTC)}), 0)
    result = client.wait([command_id])[command_id]
    assert (result.status, result.code) == ("REJECTED", code), result
    assert named in (result.message or ""), result.message


def test_debiting_limited_accounts_on_two_partitions_is_refused(
    rules: tuple[KafkaLedger, LedgerClient],
) -> None:
    """Sent to either account's partition, the posting names the other, remote one."""
    _ledger, client = rules
    local, remote = LOCAL_LIMITED.account_id, REMOTE_LIMITED.account_id
    params = {"first": str(local), "second": str(remote)}
    from_local = client.post(uuid.uuid4(), "TWO_DEBITS", params, owner=local)
    from_remote = client.post(uuid.uuid4(), "TWO_DEBITS", params, owner=remote)
    assert (from_local.code, from_remote.code) == ("limited_account_must_be_local",) * 2
    assert str(remote) in (from_local.message or "")
    assert str(local) in (from_remote.message or "")


def test_a_duplicate_writes_no_new_entries(rules: tuple[KafkaLedger, LedgerClient]) -> None:
    """Re-posting a transaction id is rejected and the entries topic gains nothing for it."""
    ledger, client = rules
    transaction_id = uuid.uuid4()
    params = {"account": str(ERNIE), "amount": "3.00"}
    assert client.post(transaction_id, "TYPED", params, owner=ERNIE).status == "POSTED"
    assert client.post(transaction_id, "TYPED", params, owner=ERNIE).code == (
        "transaction_id_duplicate")
    mine = [e for e in ledger.entries() if e.transaction_id == transaction_id]
    assert sorted(e.sequence for e in mine) == [1, 2]


def test_garbage_goes_to_dead_letters_and_the_partition_keeps_moving(
    rules: tuple[KafkaLedger, LedgerClient], tmp_path: Path
) -> None:
    """Undecodable bytes become a dead letter; the next command on that partition posts."""
    ledger, client = rules
    garbage = b"\x00\xffnot avro at all"
    client.send_raw(client.topics.commands, b"junk", garbage, ERNIE_PARTITION)
    result = _typed(client, amount="4.00")
    assert result.status == "POSTED", result
    letters = [codec().decode("dead_letter", m.value())
               for m in ledger.read(client.topics.dead_letters)]
    mine = [letter for letter in letters if letter["value"] == garbage]
    assert len(mine) == 1
    assert mine[0]["topic"] == client.topics.commands
    assert mine[0]["partition"] == ERNIE_PARTITION
    assert "not a command record" in mine[0]["error"]
