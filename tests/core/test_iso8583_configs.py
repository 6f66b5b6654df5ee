"""ISO 8583 configurations in the catalog: created once per id (an exact repeat accepted),
updated into new versions, deleted by locking; what they name must exist, and what this
ledger does not do (other open-to-buy balances, moov specifications, unknown zones) is
refused saying why."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger_core import Iso8583Config, Rejected, Status, tutorial
from ledger_core.catalog import Catalog, CatalogKind, decide_catalog
from ledger_core.iso8583_configs import MessageVariant, OpenToBuy, time_zone_problem

SETTLEMENT = tutorial.ACCOUNTS[0].account_id
CONFIG_ID = UUID("6a0f4c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b")


def _body(**changes: Any) -> dict[str, Any]:
    return {"configId": str(CONFIG_ID), "journalId": str(tutorial.JOURNAL.journal_id),
            "settlementAccountId": str(SETTLEMENT), "timeZone": "America/Chicago",
            "processor": "LITHIC", **changes}


@pytest.fixture
def catalog() -> Catalog:
    """The tutorial's journal and accounts, and one configuration (version 1)."""
    catalog = Catalog()
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS):
        catalog.put(entity)
    created = decide_catalog(catalog, CatalogKind.CREATE_ISO8583_CONFIG, _body())
    assert isinstance(created, Iso8583Config), created
    catalog.put(created)
    return catalog


def _config(catalog: Catalog, kind: CatalogKind, body: dict[str, Any]) -> Iso8583Config:
    decision = decide_catalog(catalog, kind, body)
    assert isinstance(decision, Iso8583Config), decision
    catalog.put(decision)
    return decision


def _rejected(catalog: Catalog, kind: CatalogKind, body: dict[str, Any]) -> Rejected:
    decision = decide_catalog(catalog, kind, body)
    assert isinstance(decision, Rejected), decision
    return decision


def test_a_config_takes_the_ledgers_defaults_and_is_found_by_id(catalog: Catalog) -> None:
    """Without processorSpec and openToBuy a config reads ascii messages and judges holds on
    available(PENDING); it is ACTIVE at version 1, and the catalog finds it by id."""
    config = catalog.iso8583_config(CONFIG_ID)
    assert config is not None
    assert (config.processor_spec.variant, config.open_to_buy, config.status,
            config.version) == (MessageVariant.ASCII, OpenToBuy.AVAILABLE_PENDING,
                                Status.ACTIVE, 1)
    assert catalog.copy().iso8583_config(CONFIG_ID) == config
    assert catalog.iso8583_config(uuid4()) is None


def test_an_exact_repeat_is_accepted_and_a_different_body_is_a_duplicate(
    catalog: Catalog,
) -> None:
    """Re-sending the create returns the config as it is (a version in the body is not the
    client's to set); another body under the id is iso8583_config_id_duplicate."""
    current = catalog.iso8583_config(CONFIG_ID)
    assert decide_catalog(catalog, CatalogKind.CREATE_ISO8583_CONFIG,
                          _body(version=7)) == current
    refused = _rejected(catalog, CatalogKind.CREATE_ISO8583_CONFIG,
                        _body(timeZone="Europe/Paris"))
    assert (refused.code, refused.field) == ("iso8583_config_id_duplicate", "configId")
    assert str(CONFIG_ID) in refused.message


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"journalId": str(uuid4())}, "journal_not_found", "journalId"),
    ({"settlementAccountId": str(uuid4())}, "account_not_found", "settlementAccountId"),
])
def test_the_journal_and_the_settlement_account_must_exist(
    catalog: Catalog, changes: dict[str, Any], code: str, field: str,
) -> None:
    """A config naming a journal or settlement account the catalog lacks is refused."""
    refused = _rejected(catalog, CatalogKind.CREATE_ISO8583_CONFIG,
                        _body(configId=str(uuid4()), **changes))
    assert (refused.code, refused.field, refused.value) == (code, field, changes[field])


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"openToBuy": "VELOCITY_BALANCE"}, "openToBuy", "judged against available(PENDING)"),
    ({"openToBuy": "AVAILABLE_SETTLED"}, "openToBuy", "AVAILABLE_PENDING is the only"),
    ({"processorSpec": {"variant": "ebcdic"}}, "processorSpec.variant", "'ascii' or 'binary'"),
    ({"processorSpec": {"fields": {"2": {}}}}, "processorSpec", "names a message variant"),
    ({"timeZone": "Mars/Olympus_Mons"}, "timeZone", "not in the IANA tz database"),
    ({"timeZone": "../../etc/passwd"}, "timeZone", "an IANA name"),
    ({"processor": "ACME"}, "processor", "Input should be"),
])
def test_what_the_ledger_does_not_do_is_refused_saying_why(
    catalog: Catalog, changes: dict[str, Any], field: str, reason: str,
) -> None:
    """Other open-to-buy balances, other specifications, unknown zones and processors are
    catalog_command_invalid naming the field and the reason."""
    refused = _rejected(catalog, CatalogKind.CREATE_ISO8583_CONFIG,
                        _body(configId=str(uuid4()), **changes))
    assert (refused.code, refused.field) == ("catalog_command_invalid", field)
    assert reason in refused.message


def test_an_update_makes_a_new_version_and_a_repeat_makes_none(catalog: Catalog) -> None:
    """Changing the zone, the variant and the description is version 2; sending the same
    update again changes nothing and stays version 2."""
    update = {"configId": str(CONFIG_ID), "timeZone": "Europe/Paris",
              "processorSpec": {"variant": "binary"}, "description": "Program B"}
    updated = _config(catalog, CatalogKind.UPDATE_ISO8583_CONFIG, update)
    assert (updated.time_zone, updated.processor_spec.variant, updated.description,
            updated.version) == ("Europe/Paris", MessageVariant.BINARY, "Program B", 2)
    assert _config(catalog, CatalogKind.UPDATE_ISO8583_CONFIG, update) == updated


@pytest.mark.parametrize(("update", "code", "field"), [
    ({"configId": str(uuid4()), "description": "x"}, "iso8583_config_not_found", "configId"),
    ({"configId": "not-a-uuid"}, "catalog_command_invalid", "configId"),
    ({"configId": str(CONFIG_ID), "journalId": str(uuid4())}, "catalog_command_invalid",
     "journalId"),
    ({"configId": str(CONFIG_ID), "timeZone": "Nowhere/Town"}, "catalog_command_invalid",
     "timeZone"),
    ({"configId": str(CONFIG_ID), "openToBuy": "AVAILABLE_ENCUMBRANCE"},
     "catalog_command_invalid", "openToBuy"),
])
def test_updates_that_cannot_apply_are_refused(catalog: Catalog, update: dict[str, Any],
                                               code: str, field: str) -> None:
    """An unknown config, a journal (the config's identity in the books), an unknown zone
    and an unsupported balance are refused."""
    refused = _rejected(catalog, CatalogKind.UPDATE_ISO8583_CONFIG, update)
    assert (refused.code, refused.field) == (code, field)


def test_a_delete_locks_the_config_which_then_takes_no_update(catalog: Catalog) -> None:
    """Deleting keeps the config LOCKED at a new version; a repeated delete changes nothing;
    an update is then iso8583_config_locked and a create under the id a duplicate."""
    deleted = _config(catalog, CatalogKind.DELETE_ISO8583_CONFIG, {"configId": str(CONFIG_ID)})
    assert (deleted.status, deleted.version) == (Status.LOCKED, 2)
    assert _config(catalog, CatalogKind.DELETE_ISO8583_CONFIG,
                   {"configId": str(CONFIG_ID)}) == deleted
    refused = _rejected(catalog, CatalogKind.UPDATE_ISO8583_CONFIG,
                        {"configId": str(CONFIG_ID), "description": "again"})
    assert refused.code == "iso8583_config_locked"
    assert _rejected(catalog, CatalogKind.CREATE_ISO8583_CONFIG,
                     _body()).code == "iso8583_config_id_duplicate"
    assert _rejected(catalog, CatalogKind.DELETE_ISO8583_CONFIG,
                     {"configId": str(uuid4())}).code == "iso8583_config_not_found"
    assert _rejected(catalog, CatalogKind.DELETE_ISO8583_CONFIG,
                     {"configId": str(CONFIG_ID), "status": "ACTIVE"}).field == "status"


def test_zone_names_are_checked_against_the_tz_database() -> None:
    """Zones the database has pass; a missing one, an area and a data file do not."""
    assert time_zone_problem("America/Chicago") is None
    assert time_zone_problem("UTC") is None
    for name in ("Nowhere/Town", "America", "zone1970"):
        assert time_zone_problem(name) is not None, name
