"""The card program's PAN key: from a file or the environment, at least 32 bytes, and never
shown in an error."""

from pathlib import Path

import pytest

from streams.card_keys import PAN_KEY_VARIABLE, load_pan_key
from streams.errors import LedgerError

KEY = "k3y-of-the-card-program-0123456789"


def test_the_variable_is_the_key() -> None:
    """LEDGER_CARD_PAN_KEY's value, as UTF-8 bytes, is the key."""
    assert load_pan_key(environ={PAN_KEY_VARIABLE: KEY}) == KEY.encode()


def test_a_key_file_wins_over_the_variable_and_loses_one_line_end(tmp_path: Path) -> None:
    """The file's bytes are the key, less the newline an editor adds; other bytes stay."""
    key_file = tmp_path / "pan.key"
    key_file.write_bytes(b"\x00\xff" * 16 + b" \n")
    assert load_pan_key(key_file, {PAN_KEY_VARIABLE: KEY}) == b"\x00\xff" * 16 + b" "
    key_file.write_bytes(KEY.encode() + b"\r\n")
    assert load_pan_key(key_file, {}) == KEY.encode()


@pytest.mark.parametrize("environ, named", [
    ({}, f"set {PAN_KEY_VARIABLE} or give --pan-key-file"),
    ({PAN_KEY_VARIABLE: KEY[:31]}, f"{PAN_KEY_VARIABLE} holds 31 bytes"),
    ({PAN_KEY_VARIABLE: ""}, f"{PAN_KEY_VARIABLE} holds 0 bytes"),
])
def test_a_missing_or_short_key_is_refused(environ: dict[str, str], named: str) -> None:
    """No key, or one under 32 bytes, is a LedgerError naming the source, not the key."""
    with pytest.raises(LedgerError, match=named) as refused:
        load_pan_key(environ=environ)
    assert KEY[:8] not in str(refused.value)


def test_a_short_or_missing_key_file_is_refused(tmp_path: Path) -> None:
    """A file under 32 bytes (after its line end), or none at all, is refused."""
    key_file = tmp_path / "pan.key"
    key_file.write_text(KEY[:31] + "\n")
    with pytest.raises(LedgerError, match="holds 31 bytes") as refused:
        load_pan_key(key_file, {PAN_KEY_VARIABLE: KEY})
    assert KEY[:8] not in str(refused.value)
    with pytest.raises(LedgerError, match="cannot read the PAN key file"):
        load_pan_key(tmp_path / "missing.key", {PAN_KEY_VARIABLE: KEY})
