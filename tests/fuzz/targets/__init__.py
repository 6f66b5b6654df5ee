"""The fuzz targets: functions over bytes that run what the ledger runs on untrusted input.

Each target module defines ``test_one_input(data: bytes) -> None``. It returns normally for
every outcome the ledger is built to handle (a dead-lettered record, a ``Rejected`` answer, a
400, GraphQL errors) and lets anything else escape: an exception there is a finding. A check
that fails without an exception raises ``FindingError``. The ``command`` and ``catalog``
targets route each input through the processor's real router and catalog desk
(``_processor``), so they follow the processor's code instead of copying it.

This package imports no project module itself: the runner imports a target's module inside
``atheris.instrument_imports`` so that coverage reaches the modules the target exercises.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TARGETS", "FindingError", "Target"]


class FindingError(AssertionError):
    """An input broke a property of the ledger without raising an exception of its own."""


@dataclass(frozen=True)
class Target:
    """A fuzz target: its module and the top-level packages whose coverage guides it."""

    name: str
    module: str
    instrument: tuple[str, ...]
    summary: str


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("command", "tests.fuzz.targets.command",
               ("ledger_core", "schemas", "streams", "tests", "celpy"),
               "a posting command record through the processor's real Router.route "
               "(RocksDB state, id registry, containment) and the records it writes"),
        Target("catalog", "tests.fuzz.targets.catalog",
               ("ledger_core", "schemas", "streams", "tests", "celpy", "lark"),
               "a catalog command record through Router.route and the real CatalogDesk, "
               "and the catalog record and result it writes"),
        Target("cel", "tests.fuzz.targets.cel",
               ("ledger_core", "tests", "celpy", "lark"),
               "one CEL source: the source bound, compile_expression and the "
               "comprehension-depth check a tran code passes at creation, then evaluation"),
        Target("graphql_input", "tests.fuzz.targets.graphql_input",
               ("connectors", "tests", "graphql"),
               "an HTTP request body of the API: _request, parse, operation selection, "
               "validate, variable coercion (no execution)"),
    )
}
