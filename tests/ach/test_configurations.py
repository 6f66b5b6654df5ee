"""ACH configurations as versioned entities: a change is a new version, the same body again
is none, an execution records the version it was created under, and a configuration
created just before a CREATE is found by the workflow processor."""

from __future__ import annotations

import json
import uuid

import pytest

from connectors.ach.configurations import (
    ConfigurationError,
    create_configuration,
    read_versions,
)
from ledger_cli.main import main
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import Task, Workflow
from tests.ach.conftest import AchLedger, accepted, create_params


def _body(**changes: object) -> dict[str, object]:
    body = ach.CONFIGURATION.model_dump(mode="json", by_alias=True, exclude={"version"})
    return body | changes


def test_a_change_is_a_new_version_and_executions_record_theirs(
        ach_ledger: AchLedger, capsys: pytest.CaptureFixture[str]) -> None:
    bootstrap, topics = ach_ledger.ledger.bootstrap, ach_ledger.client.topics
    config_id = str(uuid.uuid4())
    kafka = ["--bootstrap-servers", bootstrap, "--topic-prefix", topics.prefix, "--json"]
    assert main(["ach", "configuration", "create", *kafka,
                 "--config", json.dumps(_body(configId=config_id))]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["configuration"]["version"], first["created"]) == (1, True)

    customer = ach_ledger.customer()
    under_first = uuid.uuid4()
    accepted(ach_ledger.execute(under_first, Workflow.PUSH, Task.CREATE,
                                create_params(customer) | {"configId": config_id}))

    changed, new = create_configuration(bootstrap, topics,
                                        _body(configId=config_id, timeZone="America/Chicago"))
    assert (changed.version, new) == (2, True)
    same, new = create_configuration(bootstrap, topics,
                                     _body(configId=config_id, timeZone="America/Chicago"))
    assert (same.version, new) == (2, False)
    under_second = uuid.uuid4()
    second = accepted(ach_ledger.execute(under_second, Workflow.PUSH, Task.CREATE,
                                         create_params(customer) | {"configId": config_id}))
    assert second.state is not None

    versions = read_versions(bootstrap, topics)
    assert sorted(v for c, v in versions if str(c) == config_id) == [1, 2]
    assert versions[(uuid.UUID(config_id), 1)].time_zone == "UTC"
    executions = {e.execution_id: e for e in ach_ledger.executions()}
    assert executions[under_first].config_version == 1
    assert executions[under_second].config_version == 2

    assert main(["ach", "configuration", "show", *kafka, "--config-id", config_id]) == 0
    shown = json.loads(capsys.readouterr().out)["configurations"]
    assert [(c["version"], c["timeZone"]) for c in shown] == [(1, "UTC"),
                                                              (2, "America/Chicago")]


@pytest.mark.parametrize(("changes", "field"), [
    ({"timeZone": "Mars/Olympus"}, "timeZone"),
    ({"odfi": {"immediateDestination": "12"}}, "odfi"),
    ({"version": 7}, "version"),
    ({"settlementAccountId": "not-a-uuid"}, "settlementAccountId"),
])
def test_an_invalid_configuration_is_refused_with_its_rule(
        ach_ledger: AchLedger, changes: dict[str, object], field: str) -> None:
    bootstrap, topics = ach_ledger.ledger.bootstrap, ach_ledger.client.topics
    config_id = uuid.uuid4()
    with pytest.raises(ConfigurationError) as refused:
        create_configuration(bootstrap, topics, _body(configId=str(config_id), **changes))
    assert refused.value.code == "ach_configuration_invalid"
    assert field in str(refused.value)
    assert all(c != config_id for c, _version in read_versions(bootstrap, topics))
