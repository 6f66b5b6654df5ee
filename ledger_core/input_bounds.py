"""Bounds on untrusted input: text, JSON and CEL sources, each refused with the rule it breaks.

Everything a client sends is eventually encoded into Avro records, shown to operators, and
walked by recursive code (JSON decoders, the CEL parser). Each bound below exists because an
input past it stopped or misled the ledger:

- a lone surrogate (``"\\ud800"`` in JSON) is a Python ``str`` that UTF-8 cannot encode, so
  the record that carries it can never be written;
- control characters and bidi overrides in codes and names make an operator read something
  other than what is stored (U+202E turns ``EVIL.gnp`` into ``EVIL.png``);
- deep JSON and deep CEL overflow the recursion of the code that walks them;
- long text multiplies into records larger than a topic accepts.

Every check here walks its input without recursion, so the check itself cannot overflow.
The API, the client and the processor apply the same bounds; the processor never trusts the
others to have done so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from itertools import accumulate
from typing import NamedTuple

from ledger_core.rejections import RejectionCode

__all__ = [
    "CEL_LOGICAL_OPERATORS_MAX",
    "CEL_NESTING_MAX",
    "CEL_SOURCE_LENGTH_MAX",
    "CEL_TOKENS_MAX",
    "CODE_LENGTH_MAX",
    "DESCRIPTION_LENGTH_MAX",
    "JSON_DEPTH_MAX",
    "JSON_SIZE_MAX",
    "NAME_LENGTH_MAX",
    "TEXT_LENGTH_MAX",
    "Problem",
    "cel_source_problem",
    "json_text_depth",
    "json_value_problem",
    "label_problem",
    "shown",
    "text_problem",
]

# Codes (account, journal and tran codes, param and var names) and external ids.
CODE_LENGTH_MAX = 128
# Names of accounts and journals.
NAME_LENGTH_MAX = 256
# Descriptions of every entity, transaction and entry.
DESCRIPTION_LENGTH_MAX = 1024
# Any other string: a STRING param, a string inside metadata or a JSON param.
TEXT_LENGTH_MAX = 4096
# Nesting of JSON objects and arrays (metadata, params, catalog bodies, request bodies).
JSON_DEPTH_MAX = 32
# The size of one JSON value inside a record (metadata, params): its strings' characters,
# plus a few bytes for every other value.
JSON_SIZE_MAX = 64 * 1024
# CEL sources: their length, how deeply brackets nest, and how many tokens they hold. The
# parsers of both engines recurse per nesting level and per binary operator.
CEL_SOURCE_LENGTH_MAX = 4096
CEL_NESTING_MAX = 16
CEL_TOKENS_MAX = 200
# cel-python nests the message of each failing operand of && and || inside the next, so a
# chain of failing terms doubles its work with every operator (32 exhaust the memory).
CEL_LOGICAL_OPERATORS_MAX = 12
# What a rejection may echo of an offending value.
SHOWN_LENGTH_MAX = 200

# What a JSON value other than a string counts towards JSON_SIZE_MAX.
_SCALAR_SIZE = 8

# Bidirectional controls: embeddings, overrides and isolates, and the implicit marks.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


class Problem(NamedTuple):
    """Why a value is refused: the rule's code, a reason naming the limit, and where in a
    JSON value the offending member is."""

    code: RejectionCode
    reason: str
    path: str | None = None


def text_problem(value: str, length_max: int = TEXT_LENGTH_MAX) -> Problem | None:
    """A free text (a description, a param) must be valid Unicode and at most ``length_max``."""
    if len(value) > length_max:
        return Problem(RejectionCode.TEXT_TOO_LONG,
                       f"{len(value)} characters, more than the {length_max} allowed")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return Problem(RejectionCode.TEXT_NOT_VALID_UNICODE,
                           f"character {error.start} is a lone surrogate "
                           f"(U+{ord(value[error.start]):04X}), which no UTF-8 text can hold")
    return None


def label_problem(value: str, length_max: int = NAME_LENGTH_MAX) -> Problem | None:
    """A code or a name is free text that must also show an operator exactly what it holds:
    no control characters and no bidi controls."""
    if len(value) <= length_max and value.isascii() and value.isprintable():
        return None  # the usual label, checked in C: printable ASCII holds no control
    problem = text_problem(value, length_max)
    if problem is not None:
        return problem
    for index, char in enumerate(value):
        if _is_control(char):
            return Problem(RejectionCode.TEXT_HAS_CONTROL_CHARACTERS,
                           f"character {index} is the control character U+{ord(char):04X}, "
                           "which codes and names may not hold")
    return None


def _is_control(char: str) -> bool:
    return (char < " " or "\x7f" <= char <= "\x9f" or char in _BIDI_CONTROLS
            or "\ud800" <= char <= "\udfff"
            or (not char.isascii() and unicodedata.category(char) == "Cc"))


def shown(value: object, length_max: int = SHOWN_LENGTH_MAX) -> str:
    """``value`` as text a rejection may echo: clipped to ``length_max``, with control
    characters, bidi controls and lone surrogates written as escapes."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > length_max:
        text = text[:length_max - 3] + "..."
    if text.isascii() and text.isprintable():
        return text
    return "".join(f"\\u{ord(char):04x}" if _is_control(char) else char for char in text)


def json_value_problem(value: object, depth_max: int = JSON_DEPTH_MAX,
                       text_length_max: int = TEXT_LENGTH_MAX) -> Problem | None:
    """Decoded JSON (metadata, a params object) must nest at most ``depth_max`` levels, be
    at most ``JSON_SIZE_MAX`` in size, and hold only acceptable text in its keys and strings.
    The problem's ``path`` names the offending member (``metadata.notes[2]``)."""
    # The usual value passes one walk without paths; only a refused one is walked again,
    # naming where it goes wrong.
    if _json_walk(value, depth_max, text_length_max, named=False) is None:
        return None
    return _json_walk(value, depth_max, text_length_max, named=True)


def _json_walk(value: object, depth_max: int, text_length_max: int,
               named: bool) -> Problem | None:
    pending: list[tuple[object, int, str]] = [(value, 1, "")]
    size = 0
    while pending:
        item, depth, path = pending.pop()
        if type(item) is str:
            size += len(item)
            if len(item) > text_length_max or not item.isascii():
                problem = text_problem(item, text_length_max)
                if problem is not None:
                    return problem._replace(path=path or None)
        else:
            size += _SCALAR_SIZE
        if size > JSON_SIZE_MAX:
            return Problem(RejectionCode.JSON_TOO_LARGE,
                           f"more than the {JSON_SIZE_MAX} bytes a JSON value may hold")
        if not isinstance(item, Mapping | list | tuple):
            continue
        if depth > depth_max:
            return Problem(RejectionCode.JSON_TOO_DEEP,
                           f"objects and arrays nest more than {depth_max} levels",
                           path or None)
        if isinstance(item, Mapping):
            for key, child in item.items():
                member = (f"{path}.{key}" if path else str(key)) if named else ""
                pending.append((key, depth + 1, member))
                pending.append((child, depth + 1, member))
        else:
            pending.extend((child, depth + 1, f"{path}[{index}]" if named else "")
                           for index, child in enumerate(item))
    return None


# A JSON string, escapes included; one that is not closed runs to the end of the text. The
# possessive quantifiers never backtrack, so the scan is linear whatever the text.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]++")
_BRACKET_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_text_depth(text: str) -> int:
    """How deeply objects and arrays nest in JSON text, found without decoding it (brackets
    inside strings do not count), so a decoder never meets a document too deep for it.
    Malformed text gets a depth too (unclosed brackets count); the decoder refuses it after."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_BRACKET_STEPS.__getitem__, brackets)), default=0)


def cel_source_problem(source: str) -> Problem | None:
    """A CEL source must be short, shallow and small enough for every engine to parse and
    evaluate it without deep recursion or exponential work; counted by scanning, before any
    parser runs."""
    if len(source) > CEL_SOURCE_LENGTH_MAX:
        return _too_complex(f"{len(source)} characters, more than the {CEL_SOURCE_LENGTH_MAX} "
                            "allowed")
    problem = text_problem(source, CEL_SOURCE_LENGTH_MAX)
    if problem is not None:
        return problem
    counts = _scan_cel(source)
    if counts is None:
        # The CEL grammar's string rule backtracks exponentially over an unterminated
        # literal full of backslashes (40 of them take minutes), so it never sees one.
        return Problem(RejectionCode.CEL_EVALUATION_FAILED,
                       "a string literal is not terminated")
    deepest, tokens, logical = counts
    if deepest > CEL_NESTING_MAX:
        return _too_complex(f"brackets nest {deepest} levels, more than the {CEL_NESTING_MAX} "
                            "allowed")
    if tokens > CEL_TOKENS_MAX:
        return _too_complex(f"{tokens} terms and operators, more than the {CEL_TOKENS_MAX} "
                            "allowed")
    if logical > CEL_LOGICAL_OPERATORS_MAX:
        return _too_complex(f"{logical} && and || operators, more than the "
                            f"{CEL_LOGICAL_OPERATORS_MAX} allowed")
    return None


def _too_complex(reason: str) -> Problem:
    return Problem(RejectionCode.CEL_EXPRESSION_TOO_COMPLEX, reason)


def _scan_cel(source: str) -> tuple[int, int, int] | None:
    """(deepest bracket nesting, tokens, logical operators) of ``source``, or None when a
    string literal (quoted, triple-quoted or raw) does not end."""
    depth = deepest = tokens = logical = 0
    index, length = 0, len(source)
    previous_word = False
    while index < length:
        char = source[index]
        if char in "\"'":
            raw = index > 0 and source[index - 1] in "rR"
            end = _string_end(source, index, raw)
            if end is None:
                return None
            index, previous_word = end, False
            tokens += 1
            continue
        word = char.isalnum() or char in "_."
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
            tokens += 1
        elif char in ")]}":
            depth -= 1
        elif word and not previous_word:
            tokens += 1
        elif not word and not char.isspace() and char not in ",:":
            tokens += 1
            if char in "&|" and source[index + 1:index + 2] == char:
                logical += 1
        previous_word = word
        index += 1
    return deepest, tokens, logical


def _string_end(source: str, start: int, raw: bool) -> int | None:
    """The index just past the string literal opening at ``start``, or None."""
    quote = source[start]
    if source.startswith(quote * 3, start):
        end = source.find(quote * 3, start + 3)
        while end != -1 and not raw and _escaped(source, end):
            end = source.find(quote * 3, end + 1)
        return None if end == -1 else end + 3
    index = start + 1
    while index < len(source):
        char = source[index]
        if char == "\\" and not raw:
            index += 2
            continue
        if char == quote:
            return index + 1
        if char == "\n":
            return None
        index += 1
    return None


def _escaped(source: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and source[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
