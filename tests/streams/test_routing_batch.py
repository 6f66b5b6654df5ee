"""A partition's commands decided as one batch by the real router (real RocksDB state, the
catalog reader stood in for; no Kafka): a decision that cannot be written is answered alone,
and the commands after it, which assumed it, are decided again without it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from confluent_kafka import Message

from ledger_core import PostTransaction, card_lifecycle
from schemas import mapping
from schemas.codec import codec
from streams.routing import BatchMarks
from streams.topics import Topics
from tests.fuzz.targets._processor import FuzzMessage, Ledger, ledger
from tests.oversized import BLOB, oversized_tran_code

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOPICS = Topics("batch", 1)
CUSTOMER = str(card_lifecycle.CUSTOMER.account_id)
CASH = f"uuid('{card_lifecycle.CASH.account_id}')"
OVERSIZED = oversized_tran_code("OVERSIZED_DEPOSIT", CASH, units="'10.00'")


def _ledger() -> Ledger:
    return ledger(TOPICS, (*card_lifecycle.ACCOUNTS, *card_lifecycle.TRAN_CODES, OVERSIZED,
                           card_lifecycle.CUSTOMER_NO_OVERDRAFT), (), NOW, NOW)


def _message(offset: int, tran_code: str, **params: Any) -> Message:
    command = PostTransaction(transaction_id=uuid.uuid4(), tran_code=tran_code,
                              params={"account": CUSTOMER, **params})
    value = codec().encode("command", mapping.command_record(command, f"c{offset}", NOW))
    return cast(Message, FuzzMessage(TOPICS.commands, 0, offset, None, value))


def _answers(built: Ledger, messages: list[Message]) -> list[tuple[str, str | None]]:
    outputs = built.router.route_commands(messages, NOW, BatchMarks())
    results = [codec().decode("result", o.value) for o in outputs if o.topic == TOPICS.results]
    return [(r["status"], r["code"]) for r in sorted(results, key=lambda r: r["source_offset"])]


def test_a_hold_funded_by_an_earlier_deposit_of_the_batch_posts_past_an_oversized_one() -> None:
    """deposit, oversized posting, hold: the oversized posting alone is refused, the hold
    still sees the deposit."""
    answers = _answers(_ledger(), [_message(0, "DEPOSIT", amount="50.00"),
                                   _message(1, "OVERSIZED_DEPOSIT", blob=BLOB),
                                   _message(2, "CARD_HOLD", amount="40.00")])
    assert answers == [("POSTED", None), ("REJECTED", "record_too_large"), ("POSTED", None)]


def test_commands_decided_on_top_of_a_refused_write_are_decided_again_without_it() -> None:
    """oversized deposit, hold: decided in one pass the hold would have seen the deposit;
    once the deposit is refused at its write, the hold is decided again and refused."""
    answers = _answers(_ledger(), [_message(0, "OVERSIZED_DEPOSIT", blob=BLOB),
                                   _message(1, "CARD_HOLD", amount="15.00")])
    assert answers == [("REJECTED", "record_too_large"),
                       ("REJECTED", "velocity_limit_exceeded")]
