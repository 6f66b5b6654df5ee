"""``ledger ach setup | workflows run | workflow execute``: the ACH origination workflows.

``execute`` watches the ledger's results before it sends, so that it can answer with the
ledger's decision on every posting the task sent, not only with the workflow's.
"""

from __future__ import annotations

import argparse
import json
import socket
import uuid
from typing import Any

from confluent_kafka.admin import AdminClient

from connectors.ach.client import AchClient
from connectors.ach.entities import create_entities
from connectors.ach.topics import AchTopics
from connectors.ach.workflow_processor import WorkflowProcessorConfig, open_workflow_processor
from ledger_cli import (
    ach_configuration_commands,
    ach_file_commands,
    ach_generate_commands,
    ach_reconcile_commands,
    ach_return_commands,
)
from ledger_cli.common import add_kafka_options, client
from ledger_core.ach_workflows import Task, Workflow
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.log_format import LOG_FORMATS, configure_logging
from streams.settings import resolve_bootstrap
from streams.topics import Topics, topic_partitions


def register(commands: Any) -> None:
    """Add the ``ach`` command group."""
    group = commands.add_parser("ach", help="ACH origination (ODFI) workflows")
    sub = group.add_subparsers(dest="ach_command", required=True)

    setup = sub.add_parser("setup", help="create the ACH journal, accounts and tran codes")
    add_kafka_options(setup)
    setup.set_defaults(handler=_setup)

    workflows = sub.add_parser("workflows", help="the workflow processor")
    workflows_sub = workflows.add_subparsers(dest="workflows_command", required=True)
    run = workflows_sub.add_parser("run", help="decide workflow commands until SIGTERM")
    add_kafka_options(run)
    run.add_argument("--instance-id", default=socket.gethostname(),
                     help="stable id of this process: its transactional id and group member id")
    run.add_argument("--partitions", type=int, default=None,
                     help="partitions of the ACH topics when they are created (default: as "
                          "many as the existing ones have, else as the ledger's commands)")
    run.add_argument("--replication-factor", type=int, default=None)
    run.add_argument("--batch-max", type=int, default=200, help="commands per transaction")
    run.add_argument("--log-format", choices=LOG_FORMATS, default="text")
    run.set_defaults(handler=_run)

    workflow = sub.add_parser("workflow", help="workflow executions")
    workflow_sub = workflow.add_subparsers(dest="workflow_command", required=True)
    execute = workflow_sub.add_parser("execute", help="run a task of an execution and wait "
                                                      "for the workflow's and the ledger's answer")
    add_kafka_options(execute)
    execute.add_argument("--execution-id", required=True, help="the execution (a UUID)")
    execute.add_argument("--code", required=True, choices=[w.value for w in Workflow])
    execute.add_argument("--task", required=True, choices=[t.value for t in Task])
    execute.add_argument("--params", default="{}",
                         help="the task's params as a JSON object (amounts as strings)")
    execute.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    execute.set_defaults(handler=_execute, render=_render_execute)

    ach_configuration_commands.register(sub)
    ach_generate_commands.register(sub)
    ach_file_commands.register(sub)
    ach_return_commands.register(sub)
    ach_reconcile_commands.register(sub)


def _setup(args: argparse.Namespace) -> dict[str, Any]:
    ledger = client(args)
    try:
        return create_entities(ledger)
    finally:
        ledger.close()


def _run(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging(args.log_format)
    bootstrap = resolve_bootstrap(args.bootstrap_servers)
    admin = AdminClient(kafka_config(bootstrap))
    partitions = (args.partitions
                  or topic_partitions(admin, AchTopics(args.topic_prefix).commands)
                  or topic_partitions(admin, Topics(prefix=args.topic_prefix).commands))
    if partitions is None:
        raise LedgerError(f"topic {Topics(prefix=args.topic_prefix).commands} does not exist: "
                          "start a processor (`ledger processor run`) first")
    config = WorkflowProcessorConfig(bootstrap=bootstrap,
                                     topics=AchTopics(args.topic_prefix, partitions),
                                     instance_id=args.instance_id, batch_max=args.batch_max,
                                     replication=args.replication_factor)
    open_workflow_processor(config).run()
    return {"stopped": args.instance_id}


def _execute(args: argparse.Namespace) -> dict[str, Any]:
    try:
        execution_id = uuid.UUID(args.execution_id)
        params = json.loads(args.params)
    except ValueError as exc:
        raise LedgerError(f"--execution-id is a UUID and --params a JSON object: {exc}"
                          ) from exc
    if not isinstance(params, dict):
        raise LedgerError("--params must be a JSON object")
    ledger = client(args)
    ach = AchClient(resolve_bootstrap(args.bootstrap_servers), args.topic_prefix)
    try:
        result = ach.execute(execution_id, Workflow(args.code), Task(args.task), params,
                             args.timeout)
        postings = ledger.wait(result.posting_command_ids, args.timeout)
    finally:
        ach.close()
        ledger.close()
    return {"workflow": result.to_json(),
            "ledger": [postings[command_id].to_json()
                       for command_id in result.posting_command_ids]}


def _render_execute(answer: dict[str, Any]) -> str:
    result = answer["workflow"]
    head = f"{result['status']} {result.get('workflow', '')} {result.get('task', '')}".strip()
    if result["status"] == "REFUSED":
        lines = [f"{head} {result['code']}: {result['message']}"]
    else:
        lines = [f"{head}: execution {result['executionId']} is {result['state']}"]
    lines += [f"ledger: {posting['status']} {posting['transactionId']}"
              + (f" {posting['code']}: {posting['message']}" if "code" in posting else "")
              for posting in answer["ledger"]]
    return "\n".join(lines)
