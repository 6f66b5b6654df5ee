"""The ACH runtime through the GraphQL API, in Twisp's shape: ``ach.createConfiguration``,
``workflow.execute``, ``ach.generateFile`` and the file's status, statistics and text."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.graphql_api import start_server
from ledger_core import ach_tran_codes as ach
from tests.ach.conftest import AchLedger, create_params

EXECUTE = """
mutation Execute($input: WorkflowExecuteInput!) {
  workflow { execute(input: $input) {
    executionId code task status output { state } transactionIds traceNumber } }
}"""

CONFIGURE = """
mutation Configure($input: ACHConfigurationInput!) {
  ach { createConfiguration(input: $input) {
    configId version timeZone odfiHeaderConfiguration { immediateOrigin } } }
}"""

GENERATE = """
mutation Generate($configId: UUID!) {
  ach { generateFile(input: {configId: $configId}) {
    generated held file { fileId fileType status configVersion
      statistics { batches numEntries totalDebitAmount totalCreditAmount } } } }
}"""

FILE = """
query File($id: UUID!) {
  ach { file(id: $id) { status statistics { numEntries } content } }
}"""


class Api:
    """GraphQL over HTTP to an API instance on the ACH ledger."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=90)

    def send(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(self.url, json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = self.send(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture(scope="module")
def api(ach_ledger: AchLedger) -> Iterator[Api]:
    server = start_server(ach_ledger.ledger.bootstrap, ach_ledger.ledger.topics)
    client = Api(server.url)
    try:
        yield client
    finally:
        client.http.close()
        server.stop()


def _configuration(config_id: str, time_zone: str = "UTC") -> dict[str, Any]:
    body = ach.CONFIGURATION
    odfi = body.odfi
    return {"configId": config_id, "journalId": str(body.journal_id),
            "settlementAccountId": str(body.settlement_account_id),
            "suspenseAccountId": str(body.suspense_account_id),
            "exceptionAccountId": str(body.exception_account_id),
            "feeAccountId": str(body.fee_account_id),
            "odfiHeaderConfiguration": {
                "immediateDestination": odfi.immediate_destination,
                "immediateOrigin": odfi.immediate_origin,
                "immediateOriginName": odfi.immediate_origin_name,
                "companyIdentification": odfi.company_identification},
            "timeZone": time_zone}


def test_a_configuration_a_push_through_submit_and_its_generated_file(
        ach_ledger: AchLedger, api: Api) -> None:
    config_id = str(uuid.uuid4())
    first = api.data(CONFIGURE, {"input": _configuration(config_id)})
    assert first["ach"]["createConfiguration"]["version"] == 1
    second = api.data(CONFIGURE, {"input": _configuration(config_id, "America/New_York")})
    assert (second["ach"]["createConfiguration"]["version"],
            second["ach"]["createConfiguration"]["timeZone"]) == (2, "America/New_York")

    customer = ach_ledger.customer()
    execution_id = str(uuid.uuid4())
    params = create_params(customer, amount="42.00") | {"configId": config_id}
    created = api.data(EXECUTE, {"input": {"executionId": execution_id, "code": "ACH_PUSH",
                                           "task": "CREATE", "params": params}})
    assert created["workflow"]["execute"]["output"]["state"] == "CREATED"
    submitted = api.data(EXECUTE, {"input": {"executionId": execution_id, "code": "ACH_PUSH",
                                             "task": "SUBMIT", "params": {}}})["workflow"]
    assert submitted["execute"]["output"]["state"] == "SUBMITTED"
    assert len(submitted["execute"]["transactionIds"]) == 2

    refused = api.send(EXECUTE, {"input": {"executionId": execution_id, "code": "ACH_PUSH",
                                           "task": "CANCEL", "params": {}}})
    assert refused["errors"][0]["extensions"]["code"] == "ach_transition_invalid"
    assert "CANCEL after SUBMIT" in refused["errors"][0]["message"]

    generated = api.data(GENERATE, {"configId": config_id})["ach"]["generateFile"]
    assert (generated["generated"], generated["held"]) == (True, 0)
    made = generated["file"]
    assert (made["fileType"], made["status"], made["configVersion"]) == ("ODFI", "COMPLETED", 2)
    assert made["statistics"]["numEntries"] == 1
    assert Decimal(made["statistics"]["totalCreditAmount"]) == Decimal("42.00")
    assert Decimal(made["statistics"]["totalDebitAmount"]) == 0

    shown = api.data(FILE, {"id": made["fileId"]})["ach"]["file"]
    assert shown["status"] == "COMPLETED"
    lines = shown["content"].splitlines()
    assert lines[0].startswith("101") and len(lines) % 10 == 0
    assert sum(line.startswith("6") for line in lines) == 1

    traced = api.data(EXECUTE, {"input": {"executionId": execution_id, "code": "ACH_PUSH",
                                          "task": "SUBMIT", "params": {}}})["workflow"]
    assert traced["execute"]["status"] == "REPEATED"
    assert traced["execute"]["traceNumber"] is not None

    empty = api.data(GENERATE, {"configId": config_id})["ach"]["generateFile"]
    assert (empty["generated"], empty["file"]) == (False, None)
