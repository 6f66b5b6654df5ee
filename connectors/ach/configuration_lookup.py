"""Which ACH configuration a file is generated or written under: the one place the file
commands look a configuration up, as a file error when there is none."""

from __future__ import annotations

from uuid import UUID

from connectors.ach.configurations import read_versions
from connectors.ach.file_generation import AchFileError, AchFileErrorCode
from connectors.ach.topics import AchTopics
from ledger_core.ach_tran_codes import AchConfiguration


def configuration_version(bootstrap: str, topics: AchTopics, config_id: UUID,
                          version: int | None = None) -> AchConfiguration:
    """The configuration ``config_id`` at ``version`` (None: its latest)."""
    versions = [c for (found, _v), c in read_versions(bootstrap, topics).items()
                if found == config_id and version in (None, c.version)]
    if not versions:
        at = "" if version is None else f" version {version}"
        raise AchFileError(AchFileErrorCode.ACH_CONFIGURATION_NOT_FOUND,
                           f"configuration {config_id}{at} does not exist")
    return max(versions, key=lambda c: c.version)
