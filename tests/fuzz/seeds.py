"""Write the committed seed corpora, tests/fuzz/corpus/<target>/, from the ledger's real inputs.

    python -m tests.fuzz.seeds          # rewrite every seed file (other files stay)

Seeds are what clients really send: the tutorial's and the card lifecycle's commands encoded
with the codec (and in the older command schema version), their catalog documents as the
client sends them, every CEL expression of their tran codes, and the GraphQL documents of
tests/api/documents as HTTP bodies. File names say what each seed is; the fuzzer's own
discoveries are not committed (they grow under var/fuzz/).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger_core import (
    Enforcement,
    PostTransaction,
    VoidTransaction,
    card_lifecycle,
    tutorial,
)
from ledger_core.catalog import CatalogKind
from ledger_core.expansion import compile_tran_code
from schemas import mapping
from schemas.codec import codec
from tests.fuzz.targets.catalog import CEL_POOL
from tests.fuzz.targets.command import FUZZ_TYPED

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
DOCUMENTS = ROOT / "tests" / "api" / "documents"
SENT_AT = datetime(2026, 11, 22, 9, 59, 59, tzinfo=UTC)


def _command(command: PostTransaction | VoidTransaction, version: int | None = None) -> bytes:
    record = mapping.command_record(command, f"seed-{command.transaction_id}", SENT_AT)
    if version == 1:
        record.pop("override_enforcement")
    return codec().encode("command", record, version)


def command_seeds() -> dict[str, bytes]:
    """Encoded posting and void commands."""
    typed = PostTransaction.model_validate({
        "transactionId": "f0220000-0000-4000-8000-0000000000b1", "tranCode": "FUZZ_TYPED",
        "params": {"account": str(tutorial.ERNIE.account_id), "amount": "1250", "count": 2,
                   "flag": False, "day": "2026-11-21", "at": "2026-11-22T09:00:00Z",
                   "note": "seed", "currency": "JPY", "layer": "PENDING",
                   "extra": {"a": [1, "2.5", None, True]}}})
    seeds = {
        "tutorial-deposit-duplicate": _command(tutorial.DEPOSIT),
        "tutorial-withdrawal": _command(tutorial.WITHDRAWAL),
        "tutorial-withdrawal-v1": _command(tutorial.WITHDRAWAL, version=1),
        "card-fund-duplicate": _command(card_lifecycle.FUND),
        "card-hold-duplicate": _command(card_lifecycle.HOLD),
        "card-release-void": _command(card_lifecycle.RELEASE),
        "card-settle": _command(card_lifecycle.SETTLE),
        "tutorial-void-deposit-named-id": _command(VoidTransaction(
            void_of=tutorial.DEPOSIT.transaction_id,
            transaction_id=UUID("f0220000-0000-4000-8000-0000000000b2"),
            override_enforcement=Enforcement.WARN)),
        "card-hold-overdraft-warn": _command(PostTransaction(
            transaction_id=UUID("f0220000-0000-4000-8000-0000000000b3"), tran_code="CARD_HOLD",
            params={"account": str(card_lifecycle.CUSTOMER.account_id), "amount": "500.00"},
            override_enforcement=Enforcement.WARN)),
        "typed-every-param": _command(typed),
        "typed-pinned-version": _command(typed.model_copy(update={"tran_code_version": 1})),
        "typed-usd-defaults": _command(PostTransaction(
            transaction_id=UUID("f0220000-0000-4000-8000-0000000000b4"), tran_code="FUZZ_TYPED",
            params={"account": str(tutorial.BERT.account_id), "amount": "12.50"})),
        "structured-zeros": bytes(64),
        "structured-ramp": bytes(range(256)),
    }
    return seeds


def _catalog(kind: CatalogKind, body: dict[str, Any]) -> bytes:
    return codec().encode("catalog_command", {
        "command_id": f"seed-{kind.value.lower()}", "kind": kind.value,
        "body_json": mapping.dump_json(body), "sent_at": SENT_AT})


def _dump(entity: Any) -> dict[str, Any]:
    body: dict[str, Any] = entity.model_dump(mode="json", by_alias=True)
    return body


def catalog_seeds() -> dict[str, bytes]:
    """Encoded catalog commands: the documents clients create the examples with."""
    seeds = {
        "create-journal-tutorial": _catalog(CatalogKind.CREATE_JOURNAL, _dump(tutorial.JOURNAL)),
        "create-tran-code-ach-credit-input": _catalog(CatalogKind.CREATE_TRAN_CODE,
                                                      tutorial.ACH_CREDIT_INPUT),
        "create-tran-code-ach-debit-new-id": _catalog(CatalogKind.CREATE_TRAN_CODE, {
            **tutorial.ACH_DEBIT_INPUT, "code": "ACH_DEBIT_2",
            "tranCodeId": "f0220000-0000-4000-8000-0000000000a5"}),
        "create-tran-code-fuzz-typed": _catalog(CatalogKind.CREATE_TRAN_CODE,
                                                _dump(FUZZ_TYPED)),
        "create-limit-no-overdraft": _catalog(CatalogKind.CREATE_LIMIT,
                                              _dump(card_lifecycle.CUSTOMER_NO_OVERDRAFT)),
        "create-limit-conditional": _catalog(CatalogKind.CREATE_LIMIT, {
            "limitId": "f0220000-0000-4000-8000-0000000000a6",
            "accountId": str(tutorial.ERNIE.account_id), "layer": "SETTLED",
            "maxAvailable": "1000.00", "enforcement": "WARN",
            "condition": "params.amount > decimal('100')"}),
        "update-account-lock": _catalog(CatalogKind.UPDATE_ACCOUNT, {
            "accountId": str(tutorial.BERT.account_id), "status": "LOCKED",
            "metadata": {"reason": "fraud", "score": 75}}),
        "update-tran-code-description": _catalog(CatalogKind.UPDATE_TRAN_CODE, {
            "code": "ACH_CREDIT", "description": "Version two.", "status": "LOCKED"}),
        "create-card": _catalog(CatalogKind.CREATE_CARD, {
            "cardId": "f0220000-0000-4000-8000-0000000000c1",
            "accountId": str(card_lifecycle.CUSTOMER.account_id), "panHash": "0" * 64,
            "lastFour": "1111", "cardToken": "tok_1", "metadata": {"program": "debit"}}),
        "update-card-lock": _catalog(CatalogKind.UPDATE_CARD, {
            "cardId": "f0220000-0000-4000-8000-0000000000c1", "status": "LOCKED"}),
    }
    for account in (*tutorial.ACCOUNTS, *card_lifecycle.ACCOUNTS):
        seeds[f"create-account-{account.code.lower()}"] = _catalog(CatalogKind.CREATE_ACCOUNT,
                                                                   _dump(account))
    seeds["create-account-new"] = _catalog(CatalogKind.CREATE_ACCOUNT, {
        "accountId": "f0220000-0000-4000-8000-0000000000a2", "code": "NEW.CODE",
        "name": "New account", "normalBalanceType": "DEBIT",
        "metadata": {"tier": "gold", "limits": [1, 2]}, "externalId": "ext-1",
        "config": {"enableConcurrentPosting": True}})
    for tran_code in card_lifecycle.TRAN_CODES:
        seeds[f"create-tran-code-{tran_code.code.lower()}"] = _catalog(
            CatalogKind.CREATE_TRAN_CODE, _dump(tran_code))
    seeds["structured-zeros"] = bytes(64)
    seeds["structured-ramp"] = bytes(range(256))
    return seeds


def cel_seeds() -> dict[str, bytes]:
    """Every CEL source of the example tran codes and of the catalog target's pool."""
    sources: dict[str, None] = {}
    for tran_code in (*tutorial.TRAN_CODES, *card_lifecycle.TRAN_CODES, FUZZ_TYPED):
        for _, expression in compile_tran_code(tran_code).expressions():
            sources[expression.source] = None
    for source in CEL_POOL:
        sources[source] = None
    if card_lifecycle.CUSTOMER_NO_OVERDRAFT.condition:
        sources[card_lifecycle.CUSTOMER_NO_OVERDRAFT.condition] = None
    return {f"{number:03d}": source.encode("utf-8", "surrogatepass")
            for number, source in enumerate(sources)}


def graphql_seeds() -> dict[str, bytes]:
    """HTTP bodies: each tutorial document, and a few with variables and operation names."""
    seeds = {}
    for path in sorted(DOCUMENTS.glob("*.graphql")):
        seeds[path.stem] = json.dumps({"query": path.read_text()}).encode()
    seeds["post-with-variables"] = json.dumps({
        "query": "mutation Post($input: TransactionInput!) {\n  postTransaction(input: $input)"
                 " {\n    transactionId\n    entries(first: 2) { nodes { units direction } }\n"
                 "  }\n}",
        "operationName": "Post",
        "variables": {"input": {"transactionId": "42847c7f-1972-4448-91b7-652c378760f4",
                                "tranCode": "ACH_CREDIT",
                                "params": {"account": "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",
                                           "amount": "9.53", "effective": "2022-09-21"}}},
    }).encode()
    seeds["balance-with-variables"] = (
        b'{"query": "query Balance($id: UUID!, $currency: CurrencyCode) { account(id: $id)'
        b' { balance(currency: $currency) { available(layer: SETTLED) { normalBalance'
        b' { units } } } } }", "variables": {"id": "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5",'
        b' "currency": "USD"}}')
    seeds["two-operations-named"] = json.dumps({
        "query": "query A { __typename }\nmutation B { voidTransaction(id: "
                 "\"42847c7f-1972-4448-91b7-652c378760f4\") { transactionId } }",
        "operationName": "A"}).encode()
    seeds["introspection"] = json.dumps({
        "query": "{ __schema { types { name kind fields { name args { name type { name } } }"
                 " } } }"}).encode()
    seeds["query-text-only"] = b"query { __typename }"
    return seeds


SEEDS = {"command": command_seeds, "catalog": catalog_seeds, "cel": cel_seeds,
         "graphql_input": graphql_seeds}


def main() -> int:
    """Write every seed file."""
    for target, make in SEEDS.items():
        directory = CORPUS / target
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in make().items():
            (directory / name).write_bytes(data)
        print(f"{directory.relative_to(ROOT)}: {len(list(directory.iterdir()))} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
