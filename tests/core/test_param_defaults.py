"""Param defaults as Twisp's documents write them: CEL, or literals of the param's type."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ledger_core import MemoryLedger, ParamType, Posted, PostTransaction, TranCode, apply, tutorial
from ledger_core.tran_codes import default_source

HOUSE = "78551b96-9c34-46f9-8d5f-c86e4459fcd7"


@pytest.mark.parametrize(
    ("param_type", "default", "source"),
    [
        (ParamType.DECIMAL, 0, "decimal('0')"),
        (ParamType.DECIMAL, "0.50", "decimal('0.50')"),
        (ParamType.DECIMAL, Decimal("1.25"), "decimal('1.25')"),
        (ParamType.DECIMAL, "decimal('0')", "decimal('0')"),
        (ParamType.DECIMAL, "params.amount", "params.amount"),
        (ParamType.INTEGER, 7, "7"),
        (ParamType.BOOLEAN, True, "true"),
        (ParamType.BOOLEAN, "false", "false"),
        (ParamType.STRING, "USD", '"USD"'),
        (ParamType.STRING, "_unspecified_", '"_unspecified_"'),
        (ParamType.STRING, "it's \"quoted\"", '"it\'s \\"quoted\\""'),
        (ParamType.STRING, "'USD'", "'USD'"),
        (ParamType.STRING, "transaction_id", "transaction_id"),
        (ParamType.STRING, "params.memo + '!'", "params.memo + '!'"),
        (ParamType.UUID, HOUSE, f"uuid('{HOUSE}')"),
        (ParamType.UUID, f"uuid('{HOUSE}')", f"uuid('{HOUSE}')"),
        (ParamType.DATE, "2022-09-21", "date('2022-09-21')"),
        (ParamType.TIMESTAMP, "2022-09-21T10:00:00Z", "timestamp('2022-09-21T10:00:00Z')"),
        (ParamType.JSON, "{}", "{}"),
    ],
)  # fmt: skip
def test_a_default_becomes_the_cel_that_yields_it(param_type: ParamType, default: object,
                                                  source: str) -> None:
    """A literal of the param's type becomes its CEL; CEL that reads only params, vars and the
    transaction id stays as written."""
    assert default_source(param_type, default) == source


def test_literal_defaults_are_the_values_a_posting_gets(now: datetime) -> None:
    """A tran code whose defaults are all literals posts with those values."""
    code = TranCode.model_validate({
        "tranCodeId": "b3000000-0000-4000-8000-000000000001", "code": "LITERAL_DEFAULTS",
        "params": [
            {"name": "account", "type": "UUID"},
            {"name": "amount", "type": "DECIMAL", "default": 5},
            {"name": "house", "type": "UUID", "default": HOUSE},
            {"name": "currency", "type": "STRING", "default": "USD"},
            {"name": "memo", "type": "STRING", "default": "_unspecified_"},
            {"name": "settled", "type": "BOOLEAN", "default": True},
            {"name": "effective", "type": "DATE", "default": "2022-09-01"},
        ],
        "transaction": {"effective": "date(params.effective)",
                        "metadata": "{'memo': params.memo, 'settled': params.settled}"},
        "entries": [
            {"accountId": "params.account", "units": "params.amount",
             "currency": "params.currency", "direction": "CREDIT"},
            {"accountId": "params.house", "units": "params.amount",
             "currency": "params.currency", "direction": "DEBIT"},
        ],
    })  # fmt: skip
    ledger = MemoryLedger()
    tutorial.install(ledger)
    ledger.add_tran_code(code)
    command = PostTransaction(transaction_id=UUID(int=9), tran_code="LITERAL_DEFAULTS",
                              params={"account": str(tutorial.ERNIE.account_id)})
    decision = apply(ledger, command, now)
    assert isinstance(decision, Posted), decision
    assert [(str(e.account_id), e.units, e.currency) for e in decision.entries] == [
        (str(tutorial.ERNIE.account_id), Decimal(5), "USD"), (HOUSE, Decimal(5), "USD")]
    assert decision.transaction.metadata == {"memo": "_unspecified_", "settled": True}
    assert decision.transaction.effective == date(2022, 9, 1)
