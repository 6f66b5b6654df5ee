"""Transaction-consistent reads: no response shows a transaction on some of its accounts and
not on the others, and a posting acknowledged to a client is in every later request, on every
account it touched, without waiting for the processors to apply its legs."""

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.chart import BALANCE, POST, Chart, open_chart, open_customer
from tests.api.conftest import LiveApi

WRITERS = 4
POSTINGS_PER_WRITER = 25


@pytest.fixture(scope="module")
def chart(shared_api: LiveApi) -> Chart:
    """The module's chart of accounts."""
    return open_chart(shared_api)


def totals_query(accounts: list[uuid.UUID]) -> str:
    """One request reading the settled debit and credit totals of every account."""
    fields = "\n".join(
        f'  a{n}: account(id: "{account}") {{ balance {{ settled {{ drBalance {{ units }} '
        f"crBalance {{ units }} }} }} }}" for n, account in enumerate(accounts))
    return f"query Totals {{\n{fields}\n}}"


def debits_and_credits(data: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """The sums of the settled debit and credit totals over the accounts of one response."""
    debits = credits = Decimal(0)
    for account in data.values():
        balance = account["balance"]
        if balance is not None:
            debits += Decimal(balance["settled"]["drBalance"]["units"])
            credits += Decimal(balance["settled"]["crBalance"]["units"])
    return debits, credits


def test_every_response_balances_while_postings_arrive(shared_api: LiveApi, chart: Chart
                                                       ) -> None:
    """Writers post deposits and withdrawals with fees, customers on partitions other than
    the house's, while a reader reads every account's totals in one request, again and
    again: in each response the debits equal the credits."""
    customers = [open_customer(shared_api, chart) for _ in range(WRITERS)]
    query = totals_query([chart.house, chart.fee_account, *customers])
    writing = True

    async def writer(http: httpx.AsyncClient, customer: uuid.UUID) -> None:
        for step in range(POSTINGS_PER_WRITER):
            code = chart.deposit if step % 2 == 0 else chart.withdraw
            params = {"account": str(customer), "amount": "2.00"}
            if code == chart.withdraw:
                params["fee"] = "0.25"
            answer = (await http.post(shared_api.server.url, json={"query": POST, "variables": {
                "id": str(uuid.uuid4()), "code": code, "params": params}})).json()
            assert "errors" not in answer, answer

    async def reader(http: httpx.AsyncClient) -> list[tuple[Decimal, Decimal]]:
        seen = []
        while writing:
            answer = (await http.post(shared_api.server.url, json={"query": query})).json()
            assert "errors" not in answer, answer
            seen.append(debits_and_credits(answer["data"]))
        return seen

    async def run() -> list[tuple[Decimal, Decimal]]:
        nonlocal writing
        async with httpx.AsyncClient(timeout=60) as http:
            reading = asyncio.create_task(reader(http))
            await asyncio.gather(*(writer(http, customer) for customer in customers))
            writing = False
            return await reading

    seen = asyncio.run(run())
    unbalanced = [(debits, credits) for debits, credits in seen if debits != credits]
    assert not unbalanced, f"{len(unbalanced)} of {len(seen)} responses: {unbalanced[:5]}"
    # the reader raced the writers: it saw the totals move
    assert len({debits for debits, _credits in seen}) > 2, seen
    final = debits_and_credits(shared_api.data(query))
    postings = WRITERS * POSTINGS_PER_WRITER
    assert final[0] == final[1] >= Decimal("2.00") * postings


def test_a_posting_is_in_the_next_request_on_every_account(shared_api: LiveApi, chart: Chart
                                                           ) -> None:
    """After each acknowledged deposit, a new plain query shows it on the customer and on
    the house account, which another partition owns: nothing waits for the house's leg."""
    customer = open_customer(shared_api, chart, remote_house=True)

    def settled(account: uuid.UUID) -> Decimal:
        balance = shared_api.data(BALANCE, {"id": str(account)})["account"]["balance"]
        return Decimal(0) if balance is None else Decimal(
            balance["settled"]["normalBalance"]["units"])

    house_before = settled(chart.house)
    for step in range(1, 11):
        answer = shared_api.send(POST, {"id": str(uuid.uuid4()), "code": chart.deposit,
                                        "params": {"account": str(customer), "amount": "1.00"}})
        assert "errors" not in answer, answer
        assert settled(customer) == step
        assert settled(chart.house) == house_before + step
