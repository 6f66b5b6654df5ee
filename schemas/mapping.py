"""Between ``ledger_core`` models and the Avro records of the codec.

Records carry ids as strings, amounts as decimal strings and free-form JSON (metadata,
params) as JSON text whose numbers decode to Decimal, so no amount ever passes through a
float. Records read back from the ledger's own topics are trusted and rebuilt with
``model_construct``; catalog entities are validated.
"""

import json
import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from ledger_core import (
    Account,
    AccountSet,
    Balance,
    Calculation,
    Card,
    Command,
    ControlAttachment,
    ControlLimit,
    Direction,
    Entry,
    Iso8583Config,
    Journal,
    Layer,
    LayerBalance,
    PostedTransaction,
    PostTransaction,
    Rejected,
    RejectionCode,
    TranCode,
    Transaction,
    VelocityLimit,
    VoidTransaction,
    parse_command,
)
from ledger_core.input_bounds import JSON_DEPTH_MAX, json_text_depth, shown


def dump_json(value: Any) -> str | None:
    """JSON text of ``value`` (None stays None); a Decimal is written as the JSON number of
    its exact text, so it reads back as the same Decimal (``load_json``).

    Keys keep their order: a tran code's ``vars`` are evaluated in declaration order.
    """
    if value is None:
        return None
    text = json.dumps(value, default=_json_default, separators=(",", ":"))
    if _NUMBER_MARK in text:
        text = _MARKED_NUMBER.sub(r"\1", text)
    return text


class JsonTooDeepError(ValueError):
    """JSON text nests deeper than any record of the ledger may (``JSON_DEPTH_MAX``)."""


def load_json(text: str | None) -> Any:
    """Parse JSON text with every non-integer number as an exact Decimal.

    Text that nests deeper than ``JSON_DEPTH_MAX`` is refused before the (recursive) decoder
    sees it; counting brackets first keeps the usual shallow document off the slow scan.
    """
    if text is None:
        return None
    if (text.count("[") + text.count("{") > JSON_DEPTH_MAX
            and json_text_depth(text) > JSON_DEPTH_MAX):
        raise JsonTooDeepError(f"JSON nests more than {JSON_DEPTH_MAX} levels")
    return json.loads(text, parse_float=Decimal)


# json cannot write a Decimal as a number; it writes the number's text between two lone
# surrogates instead, which no text the ledger accepts can hold, and the quotes go after.
_NUMBER_MARK = "\\ud800"
_MARKED_NUMBER = re.compile(r'"\\ud800([-+.0-9eE]+)\\ud800"')


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return f"\ud800{value}\ud800"
    if isinstance(value, Decimal | UUID | datetime):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def entry_record(entry: Entry) -> dict[str, Any]:
    """The ``entry`` record of an Entry."""
    return {
        "entry_id": _text(entry.entry_id), "transaction_id": _text(entry.transaction_id),
        "journal_id": _text(entry.journal_id), "account_id": _text(entry.account_id),
        "sequence": entry.sequence, "units": str(entry.units), "currency": entry.currency,
        "direction": entry.direction.value, "entry_type": entry.entry_type,
        "layer": entry.layer.value, "description": entry.description,
        "metadata_json": dump_json(entry.metadata), "effective": entry.effective,
        "created": entry.created,
        "parent_account_ids": [_text(set_id) for set_id in entry.parent_account_ids],
    }


def entry_from(record: dict[str, Any]) -> Entry:
    """The Entry of an ``entry`` record."""
    return Entry(
        entry_id=UUID(record["entry_id"]), transaction_id=UUID(record["transaction_id"]),
        journal_id=UUID(record["journal_id"]), account_id=UUID(record["account_id"]),
        sequence=record["sequence"], units=Decimal(record["units"]),
        currency=record["currency"], direction=Direction(record["direction"]),
        entry_type=record["entry_type"], layer=Layer(record["layer"]),
        description=record["description"], metadata=load_json(record["metadata_json"]),
        effective=record["effective"], created=record["created"],
        parent_account_ids=tuple(UUID(set_id) for set_id in record["parent_account_ids"]),
    )


def transaction_record(posted: PostedTransaction,
                       entries: list[dict[str, Any]] | list[bytes] | None = None
                       ) -> dict[str, Any]:
    """The ``transaction`` record of a transaction with its entries; ``entries`` may give
    them already mapped, or already encoded (each entry's body: ``Codec.body``)."""
    tx = posted.transaction
    return {
        "transaction_id": _text(tx.transaction_id), "tran_code_id": _text(tx.tran_code_id),
        "tran_code": tx.tran_code, "tran_code_version": tx.tran_code_version,
        "journal_id": _text(tx.journal_id), "correlation_id": tx.correlation_id,
        "external_id": tx.external_id, "effective": tx.effective, "created": tx.created,
        "description": tx.description, "metadata_json": dump_json(tx.metadata),
        "entry_count": tx.entry_count, "void_of": _str(tx.void_of),
        "voided_by": _str(tx.voided_by),
        "entries": entries if entries is not None
        else [entry_record(entry) for entry in posted.entries],
    }


def posted_from(record: dict[str, Any]) -> PostedTransaction:
    """The transaction with its entries of a ``transaction`` record."""
    transaction = Transaction(
        transaction_id=UUID(record["transaction_id"]),
        tran_code_id=UUID(record["tran_code_id"]), tran_code=record["tran_code"],
        tran_code_version=record["tran_code_version"], journal_id=UUID(record["journal_id"]),
        correlation_id=record["correlation_id"], external_id=record["external_id"],
        effective=record["effective"], created=record["created"],
        description=record["description"], metadata=load_json(record["metadata_json"]),
        entry_count=record["entry_count"], void_of=_uuid(record["void_of"]),
        voided_by=_uuid(record["voided_by"]),
    )
    entries = tuple(entry_from(entry) for entry in record["entries"])
    return PostedTransaction(transaction=transaction, entries=entries)


def balance_record(balance: Balance) -> dict[str, Any]:
    """The ``balance`` record of a Balance."""
    return {
        "account_id": _text(balance.account_id), "journal_id": _text(balance.journal_id),
        "currency": balance.currency, "normal_balance_type": balance.normal_balance_type.value,
        "settled": _layer_record(balance.settled), "pending": _layer_record(balance.pending),
        "encumbrance": _layer_record(balance.encumbrance), "version": balance.version,
        "entry_id": _str(balance.entry_id), "transaction_id": _str(balance.transaction_id),
        "created": balance.created, "modified": balance.modified,
    }


def balance_from(record: dict[str, Any]) -> Balance:
    """The Balance of a ``balance`` record."""
    return Balance(
        account_id=UUID(record["account_id"]), journal_id=UUID(record["journal_id"]),
        currency=record["currency"],
        normal_balance_type=Direction(record["normal_balance_type"]),
        settled=_layer_from(record["settled"]), pending=_layer_from(record["pending"]),
        encumbrance=_layer_from(record["encumbrance"]), version=record["version"],
        entry_id=_uuid(record["entry_id"]), transaction_id=_uuid(record["transaction_id"]),
        created=record["created"], modified=record["modified"],
    )


def _layer_record(layer: LayerBalance) -> dict[str, str]:
    return {"dr_balance": str(layer.dr), "cr_balance": str(layer.cr),
            "normal_balance": str(layer.normal_balance)}


def _layer_from(record: dict[str, str]) -> LayerBalance:
    return LayerBalance(
        dr=Decimal(record["dr_balance"]), cr=Decimal(record["cr_balance"]),
        normal_balance=Decimal(record["normal_balance"]),
    )


def journal_record(journal: Journal) -> dict[str, Any]:
    """The ``journal`` record of a Journal."""
    return {"journal_id": str(journal.journal_id), "name": journal.name,
            "description": journal.description, "code": journal.code,
            "status": journal.status.value,
            "enable_effective_balances": journal.config.enable_effective_balances}


def journal_from(record: dict[str, Any]) -> Journal:
    """The Journal of a ``journal`` record, validated: a catalog record may be forged."""
    return Journal.model_validate({
        "journal_id": record["journal_id"], "name": record["name"],
        "description": record["description"], "code": record["code"],
        "status": record["status"],
        "config": {"enable_effective_balances": record["enable_effective_balances"]}})


def account_record(account: Account) -> dict[str, Any]:
    """The ``account`` record of an Account."""
    return {
        "account_id": str(account.account_id), "code": account.code, "name": account.name,
        "description": account.description,
        "normal_balance_type": account.normal_balance_type.value,
        "status": account.status.value, "metadata_json": dump_json(account.metadata),
        "external_id": account.external_id,
        "enable_concurrent_posting": account.config.enable_concurrent_posting,
    }


def account_from(record: dict[str, Any]) -> Account:
    """The Account of an ``account`` record, validated: a catalog record may be forged."""
    return Account.model_validate({
        "account_id": record["account_id"], "code": record["code"], "name": record["name"],
        "description": record["description"],
        "normal_balance_type": record["normal_balance_type"], "status": record["status"],
        "metadata": load_json(record["metadata_json"]), "external_id": record["external_id"],
        "config": {"enable_concurrent_posting": record["enable_concurrent_posting"]},
    })


def account_set_record(account_set: AccountSet) -> dict[str, Any]:
    """The ``account_set`` record of an AccountSet."""
    return {
        "account_set_id": str(account_set.account_set_id),
        "journal_id": str(account_set.journal_id), "code": account_set.code,
        "name": account_set.name, "description": account_set.description,
        "normal_balance_type": account_set.normal_balance_type.value,
        "status": account_set.status.value, "metadata_json": dump_json(account_set.metadata),
        "enable_concurrent_posting": account_set.config.enable_concurrent_posting,
    }


def account_set_from(record: dict[str, Any]) -> AccountSet:
    """The AccountSet of an ``account_set`` record, validated: a catalog record may be forged."""
    return AccountSet.model_validate({
        "account_set_id": record["account_set_id"], "journal_id": record["journal_id"],
        "code": record["code"], "name": record["name"], "description": record["description"],
        "normal_balance_type": record["normal_balance_type"], "status": record["status"],
        "metadata": load_json(record["metadata_json"]),
        "config": {"enable_concurrent_posting": record["enable_concurrent_posting"]},
    })


def calculation_record(calculation: Calculation) -> dict[str, Any]:
    """The ``calculation`` record of a Calculation."""
    return {
        "calculation_id": str(calculation.calculation_id), "code": calculation.code,
        "description": calculation.description, "scope": calculation.scope.value,
        "dimensions_json": json.dumps([d.model_dump() for d in calculation.dimensions]),
        "condition": calculation.condition,
        "enable_effective_balances": calculation.config.enable_effective_balances,
        "status": calculation.status.value,
    }


def calculation_from(record: dict[str, Any]) -> Calculation:
    """The Calculation of a ``calculation`` record, validated: a catalog record may be forged."""
    return Calculation.model_validate({
        "calculation_id": record["calculation_id"], "code": record["code"],
        "description": record["description"], "scope": record["scope"],
        "dimensions": load_json(record["dimensions_json"]), "condition": record["condition"],
        "config": {"enable_effective_balances": record["enable_effective_balances"]},
        "status": record["status"],
    })


_LIMIT_COLUMNS = {"velocity_limit_id", "name", "description", "currency", "status"}


def control_limit_record(limit: ControlLimit) -> dict[str, Any]:
    """The ``control_limit`` record of a ControlLimit: its expressions as JSON text."""
    body = limit.model_dump(mode="json")
    return {**{k: body[k] for k in _LIMIT_COLUMNS},
            "definition_json": dump_json({k: v for k, v in body.items()
                                          if k not in _LIMIT_COLUMNS})}


def control_limit_from(record: dict[str, Any]) -> ControlLimit:
    """The ControlLimit of a ``control_limit`` record, validated: it may be forged."""
    return ControlLimit.model_validate({**{k: record[k] for k in _LIMIT_COLUMNS},
                                        **load_json(record["definition_json"])})


def control_attachment_record(attachment: ControlAttachment) -> dict[str, Any]:
    """The ``control_attachment`` record of a ControlAttachment: its params as JSON text."""
    return {"velocity_control_id": str(attachment.velocity_control_id),
            "account_id": str(attachment.account_id),
            "journal_id": str(attachment.journal_id),
            "params_json": dump_json(attachment.params), "detached": attachment.detached}


def control_attachment_from(record: dict[str, Any]) -> ControlAttachment:
    """The ControlAttachment of a ``control_attachment`` record, validated."""
    return ControlAttachment.model_validate({
        "velocity_control_id": record["velocity_control_id"],
        "account_id": record["account_id"], "journal_id": record["journal_id"],
        "params": load_json(record["params_json"]), "detached": record["detached"]})


def tran_code_record(tran_code: TranCode) -> dict[str, Any]:
    """The ``tran_code`` record of a TranCode version."""
    body = tran_code.model_dump(mode="json", exclude={"metadata"})
    return {**body, "metadata_json": dump_json(tran_code.metadata)}


def tran_code_from(record: dict[str, Any]) -> TranCode:
    """The TranCode of a ``tran_code`` record."""
    fields = {k: v for k, v in record.items() if k != "metadata_json"}
    return TranCode.model_validate({**fields, "metadata": load_json(record["metadata_json"])})


def limit_record(limit: VelocityLimit) -> dict[str, Any]:
    """The ``velocity_limit`` record of a VelocityLimit."""
    return limit.model_dump(mode="json")


def card_record(card: Card) -> dict[str, Any]:
    """The ``card`` record of a Card."""
    return {"card_id": str(card.card_id), "account_id": str(card.account_id),
            "pan_hash": card.pan_hash, "last_four": card.last_four,
            "card_token": card.card_token, "status": card.status.value,
            "metadata_json": dump_json(card.metadata)}


def card_from(record: dict[str, Any]) -> Card:
    """The Card of a ``card`` record, validated: a catalog record may be forged."""
    return Card.model_validate({
        "card_id": record["card_id"], "account_id": record["account_id"],
        "pan_hash": record["pan_hash"], "last_four": record["last_four"],
        "card_token": record["card_token"], "status": record["status"],
        "metadata": load_json(record["metadata_json"]),
    })


def iso8583_config_record(config: Iso8583Config) -> dict[str, Any]:
    """The ``iso8583_config`` record of an Iso8583Config version."""
    return {"config_id": str(config.config_id), "journal_id": str(config.journal_id),
            "settlement_account_id": str(config.settlement_account_id),
            "time_zone": config.time_zone, "processor": config.processor.value,
            "description": config.description,
            "message_variant": config.processor_spec.variant.value,
            "open_to_buy": config.open_to_buy.value, "status": config.status.value,
            "version": config.version}


def iso8583_config_from(record: dict[str, Any]) -> Iso8583Config:
    """The Iso8583Config of an ``iso8583_config`` record, validated: a catalog record may
    be forged."""
    return Iso8583Config.model_validate({
        "config_id": record["config_id"], "journal_id": record["journal_id"],
        "settlement_account_id": record["settlement_account_id"],
        "time_zone": record["time_zone"], "processor": record["processor"],
        "description": record["description"],
        "processor_spec": {"variant": record["message_variant"]},
        "open_to_buy": record["open_to_buy"], "status": record["status"],
        "version": record["version"],
    })


def _str(value: UUID | None) -> str | None:
    return None if value is None else _text(value)


# The text of an id: the same account and journal ids are written in every record, and a
# transaction's id in several; UUID.__str__ costs more than a cache lookup.
_text = lru_cache(maxsize=1 << 16)(UUID.__str__)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def command_record(
    command: PostTransaction | VoidTransaction, command_id: str, sent_at: datetime
) -> dict[str, Any]:
    """The ``command`` record of a posting or a void; ``command_id`` is unique per send."""
    override = command.override_enforcement
    common = {"sent_at": sent_at,
              "override_enforcement": None if override is None else override.value}
    if isinstance(command, VoidTransaction):
        return {**common, "command_id": command_id, "kind": "VOID",
                "transaction_id": str(command.transaction_id), "void_of": str(command.void_of)}
    return {**common, "command_id": command_id, "kind": "POST",
            "transaction_id": str(command.transaction_id), "tran_code": command.tran_code,
            "tran_code_version": command.tran_code_version,
            "params_json": dump_json(command.params)}


def command_payload(record: dict[str, Any]) -> dict[str, Any]:
    """The payload ``ledger_core.parse_command`` validates, from a ``command`` record."""
    payload: dict[str, Any] = {}
    if record["override_enforcement"] is not None:
        payload["override_enforcement"] = record["override_enforcement"]
    if record["kind"] == "VOID":
        payload["void_of"] = record["void_of"]
        if record["transaction_id"] is not None:
            payload["transaction_id"] = record["transaction_id"]
        return payload
    payload.update(transaction_id=record["transaction_id"], tran_code=record["tran_code"],
                   params=load_json(record["params_json"]) or {})
    if record["tran_code_version"] is not None:
        payload["tran_code_version"] = record["tran_code_version"]
    return payload


def command_from(record: dict[str, Any]) -> Command | Rejected:
    """The command of a decoded ``command`` record, or why it is refused: params that are
    not JSON, or too deep to read, and everything ``parse_command`` refuses."""
    try:
        payload = command_payload(record)
    except ValueError as exc:
        code = (RejectionCode.JSON_TOO_DEEP if isinstance(exc, JsonTooDeepError)
                else RejectionCode.COMMAND_INVALID)
        return Rejected(transaction_id=_uuid_or_none(record["transaction_id"]),
                                code=code, message=f"params_json: {shown(str(exc))}",
                                field="params", value=None)
    return parse_command(payload)


def _uuid_or_none(text: str | None) -> UUID | None:
    try:
        return None if text is None else UUID(text)
    except ValueError:
        return None
