"""The ISO 8583 server on the real broker, spoken to by a network's TCP client."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.cards.engine import hold_id
from connectors.cards.iso_client import Iso8583Client, Purchase, echo
from connectors.cards.iso_server import Iso8583Server
from iso8583_spec.codec import encode
from iso8583_spec.message import Message
from iso8583_spec.reading import message_key
from ledger_core import Account, Iso8583Config, Journal, TranCode, card_lifecycle
from schemas import mapping
from schemas.codec import codec
from streams.audit_log import run_audit
from tests.cards.conftest import SPECS, CardProgram, new_pan

_numbers = itertools.count(random.randrange(100_000, 800_000))


def _stan() -> str:
    return f"{next(_numbers) % 1_000_000:06d}"


def purchase(pan: str, amount: str) -> Purchase:
    """A purchase with a STAN and RRN of its own."""
    stan = _stan()
    return Purchase(pan=pan, stan=stan, rrn=f"RRN{stan}XYZ", transmitted=datetime.now(UTC),
                    amount=Decimal(amount))


def _run(work: object) -> object:
    return asyncio.run(work)  # type: ignore[arg-type]


async def _one(cards: CardProgram, spec: str, message: Message) -> Message:
    client = await cards.connect(spec)
    try:
        return await client.send(message)
    finally:
        await client.close()


@pytest.mark.parametrize("spec", SPECS)
def test_an_authorization_is_approved_held_and_answered_with_an_approval_code(
        cards: CardProgram, spec: str) -> None:
    """0100 within the funds: 0110 with 00 and a 6-character approval code; the amount is
    held on PENDING, settled funds untouched."""
    account, pan, _card = cards.cardholder(Decimal("100.00"))
    answer = _run(_one(cards, spec, purchase(pan, "40.00").authorization()))
    assert isinstance(answer, Message)
    assert answer.mti == "0110"
    assert answer.get(39) == "00"
    approval = answer.get(38)
    assert approval is not None and len(approval) == 6
    assert answer.get(2) is None, "a response never echoes the PAN"
    assert cards.available(account) == Decimal("60.00")
    assert cards.settled(account) == Decimal("100.00")


def test_declines_for_funds_and_for_an_unknown_card(cards: CardProgram) -> None:
    """Above available(PENDING): 51, nothing held. A PAN no card has: 14."""
    account, pan, _card = cards.cardholder(Decimal("30.00"))

    async def scenario() -> tuple[Message, Message]:
        client = await cards.connect("ascii")
        try:
            return (await client.send(purchase(pan, "30.01").authorization()),
                    await client.send(purchase(new_pan(), "1.00").authorization()))
        finally:
            await client.close()

    funds, unknown = _run(scenario())  # type: ignore[misc]
    assert (funds.mti, funds.get(39), funds.get(38)) == ("0110", "51", None)
    assert (unknown.mti, unknown.get(39)) == ("0110", "14")
    assert cards.available(account) == Decimal("30.00")


def test_a_repeat_of_each_message_type_books_nothing_new(cards: CardProgram) -> None:
    """0101, 0121, 0401 and 0221 repeat the first answer; holds and settlements happen once."""
    account, pan, _card = cards.cardholder(Decimal("100.00"))
    bought = purchase(pan, "20.00")
    advised = purchase(pan, "5.00")

    async def scenario() -> list[Message]:
        client = await cards.connect("ascii")
        try:
            answers = [await client.send(bought.authorization()),
                       await client.send(bought.authorization(repeat=True)),
                       await client.send(advised.advice()),
                       await client.send(advised.advice(repeat=True))]
            reversal_stan = _stan()
            answers += [await client.send(bought.reversal(reversal_stan, Decimal("15.00"))),
                        await client.send(bought.reversal(reversal_stan, Decimal("15.00"),
                                                          repeat=True))]
            clearing_stan = _stan()
            answers += [await client.send(bought.clearing(clearing_stan, Decimal("15.00"))),
                        await client.send(bought.clearing(clearing_stan, Decimal("15.00"),
                                                          repeat=True))]
            return answers
        finally:
            await client.close()

    answers = _run(scenario())
    assert isinstance(answers, list)
    assert [a.mti for a in answers] == ["0110", "0110", "0130", "0130", "0410", "0410",
                                        "0230", "0230"]
    assert [a.get(39) for a in answers] == ["00"] * 8
    assert answers[0].get(38) == answers[1].get(38)
    # 100 - 15 settled (the hold released in full by the clearing) - 5 held by the advice
    assert cards.settled(account) == Decimal("85.00")
    assert cards.available(account) == Decimal("80.00")


def test_a_partial_reversal_then_a_clearing_above_the_authorized_amount(
        cards: CardProgram) -> None:
    """0400 with field 95 keeps only the replacement amount held; an 0220 above it releases
    what is held and settles the larger amount, in one transaction."""
    account, pan, _card = cards.cardholder(Decimal("100.00"))
    bought = purchase(pan, "50.00")

    async def scenario() -> list[Message]:
        client = await cards.connect("binary")
        try:
            first = await client.send(bought.authorization())
            partial = await client.send(bought.reversal(_stan(), Decimal("30.00")))
            return [first, partial]
        finally:
            await client.close()

    first, partial = _run(scenario())  # type: ignore[misc]
    assert (first.get(39), partial.mti, partial.get(39)) == ("00", "0410", "00")
    assert cards.available(account) == Decimal("70.00")
    cleared = _run(_one(cards, "binary", bought.clearing(_stan(), Decimal("36.50"))))
    assert isinstance(cleared, Message)
    assert (cleared.mti, cleared.get(39)) == ("0230", "00")
    assert cards.settled(account) == Decimal("63.50")
    assert cards.available(account) == Decimal("63.50")


def test_a_full_reversal_releases_the_hold(cards: CardProgram) -> None:
    """0400 without field 95 (and without card data) releases everything held."""
    account, pan, _card = cards.cardholder(Decimal("10.00"))
    bought = purchase(pan, "10.00")
    assert _run(_one(cards, "ascii", bought.authorization())).get(39) == "00"  # type: ignore[attr-defined]
    assert cards.available(account) == Decimal("0.00")
    released = _run(_one(cards, "ascii", bought.reversal(_stan())))
    assert isinstance(released, Message)
    assert (released.mti, released.get(39)) == ("0410", "00")
    assert cards.available(account) == Decimal("10.00")


def test_a_stand_in_advice_is_booked_past_the_limit(cards: CardProgram) -> None:
    """0120: the network already approved, so the hold is booked even above the funds, and
    flagged: standIn in its metadata, and the breached limit as a warning of its result."""
    account, pan, _card = cards.cardholder(Decimal("10.00"))
    advice = purchase(pan, "25.00").advice()
    answer = _run(_one(cards, "ascii", advice))
    assert isinstance(answer, Message)
    assert (answer.mti, answer.get(39)) == ("0130", "00")
    assert cards.available(account) == Decimal("-15.00")
    hold = str(hold_id(message_key(advice)))
    held = [mapping.posted_from(codec().decode("transaction", m.value()))
            for m in cards.ledger.read(cards.ledger.topics.transactions)]
    [posted] = [p for p in held if str(p.transaction.transaction_id) == hold]
    assert posted.transaction.metadata == {"cardholder": str(account), "standIn": True}
    [result] = [r for r in cards.ledger.results() if r["transaction_id"] == hold]
    assert result["warnings"], "the breached no-overdraft limit is recorded with the result"


def test_a_clearing_without_an_authorization_is_force_posted(cards: CardProgram) -> None:
    """0220 naming no held authorization settles its amount, releasing nothing."""
    account, pan, _card = cards.cardholder(Decimal("10.00"))
    forced = purchase(pan, "4.00")
    answer = _run(_one(cards, "ascii", forced.clearing(forced.stan, Decimal("4.00"))))
    assert isinstance(answer, Message)
    assert (answer.mti, answer.get(39)) == ("0230", "00")
    assert cards.settled(account) == Decimal("6.00")
    assert cards.available(account) == Decimal("6.00")


def test_bad_frames_missing_fields_and_bad_dates_get_30_and_the_connection_goes_on(
        cards: CardProgram) -> None:
    """Each bad message is answered with 30 where its MTI can be read; an echo afterwards on
    the same connection still gets its 0810."""
    account, pan, _card = cards.cardholder(Decimal("10.00"))

    async def scenario() -> list[Message]:
        client = await cards.connect("ascii")
        try:
            missing = purchase(pan, "1.00").authorization()
            no_terminal = Message(missing.mti, {k: v for k, v in missing.fields.items()
                                                if k != "41"})
            dated = purchase(pan, "1.00").authorization()
            bad_date = Message(dated.mti, {**dated.fields, "7": "1345996199"})
            unexpected = purchase(pan, "1.00").authorization()
            extra = Message(unexpected.mti, {**unexpected.fields, "38": "ABC123"})
            answers = [await client.send(no_terminal), await client.send(bad_date),
                       await client.send(extra)]
            # A frame whose MTI reads but whose bitmap promises more than it carries.
            broken = purchase(pan, "1.00")
            truncated = encode(broken.authorization(), "ascii")[:40]
            answers.append(await client.send_raw(truncated, None, None))
            answers.append(await client.send(echo(_stan(), datetime.now(UTC))))
            return answers
        finally:
            await client.close()

    answers = _run(scenario())
    assert isinstance(answers, list)
    assert [(a.mti, a.get(39)) for a in answers] == [
        ("0110", "30"), ("0110", "30"), ("0110", "30"), ("0110", "30"), ("0810", "00")]
    assert cards.available(account) == Decimal("10.00")


def test_a_thousand_concurrent_authorizations_on_ten_cards_never_overdraw(
        cards: CardProgram, kafka_bootstrap: str) -> None:
    """1,000 authorizations at once over 4 connections: each is answered, approved plus
    declined is what was sent, no card's available balance ends below zero, the approved
    amounts are exactly what is held, and the audit finds nothing."""
    holders = [cards.cardholder(Decimal("50.00")) for _ in range(10)]
    amounts = [Decimal(random.randrange(100, 1500)) / 100 for _ in range(1000)]
    bought = [(holders[i % 10], purchase(holders[i % 10][1], str(amount)))
              for i, amount in enumerate(amounts)]

    async def scenario() -> list[Message]:
        clients: list[Iso8583Client] = [await cards.connect(SPECS[i % 2]) for i in range(4)]
        try:
            return list(await asyncio.gather(*[
                clients[i % 4].send(p.authorization(), timeout_s=120)
                for i, (_holder, p) in enumerate(bought)]))
        finally:
            for client in clients:
                await client.close()

    answers = _run(scenario())
    assert isinstance(answers, list)
    codes = [a.get(39) for a in answers]
    approved = [p for (_h, p), code in zip(bought, codes, strict=True) if code == "00"]
    declined = [code for code in codes if code == "51"]
    assert len(approved) + len(declined) == len(bought) == 1000
    assert declined, "the limits were never reached: the test proves nothing"
    for account, pan, _card in holders:
        held = sum((p.amount for p in approved if p.pan == pan), Decimal(0))
        available = cards.available(account)
        assert available >= 0
        assert available == Decimal("50.00") - held
    report = run_audit(kafka_bootstrap, cards.ledger.topics, cards.ledger.topics.partitions)
    assert report.violations == [], report.violations


def test_no_pan_reaches_a_topic_or_a_log(cards: CardProgram,
                                         caplog: pytest.LogCaptureFixture) -> None:
    """After an approval, a refusal and an undecodable frame that all carry the PAN, no
    record of any of the ledger's topics and no log line holds it, in ASCII or in BCD."""
    caplog.set_level(logging.DEBUG)
    _account, pan, _card = cards.cardholder(Decimal("10.00"))

    async def scenario() -> None:
        client = await cards.connect("ascii")
        try:
            assert (await client.send(purchase(pan, "1.00").authorization())).get(39) == "00"
            refused = purchase(pan, "1.00").authorization()
            extra = Message(refused.mti, {**refused.fields, "38": "ABC123"})
            assert (await client.send(extra)).get(39) == "30"
            broken = encode(purchase(pan, "1.00").authorization(), "ascii")[:60]
            assert (await client.send_raw(broken, None, None)).get(39) == "30"
        finally:
            await client.close()

    _run(scenario())
    cards.ledger.clients[0].wait_converged()
    forms = (pan.encode(), bytes.fromhex(pan))
    for spec in cards.ledger.topics.specs():
        for message in cards.ledger.read(spec.name):
            for form in forms:
                assert form not in (message.value() or b""), spec.name
                assert form not in (message.key() or b""), spec.name
    assert caplog.records, "nothing was logged: the test proves nothing"
    assert pan not in caplog.text
    assert pan[-4:] in caplog.text or "****" in caplog.text


def test_a_configured_program_books_in_its_own_journal_and_settlement_account(
        cards: CardProgram) -> None:
    """A server given an iso8583.createConfig posts the hold in the configuration's journal,
    against its settlement account, in its message variant."""
    client = cards.ledger.clients[0]
    journal = Journal.model_validate({"journalId": str(uuid.uuid4()), "name": "Cards journal",
                                      "code": f"CARDS.{uuid.uuid4().hex[:6]}"})
    settlement = Account.model_validate({
        "accountId": str(uuid.uuid4()), "code": f"SETTLE.{uuid.uuid4().hex[:6]}",
        "name": "Program settlement", "config": {"enableConcurrentPosting": True}})
    assert client.create(journal).ok and client.create(settlement).ok
    config = Iso8583Config.model_validate({
        "configId": str(uuid.uuid4()), "journalId": str(journal.journal_id),
        "settlementAccountId": str(settlement.account_id), "timeZone": "America/New_York",
        "processor": "UNSPECIFIED", "processorSpec": {"variant": "binary"}})
    assert client.create(config).ok
    # Funds in the program's journal: the limit judges available(PENDING) per journal.
    deposit = card_lifecycle.DEPOSIT.model_dump(by_alias=True, mode="json")
    fund = TranCode.model_validate({
        **deposit, "tranCodeId": str(uuid.uuid4()), "code": f"FUND_{uuid.uuid4().hex[:6]}",
        "transaction": {"journalId": f"uuid('{journal.journal_id}')"}})
    assert client.create(fund).ok
    account, pan, _card = cards.cardholder(Decimal("0.00"))
    funded = client.post(uuid.uuid4(), fund.code, {"account": str(account), "amount": "20.00"},
                         account)
    assert funded.ok, funded
    server = Iso8583Server(cards.runtime.engine, "binary",  # type: ignore[union-attr]
                           config=config)
    cards.on_loop(server.start())

    async def authorize() -> Message:
        network = Iso8583Client("binary")
        await network.connect("127.0.0.1", server.port)
        try:
            return await network.send(purchase(pan, "7.00").authorization())
        finally:
            await network.close()

    try:
        answer = _run(authorize())
    finally:
        cards.on_loop(server.stop())
    assert isinstance(answer, Message) and answer.get(39) == "00"
    client.wait_converged()
    held = [b for b in client.balances(account) if b.journal_id == journal.journal_id]
    assert [b.pending.normal_balance for b in held] == [Decimal("-7.00")]
    owed = [b for b in client.balances(settlement.account_id)
            if b.journal_id == journal.journal_id]
    assert [b.pending.normal_balance for b in owed] == [Decimal("7.00")]


def test_two_partial_clearings_release_the_hold_in_steps(cards: CardProgram) -> None:
    """A split shipment: each 0220 below what is held releases its own amount and settles
    it, so the rest stays held until the second clearing."""
    account, pan, _card = cards.cardholder(Decimal("100.00"))
    bought = purchase(pan, "50.00")

    async def scenario() -> list[Message]:
        client = await cards.connect("ascii")
        try:
            answers = [await client.send(bought.authorization()),
                       await client.send(bought.clearing(_stan(), Decimal("20.00")))]
            return answers
        finally:
            await client.close()

    first = _run(scenario())
    assert isinstance(first, list) and [a.get(39) for a in first] == ["00", "00"]
    assert (cards.settled(account), cards.available(account)) == (Decimal("80.00"),
                                                                  Decimal("50.00"))
    second = _run(_one(cards, "ascii", bought.clearing(_stan(), Decimal("30.00"))))
    assert isinstance(second, Message) and second.get(39) == "00"
    assert (cards.settled(account), cards.available(account)) == (Decimal("50.00"),
                                                                  Decimal("50.00"))


def test_a_stand_in_purchase_is_reversed_and_cleared_through_its_advice(
        cards: CardProgram) -> None:
    """Field 90 of a stand-in purchase's reversal and clearing names its 0120: they find the
    advice's hold, release it and settle."""
    account, pan, _card = cards.cardholder(Decimal("10.00"))
    bought = replace(purchase(pan, "8.00"), stand_in=True)

    async def scenario() -> list[Message]:
        client = await cards.connect("ascii")
        try:
            return [await client.send(bought.advice()),
                    await client.send(bought.reversal(_stan(), Decimal("6.00"))),
                    await client.send(bought.clearing(_stan(), Decimal("6.00")))]
        finally:
            await client.close()

    answers = _run(scenario())
    assert isinstance(answers, list) and [a.get(39) for a in answers] == ["00", "00", "00"]
    assert (cards.settled(account), cards.available(account)) == (Decimal("4.00"),
                                                                  Decimal("4.00"))
