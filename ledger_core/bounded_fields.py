"""Field types that carry the input bounds into the models that validate untrusted input.

A model field typed ``Code``, ``Name``, ``Description``, ``Text``, ``CelSource`` or
``JsonObject`` refuses what ``ledger_core.input_bounds`` refuses, with a pydantic error
whose type is the rejection code; ``bound_code`` turns such an error back into the code, so
callers answer with the rule (``text_not_valid_unicode``) instead of a generic
``command_invalid``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import ErrorDetails, PydanticCustomError

from ledger_core.input_bounds import (
    CODE_LENGTH_MAX,
    DESCRIPTION_LENGTH_MAX,
    NAME_LENGTH_MAX,
    Problem,
    cel_source_problem,
    json_value_problem,
    label_problem,
    text_problem,
)
from ledger_core.rejections import RejectionCode

__all__ = ["CelSource", "Code", "Description", "JsonObject", "Name", "Text", "bound_code"]

_BOUND_CODES = {code.value: code for code in (
    RejectionCode.TEXT_NOT_VALID_UNICODE, RejectionCode.TEXT_HAS_CONTROL_CHARACTERS,
    RejectionCode.TEXT_TOO_LONG, RejectionCode.JSON_TOO_DEEP, RejectionCode.JSON_TOO_LARGE,
    RejectionCode.CEL_EXPRESSION_TOO_COMPLEX, RejectionCode.CEL_EVALUATION_FAILED)}


def _refuse(problem: Problem | None) -> None:
    if problem is not None:
        reason = problem.reason if problem.path is None else f"{problem.path}: {problem.reason}"
        raise PydanticCustomError(problem.code.value, "{reason}", {"reason": reason})


def _code(value: str) -> str:
    _refuse(label_problem(value, CODE_LENGTH_MAX))
    return value


def _name(value: str) -> str:
    _refuse(label_problem(value, NAME_LENGTH_MAX))
    return value


def _description(value: str) -> str:
    _refuse(text_problem(value, DESCRIPTION_LENGTH_MAX))
    return value


def _text(value: str) -> str:
    _refuse(text_problem(value))
    return value


def _cel(value: str) -> str:
    _refuse(cel_source_problem(value))
    return value


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    _refuse(json_value_problem(value))
    return value


Code = Annotated[str, AfterValidator(_code)]
"""A code or identifier-like label: at most CODE_LENGTH_MAX, no control characters."""
Name = Annotated[str, AfterValidator(_name)]
"""A name an operator reads: at most NAME_LENGTH_MAX, no control characters."""
Description = Annotated[str, AfterValidator(_description)]
"""Free text of at most DESCRIPTION_LENGTH_MAX characters."""
Text = Annotated[str, AfterValidator(_text)]
"""Any other free text, at most TEXT_LENGTH_MAX characters."""
CelSource = Annotated[str, AfterValidator(_cel)]
"""A CEL source small enough for every engine to parse without deep recursion."""
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]
"""A JSON object (metadata, params) of bounded depth whose keys and strings are text."""


def bound_code(error: ErrorDetails) -> RejectionCode | None:
    """The rejection code of a validation error raised by one of these types, else None."""
    return _BOUND_CODES.get(error["type"])
