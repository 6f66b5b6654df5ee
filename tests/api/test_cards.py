"""The card namespaces over HTTP, on the real broker: Twisp's iso8583 configs (created, read,
updated, deleted, refused) and cards.postLithicTransaction (a hold within the funds, a retry
that books nothing new, a decline above the funds, webhooks that are refused)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from ledger_core import DEFAULT_JOURNAL_ID, Account, VelocityLimit, card_lifecycle
from tests.api.conftest import LiveApi, fresh_ledger, live_api

# Long enough that a loaded machine does not turn a hold into LEDGER_TIMEOUT.
CARD_DEADLINE_S = 15.0

CONFIG_FIELDS = """configId journalId settlementAccountId timeZone description processor
                   processorSpec openToBuyConfig { openToBuy } status version id"""
CREATE_CONFIG = f"""mutation Create($input: ISO8583CreateConfigInput!) {{
  iso8583 {{ createConfig(input: $input) {{ {CONFIG_FIELDS} }} }} }}"""
UPDATE_CONFIG = f"""mutation Update($id: UUID!, $input: ISO8583UpdateConfigInput!) {{
  iso8583 {{ updateConfig(configId: $id, input: $input) {{ {CONFIG_FIELDS} }} }} }}"""
DELETE_CONFIG = f"""mutation Delete($id: UUID!) {{
  iso8583 {{ deleteConfig(id: $id) {{ {CONFIG_FIELDS} }} }} }}"""
READ_CONFIGS = f"""query Read($id: UUID!, $first: Int!, $after: String) {{ iso8583 {{
  config(configId: $id) {{ {CONFIG_FIELDS} }}
  configs(first: $first, after: $after) {{
    nodes {{ configId version }} edges {{ cursor }} pageInfo {{ hasNextPage endCursor }} }}
}} }}"""
POST_LITHIC = """mutation Lithic($input: LithicTransactionInput!) { cards {
  postLithicTransaction(input: $input) {
    transaction { transactionId correlationId journalId tranCode { code }
                  entries(first: 10) { nodes { accountId layer direction units } } }
    balance { accountId journalId currency version
              pending: available(layer: PENDING) { normalBalance { units } }
              settled: available(layer: SETTLED) { normalBalance { units } } }
  } } }"""


@pytest.fixture(scope="module")
def cards_api(kafka_bootstrap: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """An API on a ledger with the card tran codes and their settlement account."""
    for api in live_api(fresh_ledger(kafka_bootstrap, tmp_path_factory.mktemp("cards-api")),
                        card_deadline_s=CARD_DEADLINE_S):
        client = api.ledger.client()
        for entity in (card_lifecycle.CASH, card_lifecycle.SETTLEMENT,
                       *card_lifecycle.TRAN_CODES):
            assert client.create(entity).ok
        yield api


def _account(api: LiveApi, funds: str | None = None) -> uuid.UUID:
    """A new account; with ``funds``, deposited and kept from overdraft on PENDING."""
    client = api.ledger.client()
    account = Account(account_id=uuid.uuid4(), code=f"CH.{uuid.uuid4().hex[:10]}",
                      name="Cardholder")
    assert client.create(account).ok
    if funds is not None:
        assert client.create(VelocityLimit.no_overdraft(account.account_id)).ok
        deposited = client.post(uuid.uuid4(), "DEPOSIT", {
            "account": str(account.account_id), "amount": funds}, account.account_id)
        assert deposited.ok, deposited
    return account.account_id


def _config_input(**changes: Any) -> dict[str, Any]:
    return {"configId": str(uuid.uuid4()), "journalId": str(DEFAULT_JOURNAL_ID),
            "settlementAccountId": str(card_lifecycle.SETTLEMENT.account_id),
            "timeZone": "America/Chicago", "processor": "I2C", **changes}


def test_a_config_is_created_read_updated_and_deleted(cards_api: LiveApi) -> None:
    """createConfig answers version 1 with the defaults (ascii, AVAILABLE_PENDING); config
    and configs read it back; updateConfig makes version 2; deleteConfig keeps it LOCKED at
    version 3, a second delete changes nothing, and an update is then refused."""
    given = _config_input(description="Program A")
    created = cards_api.data(CREATE_CONFIG, {"input": given})["iso8583"]["createConfig"]
    config_id = given["configId"]
    assert created == {**given, "processorSpec": {"variant": "ascii"},
                       "openToBuyConfig": {"openToBuy": "AVAILABLE_PENDING"},
                       "status": "ACTIVE", "version": 1, "id": f"iso8583:config:{config_id}"}
    read = cards_api.data(READ_CONFIGS, {"id": config_id, "first": 1000})["iso8583"]
    assert read["config"] == created
    assert {"configId": config_id, "version": 1} in read["configs"]["nodes"]

    updated = cards_api.data(UPDATE_CONFIG, {"id": config_id, "input": {
        "timeZone": "Europe/Paris", "processorSpec": {"variant": "binary"},
        "openToBuyConfig": {"openToBuy": "AVAILABLE_PENDING"}}})["iso8583"]["updateConfig"]
    assert (updated["timeZone"], updated["processorSpec"], updated["description"],
            updated["version"]) == ("Europe/Paris", {"variant": "binary"}, "Program A", 2)
    deleted = cards_api.data(DELETE_CONFIG, {"id": config_id})["iso8583"]["deleteConfig"]
    assert (deleted["status"], deleted["version"]) == ("LOCKED", 3)
    assert cards_api.data(DELETE_CONFIG, {"id": config_id})["iso8583"]["deleteConfig"] == deleted
    assert cards_api.data(READ_CONFIGS, {"id": config_id, "first": 1})["iso8583"][
        "config"] == deleted
    refused = cards_api.error(UPDATE_CONFIG, {"id": config_id,
                                              "input": {"description": "again"}})
    assert refused["extensions"]["rule"] == "iso8583_config_locked"


def test_configs_are_paged_by_cursor(cards_api: LiveApi) -> None:
    """Following endCursor one config at a time lists every config once."""
    for _ in range(2):
        cards_api.data(CREATE_CONFIG, {"input": _config_input()})
    seen: list[str] = []
    after = None
    while True:
        page = cards_api.data(READ_CONFIGS, {"id": str(uuid.uuid4()), "first": 1,
                                             "after": after})["iso8583"]["configs"]
        seen += [node["configId"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) >= 2


@pytest.mark.parametrize(("changes", "code", "said"), [
    ({"openToBuyConfig": {"openToBuy": "VELOCITY_BALANCE"}}, "catalog_command_invalid",
     "judged against available(PENDING)"),
    ({"processorSpec": {"fields": {}}}, "catalog_command_invalid", "names a message variant"),
    ({"processorSpec": {"variant": "ebcdic"}}, "catalog_command_invalid", "'ascii' or 'binary'"),
    ({"timeZone": "Mars/Olympus_Mons"}, "catalog_command_invalid", "IANA tz database"),
    ({"journalId": str(uuid.UUID(int=9))}, "journal_not_found", str(uuid.UUID(int=9))),
    ({"settlementAccountId": str(uuid.UUID(int=9))}, "account_not_found",
     str(uuid.UUID(int=9))),
])
def test_a_config_the_ledger_cannot_honour_is_refused(cards_api: LiveApi,
                                                       changes: dict[str, Any], code: str,
                                                       said: str) -> None:
    """Other balances, other specifications, unknown zones, journals and accounts are
    refused with the ledger's code and the reason."""
    error = cards_api.error(CREATE_CONFIG, {"input": _config_input(**changes)})
    assert error["extensions"]["rule"] == code, error
    assert said in error["message"]


def test_a_duplicate_and_an_unknown_config_are_refused(cards_api: LiveApi) -> None:
    """A repeat of the create is accepted; another body under its id is a duplicate; an
    update or delete of an unknown id is iso8583_config_not_found."""
    given = _config_input()
    first = cards_api.data(CREATE_CONFIG, {"input": given})
    assert cards_api.data(CREATE_CONFIG, {"input": given}) == first
    duplicate = cards_api.error(CREATE_CONFIG, {"input": {**given, "timeZone": "UTC"}})
    assert duplicate["extensions"]["rule"] == "iso8583_config_id_duplicate"
    unknown = str(uuid.uuid4())
    for document, variables in ((UPDATE_CONFIG, {"id": unknown, "input": {"timeZone": "UTC"}}),
                                (DELETE_CONFIG, {"id": unknown})):
        assert cards_api.error(document, variables)["extensions"]["rule"] == (
            "iso8583_config_not_found")


def _asa(token: str, minor_units: int, **changes: Any) -> dict[str, Any]:
    """A Lithic ASA request, with fields this ledger ignores."""
    return {"token": token, "status": "AUTHORIZATION", "card": {"token": "card-tok",
                                                                "last_four": "4242"},
            "amounts": {"cardholder": {"amount": minor_units, "currency": "USD",
                                       "conversion_rate": "1"}},
            "merchant": {"descriptor": "COFFEE SHOP", "mcc": "5814"}, **changes}


def _units(balance: dict[str, Any], layer: str) -> Decimal:
    return Decimal(balance[layer]["normalBalance"]["units"])


def test_a_lithic_authorization_holds_within_the_funds_and_a_retry_books_nothing(
    cards_api: LiveApi,
) -> None:
    """A 25.00 authorization on 100.00 is held on PENDING against the settlement account the
    input names: available(PENDING) 75.00, available(SETTLED) still 100.00. The same
    webhook again answers the same transaction and balance version."""
    account = _account(cards_api, funds="100.00")
    settlement = _account(cards_api)
    posting = {"accountId": str(account), "journalId": str(DEFAULT_JOURNAL_ID),
               "settlementAccountId": str(settlement),
               "webhook": _asa(str(uuid.uuid4()), 2500)}
    answer = cards_api.data(POST_LITHIC, {"input": posting})["cards"]["postLithicTransaction"]
    transaction, balance = answer["transaction"], answer["balance"]
    assert transaction["tranCode"] == {"code": "CARD_HOLD"}
    assert transaction["correlationId"] == transaction["transactionId"]
    assert sorted((e["accountId"], e["layer"], e["direction"], e["units"])
                  for e in transaction["entries"]["nodes"]) == sorted([
        (str(account), "PENDING", "DEBIT", "25.00"),
        (str(settlement), "PENDING", "CREDIT", "25.00")])
    assert (balance["accountId"], balance["journalId"], balance["currency"]) == (
        str(account), str(DEFAULT_JOURNAL_ID), "USD")
    assert (_units(balance, "pending"), _units(balance, "settled")) == (
        Decimal("75.00"), Decimal("100.00"))

    again = cards_api.data(POST_LITHIC, {"input": posting})["cards"]["postLithicTransaction"]
    assert again["transaction"]["transactionId"] == transaction["transactionId"]
    assert again["balance"] == balance


def test_a_lithic_authorization_above_the_funds_is_declined(cards_api: LiveApi) -> None:
    """200.00 on 100.00 is a card_declined error naming INSUFFICIENT_FUNDS; nothing is held
    (a smaller authorization afterwards still sees all 100.00)."""
    account = _account(cards_api, funds="100.00")
    declined = cards_api.error(POST_LITHIC, {"input": {
        "accountId": str(account), "webhook": _asa(str(uuid.uuid4()), 20000)}})
    assert declined["extensions"]["rule"] == "card_declined", declined
    assert declined["extensions"]["decision"] == "INSUFFICIENT_FUNDS"
    assert declined["extensions"]["retriableError"] is False
    answer = cards_api.data(POST_LITHIC, {"input": {
        "accountId": str(account), "webhook": _asa(str(uuid.uuid4()), 100)}})
    assert _units(answer["cards"]["postLithicTransaction"]["balance"], "pending") == Decimal(
        "99.00")


@pytest.mark.parametrize(("webhook", "code", "detail"), [
    ({"token": "t1", "status": "AUTHORIZATION", "amounts": {"cardholder": {
        "amount": 100, "currency": "USD"}}}, "command_invalid", "webhook.card.token"),
    ({**_asa("t2", 100), "amounts": {"cardholder": {"amount": "1.00", "currency": "USD"}}},
     "command_invalid", "webhook.amounts.cardholder.amount"),
    (_asa("t3", 100, status="BALANCE_INQUIRY"), "card_declined", "FORMAT_ERROR"),
])
def test_a_webhook_that_is_no_authorization_is_refused(cards_api: LiveApi,
                                                       webhook: dict[str, Any], code: str,
                                                       detail: str) -> None:
    """A webhook that is not an ASA request is command_invalid naming the field; an ASA
    status the ledger does not book is declined as FORMAT_ERROR."""
    error = cards_api.error(POST_LITHIC, {"input": {"accountId": str(_account(cards_api)),
                                                    "webhook": webhook}})
    assert error["extensions"]["rule"] == code, error
    assert detail in (error["extensions"].get("field"), error["extensions"].get("decision"))


def test_a_lithic_transaction_on_an_unknown_account_is_refused(cards_api: LiveApi) -> None:
    """The ledger's own code, before anything is booked."""
    missing = str(uuid.uuid4())
    error = cards_api.error(POST_LITHIC, {"input": {"accountId": missing,
                                                    "webhook": _asa(str(uuid.uuid4()), 100)}})
    assert (error["extensions"]["rule"], error["extensions"]["field"]) == (
        "account_not_found", "accountId")
