"""A result that does not arrive in time is a timeout error; the command is not lost."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.chart import BALANCE, POST, Chart, open_chart, open_customer
from tests.api.conftest import LiveApi, fresh_ledger, live_api


@pytest.fixture
def impatient_api(kafka_bootstrap: str, tmp_path: Path) -> Iterator[LiveApi]:
    """An API that waits 3 seconds for a result."""
    yield from live_api(fresh_ledger(kafka_bootstrap, tmp_path), result_timeout_s=3.0)


def test_a_timeout_then_a_retry_with_the_same_id_posts_once(impatient_api: LiveApi) -> None:
    """With the processor down: command_timeout. Once it is back, the first command posts and
    the retry is a duplicate: the balance holds the deposit once."""
    api = impatient_api
    chart: Chart = open_chart(api)
    customer = open_customer(api, chart)
    [processor] = api.ledger.processors
    processor.stop()
    transaction_id = str(uuid.uuid4())
    variables = {"id": transaction_id, "code": chart.deposit,
                 "params": {"account": str(customer), "amount": "25.00"}}
    timeout = api.error(POST, variables)
    assert timeout["extensions"] == {"code": "INTERRUPTED", "rule": "command_timeout",
                                     "retriableError": True}
    assert "not lost" in timeout["message"]

    processor.start()
    retry = api.error(POST, variables)
    assert retry["extensions"]["rule"] == "transaction_id_duplicate"
    balance = api.data(BALANCE, {"id": str(customer)})["account"]["balance"]
    assert balance["settled"]["normalBalance"]["units"] == "25.00"
    posted = api.data("query($id: UUID!) { transaction(id: $id) { transactionId } }",
                      {"id": transaction_id})
    assert posted == {"transaction": {"transactionId": transaction_id}}
