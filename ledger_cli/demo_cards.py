"""The demo's card purchase: ``ledger cards iso8583 serve`` in a child process, and a network's
TCP client sending it an authorization, a partial reversal and the clearing.

The card program's PAN key is made for this run and given to the server through
``LEDGER_CARD_PAN_KEY``; the card is created with the same key, so the server finds it by
the PAN's hash. The demo prints the card's last four digits only.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from connectors.cards.iso_client import Iso8583Client, Purchase
from connectors.cards.process import Iso8583Process
from iso8583_spec.message import Message
from ledger_cli.rendering import render_table
from ledger_core import Account, Layer, VelocityLimit, card_lifecycle
from ledger_core.cards import Card, card_from_pan
from streams.client import LedgerClient, Result
from streams.errors import LedgerError

__all__ = ["card_purchase", "new_pan_key"]

# A test card number (Visa's), never a real card.
DEMO_PAN = "4111111111111111"


def new_pan_key() -> str:
    """A PAN key for one demo run."""
    return secrets.token_hex(32)


def card_purchase(client: LedgerClient, server: Iso8583Process, pan_key: str) -> None:
    """Set up a card program, then buy through the ISO 8583 server, printing each answer and
    the cardholder's available balances after it."""
    print("\n== A card purchase through the ISO 8583 server: authorization, partial reversal, "
          "clearing ==")
    account = _cardholder(client, pan_key)
    print(f"card ****{DEMO_PAN[-4:]} spends from account {account} (funded 100.00, no "
          f"overdraft of available(PENDING)); server on 127.0.0.1:{server.port}")
    bought = Purchase(pan=DEMO_PAN, stan="000101", rrn="DEMO00000101",
                      transmitted=datetime.now(UTC), amount=Decimal("50.00"))
    steps = [("0100 authorize 50.00", bought.authorization()),
             ("0400 reverse to 30.00", bought.reversal("000102", Decimal("30.00"))),
             ("0220 clear 32.50", bought.clearing("000103", Decimal("32.50"))),
             ("0100 authorize 80.00", Purchase(pan=DEMO_PAN, stan="000104", rrn="DEMO00000104",
                                               transmitted=datetime.now(UTC),
                                               amount=Decimal("80.00")).authorization())]
    rows = []
    for label, message in steps:
        answer = asyncio.run(_send(server.port, message))
        client.wait_converged()
        rows.append([label, _shown(answer), *_availability(client, account)])
    print(render_table(["message", "answer", "available(SETTLED)", "available(PENDING)"], rows))


def _cardholder(client: LedgerClient, pan_key: str) -> uuid.UUID:
    for entity in (card_lifecycle.CASH, card_lifecycle.SETTLEMENT, *card_lifecycle.TRAN_CODES):
        _check(client.create(entity), f"{type(entity).__name__} of the card program")
    account = Account.model_validate({"accountId": str(uuid.uuid4()), "code": "CARD.HOLDER",
                                      "name": "A cardholder"})
    _check(client.create(account), "the cardholder's account")
    _check(client.create(VelocityLimit.no_overdraft(account.account_id, layer=Layer.PENDING)),
           "the no-overdraft limit")
    _check(client.post(uuid.uuid4(), "DEPOSIT", {"account": str(account.account_id),
                                                 "amount": "100.00"}, account.account_id),
           "the deposit")
    card = card_from_pan(uuid.uuid4(), account.account_id, DEMO_PAN, pan_key.encode())
    assert isinstance(card, Card), "the demo's PAN is a valid card number"
    _check(client.create(card), "the card")
    return account.account_id


async def _send(port: int, message: Message) -> Message:
    network = Iso8583Client("ascii")
    await network.connect("127.0.0.1", port)
    try:
        return await network.send(message)
    finally:
        await network.close()


def _shown(answer: Message) -> str:
    approval = answer.get(38)
    return f"{answer.mti} {answer.get(39)}" + (f" approval {approval}" if approval else "")


def _availability(client: LedgerClient, account_id: uuid.UUID) -> list[str]:
    balance = client.balances(account_id)[0]
    return [str(balance.available(Layer.SETTLED).normal_balance),
            str(balance.available(Layer.PENDING).normal_balance)]


def _check(result: Result, what: str) -> None:
    if not result.ok:
        raise LedgerError(f"{what} was refused: {result.code}: {result.message}")
