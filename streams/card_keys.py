"""The card program's PAN key: the HMAC key under which a card's PAN is hashed.

Everything that hashes a PAN (``ledger card create``, the card authorization server) must
use the same key, or a card is never found again; so the key is loaded in one place. It comes
from a file (``--pan-key-file``) or from ``LEDGER_CARD_PAN_KEY``, whose value is the key.
No message here ever shows the key.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from ledger_core.cards import PAN_KEY_LENGTH_MIN
from streams.errors import LedgerError

PAN_KEY_VARIABLE = "LEDGER_CARD_PAN_KEY"


def load_pan_key(key_file: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> bytes:
    """The PAN key from ``key_file`` when given, else from ``$LEDGER_CARD_PAN_KEY``.

    A file's bytes are the key, less one trailing line end (what an editor or ``echo`` adds);
    the variable's value is the key, as UTF-8. Raise LedgerError when there is no key or it
    is shorter than PAN_KEY_LENGTH_MIN bytes."""
    if key_file is not None:
        try:
            key = key_file.read_bytes()
        except OSError as exc:
            raise LedgerError(f"cannot read the PAN key file {key_file}: {exc.strerror}") from exc
        key = key[:-2] if key.endswith(b"\r\n") else key.removesuffix(b"\n")
        source = f"the PAN key file {key_file}"
    else:
        value = (os.environ if environ is None else environ).get(PAN_KEY_VARIABLE)
        if value is None:
            raise LedgerError(f"no PAN key: set {PAN_KEY_VARIABLE} or give --pan-key-file")
        key = value.encode("utf-8", "surrogateescape")
        source = PAN_KEY_VARIABLE
    if len(key) < PAN_KEY_LENGTH_MIN:
        raise LedgerError(f"{source} holds {len(key)} bytes; a PAN key has at least "
                          f"{PAN_KEY_LENGTH_MIN}")
    return key
