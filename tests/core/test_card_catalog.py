"""Cards in the catalog: found by id, PAN hash and token; unique hashes and tokens; updates
that lock and re-token; and rejections that never show a PAN or its hash."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger_core import Card, Rejected, Status, tutorial
from ledger_core.cards import card_from_pan, pan_hash
from ledger_core.catalog import Catalog, CatalogKind, decide_catalog

KEY = b"program key of thirty-two bytes!"
PAN = "4111111111111111"
OTHER_PAN = "5555555555554444"
HASH = pan_hash(PAN, KEY)


def _card(pan: str = PAN, card_id: UUID | None = None, token: str | None = "tok_1") -> Card:
    card = card_from_pan(card_id or uuid4(), tutorial.ERNIE.account_id, pan, KEY, token)
    assert isinstance(card, Card)
    return card


CARD = _card()


@pytest.fixture
def catalog() -> Catalog:
    """The tutorial's accounts and one card on Ernie's account."""
    catalog = Catalog()
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, CARD):
        catalog.put(entity)
    return catalog


def _body(card: Card, **changes: Any) -> dict[str, Any]:
    return {**card.model_dump(mode="json", by_alias=True), **changes}


def _decide(catalog: Catalog, kind: CatalogKind, body: dict[str, Any]) -> Card | Rejected:
    decision = decide_catalog(catalog, kind, body)
    assert isinstance(decision, Card | Rejected), decision
    return decision


def _rejected(catalog: Catalog, kind: CatalogKind, body: dict[str, Any]) -> Rejected:
    decision = _decide(catalog, kind, body)
    assert isinstance(decision, Rejected), decision
    return decision


def test_a_card_is_found_by_id_pan_hash_and_token(catalog: Catalog) -> None:
    """A created card is in the catalog under each of its three keys, and nothing else is."""
    card = _card(OTHER_PAN, token="tok_2")
    assert _decide(catalog, CatalogKind.CREATE_CARD, _body(card)) == card
    catalog.put(card)
    assert catalog.card(card.card_id) == card
    assert catalog.card_by_pan_hash(pan_hash(OTHER_PAN, KEY)) == card
    assert catalog.card_by_token("tok_2") == card
    assert catalog.card_by_pan_hash(HASH) == CARD
    assert catalog.card_by_pan_hash(pan_hash(OTHER_PAN, bytes(32))) is None
    assert catalog.card_by_token("tok_3") is None
    assert catalog.cards == {CARD.card_id: CARD, card.card_id: card}


def test_repeating_a_create_exactly_is_accepted(catalog: Catalog) -> None:
    """A client re-sending the same card after a timeout gets the card, not a rejection."""
    assert _decide(catalog, CatalogKind.CREATE_CARD, _body(CARD)) == CARD


@pytest.mark.parametrize("body, code, named", [
    (_body(_card(OTHER_PAN), accountId=str(uuid4())), "account_not_found", "does not exist"),
    (_body(CARD, cardToken="tok_other"), "card_id_duplicate", str(CARD.card_id)),
    (_body(_card(token=None)), "card_pan_duplicate", f"card {CARD.card_id} (last four 1111)"),
    (_body(_card(OTHER_PAN)), "card_token_duplicate", f"'tok_1' is already the token of card "
                                                      f"{CARD.card_id}"),
])
def test_each_card_rule_rejects_with_its_code(catalog: Catalog, body: dict[str, Any],
                                              code: str, named: str) -> None:
    """An unknown account, a reused card id, PAN or token: each is named by its rule."""
    rejected = _rejected(catalog, CatalogKind.CREATE_CARD, body)
    assert rejected.code == code
    assert named in rejected.message


def test_locking_a_card_is_an_update(catalog: Catalog) -> None:
    """An update changes the status and keeps the card under its hash and token."""
    locked = _decide(catalog, CatalogKind.UPDATE_CARD,
                     {"cardId": str(CARD.card_id), "status": "LOCKED"})
    assert locked == CARD.model_copy(update={"status": Status.LOCKED})
    catalog.put(locked)
    assert catalog.card_by_pan_hash(HASH) == locked
    assert catalog.card_by_token("tok_1") == locked
    assert len(catalog.cards) == 1


def test_a_new_token_replaces_the_old_one(catalog: Catalog) -> None:
    """After a re-token, the old token finds nothing and the new one finds the card."""
    retokened = _decide(catalog, CatalogKind.UPDATE_CARD,
                        {"card_id": str(CARD.card_id), "cardToken": "tok_9"})
    assert isinstance(retokened, Card)
    catalog.put(retokened)
    assert catalog.card_by_token("tok_1") is None
    assert catalog.card_by_token("tok_9") == retokened
    cleared = _decide(catalog, CatalogKind.UPDATE_CARD,
                      {"cardId": str(CARD.card_id), "cardToken": None})
    assert isinstance(cleared, Card)
    catalog.put(cleared)
    assert catalog.card_tokens == {}


@pytest.mark.parametrize("changes, code, named", [
    ({"cardId": str(uuid4()), "status": "LOCKED"}, "card_not_found", "does not exist"),
    ({"cardId": "not-a-uuid"}, "catalog_command_invalid", "cardId is not a UUID"),
    ({"cardId": str(CARD.card_id), "panHash": pan_hash(OTHER_PAN, KEY)},
     "catalog_command_invalid", "pan_hash of a card cannot be updated"),
    ({"cardId": str(CARD.card_id), "accountId": str(tutorial.ASSETS.account_id)},
     "catalog_command_invalid", "account_id of a card cannot be updated"),
    ({"cardId": str(CARD.card_id), "status": "INACTIVE"}, "catalog_command_invalid",
     "ACTIVE or LOCKED"),
    ({"cardId": str(CARD.card_id), "cardToken": "tok_2"}, "card_token_duplicate", "tok_2"),
])
def test_each_card_update_rule_rejects_with_its_code(catalog: Catalog, changes: dict[str, Any],
                                                     code: str, named: str) -> None:
    """Only status, token and metadata change; an unknown card is card_not_found."""
    catalog.put(_card(OTHER_PAN, token="tok_2"))
    rejected = _rejected(catalog, CatalogKind.UPDATE_CARD, changes)
    assert rejected.code == code
    assert named in rejected.message


def test_a_copy_is_independent(catalog: Catalog) -> None:
    """Cards decided on a working copy reach neither the original's cards nor its indexes."""
    working = catalog.copy()
    card = _card(OTHER_PAN, token="tok_2")
    working.put(card)
    working.put(CARD.model_copy(update={"card_token": "tok_3"}))
    assert working.card(card.card_id) == card
    assert (catalog.card(card.card_id), catalog.card_by_pan_hash(card.pan_hash),
            catalog.card_by_token("tok_2"), catalog.card_by_token("tok_3")) == (None,) * 4
    assert catalog.card_by_token("tok_1") == CARD


@pytest.mark.parametrize("kind, body", [
    (CatalogKind.CREATE_CARD, _body(_card(token=None))),  # card_pan_duplicate
    (CatalogKind.CREATE_CARD, _body(_card(OTHER_PAN), panHash=PAN)),
    (CatalogKind.CREATE_CARD, _body(_card(OTHER_PAN), panHash=HASH.upper())),
    (CatalogKind.CREATE_CARD, _body(_card(OTHER_PAN), pan=PAN)),
    (CatalogKind.CREATE_CARD, _body(_card(OTHER_PAN), lastFour=PAN)),
    (CatalogKind.CREATE_CARD, {"cardId": str(uuid4()), "accountId": PAN, "panHash": HASH}),
    (CatalogKind.CREATE_CARD, {"cardId": PAN, "panHash": HASH}),
    (CatalogKind.UPDATE_CARD, {"cardId": PAN}),
    (CatalogKind.UPDATE_CARD, {"cardId": str(CARD.card_id), "panHash": HASH}),
    (CatalogKind.UPDATE_CARD, {"cardId": str(CARD.card_id), "pan": PAN}),
    (CatalogKind.UPDATE_CARD, {"cardId": str(CARD.card_id), "metadata": PAN}),
    (CatalogKind.UPDATE_CARD, {"cardId": str(CARD.card_id), "cardToken": 4111111111111111}),
    (CatalogKind.UPDATE_CARD, {"cardId": str(CARD.card_id), "cardToken": PAN}),
    (CatalogKind.CREATE_CARD, _body(_card(OTHER_PAN, token=None), cardToken=PAN)),
])
def test_no_rejection_shows_a_pan_or_its_hash(catalog: Catalog, kind: CatalogKind,
                                              body: dict[str, Any]) -> None:
    """Whatever field a PAN or a hash is put in by mistake, the rejection's message, field
    and value hold neither (they reach results, logs and webhooks)."""
    rejection = _rejected(catalog, kind, body).rejection
    shown = json.dumps([rejection.message, rejection.field, rejection.value])
    for secret in (PAN, HASH, HASH.upper(), PAN[:12]):
        assert secret not in shown, shown
