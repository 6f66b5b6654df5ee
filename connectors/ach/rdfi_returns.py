"""The return file of a received file: the entries its decisions returned, as NACHA return
entries for the bank to send back (``nacha.returns``).

An entry is returned when its decision says so: RETURNED (the decisioning webhook's RETURN,
with its code) or EXCEPTION (the ledger refused the customer's posting: R16 for a locked
account, else R01). Both are recorded with their return code on ``ach-file-entries``.

Only a COMPLETED file has a return file. Until then an entry may still be returned: one
dated ahead is encumbered, and is sent to the exception account if the ledger refuses its
settlement on the day; an entry whose posting the ledger has not answered may be rerouted.
Nothing is written to Kafka: the file follows from the received file, its recorded
decisions, the configuration and the arguments, and is the same whenever it is written but
for its creation time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from confluent_kafka.admin import AdminClient

from connectors.ach.file_generation import (
    AchFileError,
    AchFileErrorCode,
    originating_dfi,
    rules_broken,
)
from connectors.ach.files import AchFileRecord, AchFileStatus, read_files
from connectors.ach.rdfi_entries import RdfiFileEntry, read_rdfi_entries
from connectors.ach.rdfi_processor import FileRefusalCode, FileRefusedError
from connectors.ach.received import RejectedFile, read_received
from connectors.ach.topics import AchTopics
from ledger_core.ach_rdfi import Outcome
from ledger_core.ach_tran_codes import AchConfiguration
from nacha import AchFile, FileRejectedError, ReturnError, build_return_file, parse
from streams.kafka_config import kafka_config
from streams.topics import topic_partitions

RETURNING_OUTCOMES = frozenset({Outcome.RETURNED, Outcome.EXCEPTION})


@dataclass(frozen=True)
class ReturnFile:
    """A received file's returns: its id, the entries returned (trace number: return code)
    and the return file, None when no entry was returned."""

    file_id: UUID
    returns: dict[str, str]
    ach_file: AchFile | None


def returns_of(entries: Iterable[RdfiFileEntry]) -> dict[str, str]:
    """The entries whose decision returns them, by trace number, with their return code."""
    return {entry.trace_number: code for entry in entries
            if entry.decision.outcome in RETURNING_OUTCOMES
            and (code := entry.decision.return_code) is not None}


def return_file(content: bytes, *, bootstrap: str, prefix: str,
                configuration: AchConfiguration, created: datetime,
                file_id_modifier: str = "A", first_sequence: int = 1) -> ReturnFile:
    """The return file of the received file ``content``, processed under ``configuration``,
    originated by the configuration's bank (the routing digits and the name of its
    immediate origin) and created at ``created``."""
    received = read_received(content, configuration.config_id)
    if isinstance(received, RejectedFile):
        raise AchFileError(AchFileErrorCode.ACH_FILE_INVALID,
                           f"the file breaks a NACHA rule ({received.error}): it has no "
                           "entries to return")
    file_id = received.file_id
    found = _file_record(bootstrap, prefix, file_id)
    if found is None:
        raise AchFileError(AchFileErrorCode.ACH_FILE_NOT_FOUND,
                           f"file {file_id} was never processed under configuration "
                           f"{configuration.config_id}: `ledger ach file process` it first")
    topics, record = found
    entries = read_rdfi_entries(bootstrap, topics, file_id)
    if any(entry.file_digest != received.digest for entry in entries.values()):
        raise FileRefusedError(FileRefusalCode.ACH_FILE_IDENTITY_CONFLICT,
                               f"file {file_id} was processed with other content under the "
                               "same header identity")
    if record.status is AchFileStatus.FAILED:
        raise AchFileError(AchFileErrorCode.ACH_FILE_INVALID,
                           f"file {file_id} FAILED ({record.error}): it has no entries to "
                           "return")
    if record.status is not AchFileStatus.COMPLETED:
        raise AchFileError(AchFileErrorCode.ACH_FILE_NOT_COMPLETED,
                           f"file {file_id} is {record.status}: "
                           f"{record.statistics.entries_unprocessed} entries are not final "
                           "(dated ahead, or not yet answered by the ledger) and may still be "
                           "returned; `ledger ach file process` finishes it")
    returns = returns_of(entries.values())
    if not returns:
        return ReturnFile(file_id, {}, None)
    try:
        ach_file = build_return_file(parse(content).file, returns,
                                     originating_dfi=originating_dfi(configuration),
                                     immediate_origin_name=(
                                         configuration.odfi.immediate_origin_name or None),
                                     created=created, file_id_modifier=file_id_modifier,
                                     first_sequence=first_sequence)
    except ReturnError as exc:
        raise AchFileError(AchFileErrorCode.ACH_FILE_INVALID, str(exc)) from None
    except FileRejectedError as exc:
        raise AchFileError(AchFileErrorCode.ACH_FILE_INVALID,
                           f"the return file would break {rules_broken(exc)}") from None
    return ReturnFile(file_id, returns, ach_file)


def _file_record(bootstrap: str, prefix: str,
                 file_id: UUID) -> tuple[AchTopics, AchFileRecord] | None:
    """The ACH topics as the processor created them, and the file's record; None when the
    file was never processed (or no file ever was)."""
    partitions = topic_partitions(AdminClient(kafka_config(bootstrap)), AchTopics(prefix).files)
    if partitions is None:
        return None
    topics = AchTopics(prefix, partitions)
    record = read_files(bootstrap, topics).get(file_id)
    return None if record is None else (topics, record)
