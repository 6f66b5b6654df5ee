"""The Lithic ASA endpoint in front of the real ledger: the same engine and tran codes as
the ISO 8583 server, a signed request over HTTP, and a retry that books nothing new."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

import aiohttp

from connectors.cards.lithic_server import AsaServer
from ledger_core import Card
from ledger_core.catalog import CatalogKind
from tests.cards.conftest import CardProgram
from tests.cards.test_lithic import KEY, asa, signed_headers


def _card_with_token(cards: CardProgram, funds: str) -> tuple[uuid.UUID, str]:
    account, _pan, card = cards.cardholder(Decimal(funds))
    token = f"card-{uuid.uuid4()}"
    result = cards.ledger.clients[0].catalog(CatalogKind.UPDATE_CARD,
                                             {"cardId": str(card.card_id), "cardToken": token})
    assert result.ok, result
    assert isinstance(Card.model_validate(result.entity), Card)
    return account, token


def test_lithic_authorizations_hold_decline_and_retry_once(cards: CardProgram) -> None:
    """Approve within the funds (held on PENDING), decline above them, and a retried request
    (same transaction token) answers the same and holds nothing more."""
    account, token = _card_with_token(cards, "50.00")
    server = AsaServer(cards.runtime.engine, KEY)  # type: ignore[union-attr]
    cards.on_loop(server.start())

    async def send(body: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(body).encode()
        async with aiohttp.ClientSession() as client, client.post(
                server.url, data=raw, headers=signed_headers(raw)) as response:
            assert response.status == 200, await response.text()
            answer: dict[str, Any] = await response.json()
            return answer

    def request(amount: int) -> dict[str, Any]:
        card = {**asa()["card"], "token": token}
        return asa(token=str(uuid.uuid4()), card=card, amount=amount,
                   amounts={"cardholder": {"amount": amount, "currency": "USD"},
                            "merchant": {"amount": amount, "currency": "USD"}})

    try:
        approved = request(3000)
        first = asyncio.run(send(approved))
        retried = asyncio.run(send(approved))
        declined = asyncio.run(send(request(2500)))
    finally:
        cards.on_loop(server.stop())
    assert first == retried == {"token": approved["token"], "result": "APPROVED"}
    assert declined["result"] == "INSUFFICIENT_FUNDS"
    assert cards.available(account) == Decimal("20.00")
