"""A tran code whose postings are within every input bound yet too large to write: it copies
a JSON param into the metadata of the transaction and of twenty entries (each copy 60 KB,
together more than any topic takes once encoded)."""

import uuid

from ledger_core import TranCode

# A JSON param of 60 KB: fifteen strings of the largest text a param may hold.
BLOB = {f"part{i}": "y" * 4000 for i in range(15)}


def oversized_tran_code(code: str, house: str, units: str = "'0.01'") -> TranCode:
    """``code``: ten entries debit ``house`` (a CEL account expression), ten credit
    ``params.account``, each ``units``, each carrying ``params.blob`` as its metadata."""
    return TranCode.model_validate({
        "tranCodeId": str(uuid.uuid5(uuid.NAMESPACE_OID, code)), "code": code,
        "params": [{"name": "account", "type": "UUID"}, {"name": "blob", "type": "JSON"}],
        "transaction": {"metadata": "params.blob"},
        "entries": [
            {"accountId": house if i % 2 == 0 else "params.account", "units": units,
             "currency": "'USD'", "direction": "DEBIT" if i % 2 == 0 else "CREDIT",
             "metadata": "params.blob"}
            for i in range(20)
        ],
    })
