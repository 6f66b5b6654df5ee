"""The ``ach`` and ``workflow`` namespaces of the schema, in Twisp's shape:
``ach { createConfiguration generateFile processFile }``, ``ach { configuration file files }``
and ``workflow { execute }``.

Each resolver calls the same implementation as its ``ledger ach`` command
(``create_configuration``, ``generate_file``, ``process_file``, ``AchClient.execute``); the
blocking ones in a worker thread, since they wait on Kafka. A workflow task is answered
once the ledger has decided its posting; a refusal (the workflow's or the ledger's) is an
error with its rule's code.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

from connectors.ach.configurations import (
    ConfigurationError,
    create_configuration,
    read_configurations,
    read_versions,
)
from connectors.ach.file_generator import generate_file, written_text
from connectors.ach.files import AchFileRecord, read_files
from connectors.ach.rdfi_processor import FileRefusedError, RdfiSettings, process_file
from connectors.ach.records import ResultStatus
from connectors.graphql_api.ach_gateway import AchGateway
from connectors.graphql_api.errors import ApiError
from connectors.graphql_api.objects import Info, described, request
from connectors.graphql_api.scalars import JSON
from ledger_core.ach_tran_codes import AchConfiguration as AchConfigurationModel
from ledger_core.ach_workflows import Task, Workflow
from streams.errors import CommandTimeoutError, LedgerError

__all__ = ["AchMutation", "AchQuery", "WorkflowMutation"]


async def _call(work: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking ACH call in a worker thread; its expected failures become API errors."""
    try:
        return await asyncio.to_thread(work, *args, **kwargs)
    except ConfigurationError as error:
        raise ApiError(error.code, str(error)) from None
    except CommandTimeoutError as error:
        raise ApiError("command_timeout", str(error), retriable=True) from None
    except LedgerError as error:
        raise ApiError(str(getattr(error, "code", "ach_unavailable")), str(error)) from None


def _gateway(info: Info) -> AchGateway:
    return request(info).services.ach


# Configurations -----------------------------------------------------------------------

@strawberry.type(name="ODFIHeaderConfiguration",
                 description="The fields the ODFI writes into its files' headers.")
class OdfiHeaderConfiguration:
    """An ODFI header."""

    immediate_destination: str
    immediate_destination_name: str
    immediate_origin: str
    immediate_origin_name: str
    company_identification: str


@strawberry.type(name="ACHConfiguration",
                 description="One version of an ACH configuration; a version never changes.")
class AchConfiguration:
    """A configuration version."""

    config_id: UUID
    version: int
    journal_id: UUID
    settlement_account_id: UUID
    suspense_account_id: UUID
    exception_account_id: UUID
    fee_account_id: UUID
    odfi_header_configuration: OdfiHeaderConfiguration
    decisioning_url: str | None
    decisioning_timeout_seconds: Decimal
    time_zone: str

    @classmethod
    def of(cls, model: AchConfigurationModel) -> AchConfiguration:
        """The GraphQL view of a configuration version."""
        odfi = model.odfi
        return cls(config_id=model.config_id, version=model.version,
                   journal_id=model.journal_id,
                   settlement_account_id=model.settlement_account_id,
                   suspense_account_id=model.suspense_account_id,
                   exception_account_id=model.exception_account_id,
                   fee_account_id=model.fee_account_id,
                   odfi_header_configuration=OdfiHeaderConfiguration(
                       immediate_destination=odfi.immediate_destination,
                       immediate_destination_name=odfi.immediate_destination_name,
                       immediate_origin=odfi.immediate_origin,
                       immediate_origin_name=odfi.immediate_origin_name,
                       company_identification=odfi.company_identification),
                   decisioning_url=model.decisioning_url,
                   decisioning_timeout_seconds=model.decisioning_timeout_seconds,
                   time_zone=model.time_zone)


@strawberry.input(name="ODFIHeaderConfigurationInput")
class OdfiHeaderConfigurationInput:
    """An ODFI header."""

    immediate_destination: str
    immediate_origin: str
    company_identification: str
    immediate_destination_name: str = ""
    immediate_origin_name: str = ""


@strawberry.input(name="ACHConfigurationInput",
                  description="A configuration; the same as its latest version writes none.")
class AchConfigurationInput:
    """``ach.createConfiguration``'s input."""

    config_id: UUID
    journal_id: UUID
    settlement_account_id: UUID
    suspense_account_id: UUID
    exception_account_id: UUID
    fee_account_id: UUID
    odfi_header_configuration: OdfiHeaderConfigurationInput
    decisioning_url: str | None = None
    decisioning_timeout_seconds: Decimal = Decimal(10)
    time_zone: str = "UTC"

    def body(self) -> dict[str, Any]:
        """The body ``create_configuration`` validates."""
        odfi = self.odfi_header_configuration
        return {"configId": str(self.config_id), "journalId": str(self.journal_id),
                "settlementAccountId": str(self.settlement_account_id),
                "suspenseAccountId": str(self.suspense_account_id),
                "exceptionAccountId": str(self.exception_account_id),
                "feeAccountId": str(self.fee_account_id),
                "odfi": {"immediateDestination": odfi.immediate_destination,
                         "immediateDestinationName": odfi.immediate_destination_name,
                         "immediateOrigin": odfi.immediate_origin,
                         "immediateOriginName": odfi.immediate_origin_name,
                         "companyIdentification": odfi.company_identification},
                "decisioningUrl": self.decisioning_url,
                "decisioningTimeoutSeconds": str(self.decisioning_timeout_seconds),
                "timeZone": self.time_zone}


# Files --------------------------------------------------------------------------------

@strawberry.type(name="ACHFileStatistics", description="A file's totals.")
class AchFileStatistics:
    """Counts and totals; amounts as exact decimals of dollars."""

    batches: int
    num_entries: int
    num_entries_unprocessed: int
    total_debit_amount: Decimal
    total_credit_amount: Decimal
    entry_hash: int


@strawberry.type(name="ACHFile", description="A NACHA file generated or received.")
class AchFile:
    """A file's latest record."""

    file_id: UUID
    file_type: str
    name: str
    config_id: UUID
    config_version: int
    status: str
    statistics: AchFileStatistics
    created: datetime
    modified: datetime
    error: str | None

    @classmethod
    def of(cls, record: AchFileRecord) -> AchFile:
        """The GraphQL view of a file record."""
        stats = record.statistics
        return cls(file_id=record.file_id, file_type=record.file_type.value, name=record.name,
                   config_id=record.config_id, config_version=record.config_version,
                   status=record.status.value,
                   statistics=AchFileStatistics(
                       batches=stats.batches, num_entries=stats.entries,
                       num_entries_unprocessed=stats.entries_unprocessed,
                       total_debit_amount=Decimal(stats.total_debit_cents).scaleb(-2),
                       total_credit_amount=Decimal(stats.total_credit_cents).scaleb(-2),
                       entry_hash=stats.entry_hash),
                   created=record.created_at, modified=record.updated_at, error=record.error)

    @described("The file's NACHA text (a generated file, once COMPLETED), written again from "
               "its records.")
    async def content(self, info: Info) -> str | None:
        """The NACHA text, or None for a received file."""
        if self.file_type != "ODFI" or self.status != "COMPLETED":
            return None
        gateway = _gateway(info)
        _record, text = await _call(written_text, gateway.bootstrap, gateway.prefix,
                                    self.file_id)
        return str(text)


@strawberry.input(name="ACHGenerateFileInput")
class AchGenerateFileInput:
    """``ach.generateFile``'s input."""

    config_id: UUID
    max_entries: int | None = None


@strawberry.type(name="ACHGenerateFilePayload",
                 description="The file generated (or finished); none when nothing is queued.")
class AchGenerateFilePayload:
    """What ``generateFile`` did."""

    generated: bool
    resumed: bool
    file: AchFile | None
    held: int


@strawberry.input(name="ACHProcessFileInput")
class AchProcessFileInput:
    """``ach.processFile``'s input: the received file's text itself (Twisp names an uploaded
    file's key instead)."""

    config_id: UUID
    content: str
    name: str = "upload.ach"


@strawberry.type(name="ACHProcessFilePayload",
                 description="What one run of a received file did, and where the file stands.")
class AchProcessFilePayload:
    """The run's report."""

    file_id: UUID
    status: str
    error: str | None
    outcomes: JSON
    posted: int
    already_done: int
    unmatched_returns: list[str]

    @described("The file's record: status and statistics.")
    async def file(self, info: Info) -> AchFile | None:
        """The file's latest record."""
        gateway = _gateway(info)
        topics = await _call(gateway.topics)
        record = (await _call(read_files, gateway.bootstrap, topics)).get(self.file_id)
        return None if record is None else AchFile.of(record)


# Workflows ----------------------------------------------------------------------------

@strawberry.input(name="WorkflowExecuteInput")
class WorkflowExecuteInput:
    """``workflow.execute``'s input: Twisp's execution id, workflow code, task and params."""

    execution_id: UUID
    code: str
    task: str
    params: JSON = strawberry.field(default_factory=dict)


@strawberry.type(name="WorkflowOutput")
class WorkflowOutput:
    """Where the execution stands."""

    state: str


@strawberry.type(name="WorkflowExecution",
                 description="A workflow execution after a task, once its posting posted.")
class WorkflowExecution:
    """The answer to ``workflow.execute``."""

    execution_id: UUID
    code: str
    task: str
    status: str
    output: WorkflowOutput
    transaction_ids: list[UUID]
    trace_number: str | None


@strawberry.type(name="WorkflowMutation", description="Twisp's workflow namespace.")
class WorkflowMutation:
    """The write side of ``workflow``."""

    @described("Run a task of a workflow execution (ACH_PUSH, ACH_PULL) and wait until the "
               "ledger has decided its posting. A task sent again is answered from the "
               "execution and posts nothing.")
    async def execute(self, info: Info, input: WorkflowExecuteInput
                      ) -> WorkflowExecution | None:
        """The execution after the task."""
        try:
            workflow, task = Workflow(input.code), Task(input.task)
        except ValueError:
            raise ApiError("ach_params_invalid",
                           f"code is one of {[w.value for w in Workflow]} and task one of "
                           f"{[t.value for t in Task]}") from None
        if not isinstance(input.params, dict):
            raise ApiError("ach_params_invalid", "params must be a JSON object")
        client = await _call(_gateway(info).client)
        result = await _call(client.execute, input.execution_id, workflow, task, input.params)
        if result.status is ResultStatus.REFUSED:
            raise ApiError(result.code.value if result.code else "ach_refused",
                           result.message or "refused", field=result.field)
        request(info).wrote()
        return WorkflowExecution(
            execution_id=input.execution_id, code=workflow.value, task=task.value,
            status=result.status.value,
            output=WorkflowOutput(state=result.state.value if result.state else ""),
            transaction_ids=list(result.transaction_ids), trace_number=result.trace_number)


@strawberry.type(name="ACHMutation", description="Twisp's ach namespace.")
class AchMutation:
    """The write side of ``ach``."""

    @described("Write a configuration's next version.")
    async def create_configuration(self, info: Info,
                                   input: AchConfigurationInput) -> AchConfiguration | None:
        """The version written (or the latest, when the input is the same)."""
        gateway = _gateway(info)
        topics = await _call(gateway.topics)
        configuration, _new = await _call(create_configuration, gateway.bootstrap, topics,
                                          input.body())
        return AchConfiguration.of(configuration)

    @described("Generate the next ODFI file from the submitted entries not yet in one (or "
               "finish a file a crash left PROCESSING).")
    async def generate_file(self, info: Info,
                            input: AchGenerateFileInput
                            ) -> AchGenerateFilePayload | None:
        """The file, its statistics and its status."""
        gateway = _gateway(info)
        generation = await _call(generate_file, gateway.bootstrap, gateway.prefix,
                                 input.config_id, max_entries=input.max_entries)
        record = generation.record
        return AchGenerateFilePayload(generated=record is not None, resumed=generation.resumed,
                                      file=None if record is None else AchFile.of(record),
                                      held=len(generation.held))

    @described("Process a received file (RDFI entries, or returns and notifications of "
               "change): each entry through the decisioning webhook and the ledger. The same "
               "file again posts nothing twice.")
    async def process_file(self, info: Info,
                           input: AchProcessFileInput
                           ) -> AchProcessFilePayload | None:
        """The run's report."""
        gateway = _gateway(info)
        topics = await _call(gateway.topics)
        configuration = (await _call(read_configurations, gateway.bootstrap, topics)).get(
            input.config_id)
        if configuration is None:
            raise ApiError("ach_configuration_not_found",
                           f"configuration {input.config_id} does not exist")
        settings = RdfiSettings(bootstrap=gateway.bootstrap, prefix=gateway.prefix,
                                configuration=configuration, webhook_key=gateway.webhook_key)
        try:
            # Latin-1 keeps every byte as it came, so a stray one is reported by its rule.
            report = await process_file(input.content.encode("latin-1", "replace"),
                                        input.name, settings)
        except FileRefusedError as refused:
            raise ApiError(refused.code.value, refused.message) from None
        except LedgerError as error:
            raise ApiError("ach_unavailable", str(error)) from None
        request(info).wrote()
        return AchProcessFilePayload(
            file_id=report.file_id, status=report.status.value, error=report.error,
            outcomes=JSON(dict(report.outcomes)), posted=report.posted,
            already_done=report.already_done,
            unmatched_returns=list(report.unmatched_returns))


@strawberry.type(name="ACHQuery", description="Twisp's ach namespace.")
class AchQuery:
    """The read side of ``ach``."""

    @described("A configuration: its latest version, or the one named.")
    async def configuration(self, info: Info, id: UUID,
                            version: int | None = None) -> AchConfiguration | None:
        """The configuration version, or None."""
        gateway = _gateway(info)
        topics = await _call(gateway.topics)
        if version is None:
            found = (await _call(read_configurations, gateway.bootstrap, topics)).get(id)
        else:
            found = (await _call(read_versions, gateway.bootstrap, topics)).get((id, version))
        return None if found is None else AchConfiguration.of(found)

    @described("A file, generated or received, with its status and statistics.")
    async def file(self, info: Info, id: UUID) -> AchFile | None:
        """The file's latest record, or None."""
        gateway = _gateway(info)
        topics = await _call(gateway.topics)
        record = (await _call(read_files, gateway.bootstrap, topics)).get(id)
        return None if record is None else AchFile.of(record)

    @described("Files, the latest first.")
    async def files(self, info: Info, first: int = 20) -> list[AchFile]:
        """At most ``first`` (≤ 100) files, by when they were created, the latest first."""
        if not 0 < first <= 100:
            raise ApiError("bad_request", "first is from 1 to 100")
        gateway = _gateway(info)
        topics = await _call(gateway.topics)
        records = (await _call(read_files, gateway.bootstrap, topics)).values()
        latest = sorted(records, key=lambda r: (r.created_at, str(r.file_id)), reverse=True)
        return [AchFile.of(record) for record in latest[:first]]
