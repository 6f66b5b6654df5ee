"""Which ACH configuration a file is generated or written under.

Configurations are becoming versioned catalog entities; until they are, the one the ACH
setup creates (``ach_tran_codes.CONFIGURATION``) is the only one. This is the one place
the file commands look a configuration up.
"""

from __future__ import annotations

from uuid import UUID

from connectors.ach.file_generation import AchFileError, AchFileErrorCode
from connectors.ach.topics import AchTopics
from ledger_core.ach_tran_codes import CONFIGURATION, AchConfiguration


def configuration_version(bootstrap: str, topics: AchTopics, config_id: UUID,
                          version: int | None = None) -> AchConfiguration:
    """The configuration ``config_id`` at ``version`` (None: its latest)."""
    found = {CONFIGURATION.config_id: CONFIGURATION}.get(config_id)
    if found is None or (version is not None and found.version != version):
        at = "" if version is None else f" version {version}"
        raise AchFileError(AchFileErrorCode.ACH_CONFIGURATION_NOT_FOUND,
                           f"configuration {config_id}{at} does not exist")
    return found
