"""The layering rules: imports point inward, and the core stays pure."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level modules it must never import
FORBIDDEN = {
    "ledger_core": {"streams", "connectors", "schemas", "confluent_kafka", "rocksdict",
                    "socket", "subprocess", "requests", "httpx", "random", "time"},
    # the NACHA library stands alone: it knows files, not ledgers, and does no I/O
    "nacha": {"ledger_core", "schemas", "streams", "connectors", "ledger_cli", "confluent_kafka",
              "rocksdict", "socket", "subprocess", "requests", "httpx", "random", "time", "os",
              "pathlib"},
    # the ISO 8583 message rules stand alone too: messages, not ledgers, and no I/O
    "iso8583_spec": {"ledger_core", "schemas", "streams", "connectors", "ledger_cli",
                     "confluent_kafka", "rocksdict", "socket", "subprocess", "requests", "httpx",
                     "random", "time", "os", "pathlib"},
    "schemas": {"streams", "connectors", "confluent_kafka", "rocksdict"},
    "streams": {"connectors", "ledger_cli"},
    "connectors": {"ledger_cli"},
}
# calls that read a clock or a random source: the core gets time and ids as arguments
IMPURE_CALLS = {"now", "utcnow", "today", "uuid1", "uuid4", "time", "monotonic", "urandom"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_inward(package: str) -> None:
    """No module of the package imports a layer further out or a forbidden library."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & FORBIDDEN[package])
        for path in _modules(package)
        if _imported_roots(path) & FORBIDDEN[package]
    }
    assert _modules(package), f"{package} has no modules"
    assert offenders == {}


@pytest.mark.parametrize("package", ["ledger_core", "nacha", "iso8583_spec"])
def test_the_pure_packages_read_no_clock_and_no_randomness(package: str) -> None:
    """The pure packages never call now()/today()/uuid4()/time(): time and ids are arguments."""
    offenders = []
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in IMPURE_CALLS):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}()")
    assert offenders == []
