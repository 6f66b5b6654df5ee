"""The ACH runtime through the GraphQL API, in Twisp's shape: ``ach.createConfiguration``,
``workflow.execute``, ``ach.generateFile`` and the file's status, statistics and text,
``ach.processFile`` with a signed decisioning webhook."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.ach.configurations import create_configuration
from connectors.graphql_api import start_server
from ledger_core import ach_tran_codes as ach
from tests.ach.conftest import AchLedger, create_params
from tests.ach.rdfi_support import DecisioningWebhook, Forward, forward_file, new_secret

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
    assert refused["errors"][0]["extensions"]["rule"] == "ach_transition_invalid"
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


PROCESS = """
mutation Process($input: ACHProcessFileInput!) {
  ach { processFile(input: $input) {
    fileId status outcomes posted alreadyDone file { status statistics { numEntries } } } }
}"""


def test_a_received_file_through_process_file_settles_and_is_idempotent(
        ach_ledger: AchLedger) -> None:
    """``ach.processFile`` runs the RDFI processor: a credit settles to the account the
    signed webhook names, the same file again posts nothing, and an instance without the
    webhook's secret refuses it."""
    secret = new_secret()
    customer = ach_ledger.customer()
    webhook = DecisioningWebhook(secret, str(customer))
    webhook.answers["000111"] = {"action": "SETTLE", "accountId": str(customer)}
    bootstrap, topics = ach_ledger.ledger.bootstrap, ach_ledger.client.topics
    config_id = str(uuid.uuid4())
    create_configuration(bootstrap, topics, ach.CONFIGURATION.model_dump(
        mode="json", by_alias=True, exclude={"version"}) | {
        "configId": config_id, "decisioningUrl": webhook.url,
        "decisioningTimeoutSeconds": "2"})
    content = forward_file([Forward(22, 2500, "000111")], modifier="G",
                           effective=date(2025, 11, 14)).decode()
    server = start_server(bootstrap, ach_ledger.ledger.topics,
                          ach_webhook_key=webhook.key)
    api = Api(server.url)
    before = ach_ledger.available(customer)
    try:
        variables = {"input": {"configId": config_id, "content": content, "name": "in.ach"}}
        first = api.data(PROCESS, variables)["ach"]["processFile"]
        assert (first["status"], first["posted"], first["file"]["status"]) == (
            "COMPLETED", 1, "COMPLETED")
        assert first["file"]["statistics"]["numEntries"] == 1
        again = api.data(PROCESS, variables)["ach"]["processFile"]
        assert (again["fileId"], again["posted"]) == (first["fileId"], 0)
        assert again["alreadyDone"] == 1
    finally:
        api.http.close()
        server.stop()
        webhook.close()
    assert ach_ledger.available(customer) == tuple(b + Decimal("25.00") for b in before)
    assert len(webhook.requests) == 1

    unsigned = start_server(bootstrap, ach_ledger.ledger.topics)
    api = Api(unsigned.url)
    try:
        refused = api.send(PROCESS, variables)
        assert refused["errors"][0]["extensions"]["rule"] == "ach_decisioning_not_configured"
    finally:
        api.http.close()
        unsigned.stop()
