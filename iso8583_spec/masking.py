"""Keeping card numbers out of logs: a masked PAN, a masked hex dump, scrubbed texts."""

from __future__ import annotations

import re

MASK = "*"
# A run this long of bytes that read as digits may be a card number: 6 BCD bytes hold 12
# digits, the shortest PAN. An ASCII digit (0x30-0x39) is itself such a byte, so the same rule
# masks every run of 6 or more ASCII digits, well inside the 12 an ASCII PAN needs.
_CARD_LIKE_RUN = 6
# Nibbles a card number or a track 2 can show: the digits, and D, the BCD track separator.
_CARD_NIBBLES = frozenset(range(10)) | {0xD}
_DIGIT_RUN = re.compile(r"\d{6,}")


def mask_pan(pan: str) -> str:
    """The PAN with all but its last four characters masked; a PAN of four or fewer is all
    masked, since its last four would be all of it."""
    if len(pan) <= 4:
        return MASK * len(pan)
    return MASK * (len(pan) - 4) + pan[-4:]


def _card_like(byte: int) -> bool:
    return byte >> 4 in _CARD_NIBBLES and byte & 0x0F in _CARD_NIBBLES


def masked_hex(payload: bytes) -> str:
    """The payload in hex, two characters a byte, with every byte of a card-like run shown as
    ``**``: a run of 6 or more bytes whose nibbles are all digits (or the track separator D).
    That covers BCD card data and ASCII digits (and "=", the ASCII track separator) alike."""
    out: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if len(run) >= _CARD_LIKE_RUN:
            out.append(MASK * 2 * len(run))
        else:
            out.append(bytes(run).hex())
        run.clear()

    for byte in payload:
        if _card_like(byte):
            run.append(byte)
        else:
            flush()
            out.append(f"{byte:02x}")
    flush()
    return "".join(out)


def scrub(text: str) -> str:
    """``text`` with every run of 6 or more digits masked: for a message that may quote data."""
    return _DIGIT_RUN.sub(lambda match: MASK * len(match.group()), text)
