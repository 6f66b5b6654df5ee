"""The public surface: one sorted __all__, everything importable, and a pure package."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import ledger_core

FORBIDDEN_IMPORTS = {"streams", "connectors", "confluent_kafka", "rocksdict", "schemas",
                     "random", "secrets", "socket", "requests", "time"}  # fmt: skip
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "uuid1", "uuid4", "perf_counter", "open"}


def _isort_key(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted() -> None:
    """__all__ lists constants, then classes, then functions, each alphabetically."""
    assert ledger_core.__all__ == sorted(ledger_core.__all__, key=_isort_key)
    assert len(set(ledger_core.__all__)) == len(ledger_core.__all__)


def test_every_public_name_is_importable() -> None:
    """Each name in __all__ resolves on the package."""
    for name in ledger_core.__all__:
        assert getattr(ledger_core, name) is not None, name


def _modules() -> list[Path]:
    return sorted(Path(ledger_core.__file__).parent.glob("*.py"))


def test_ledger_core_imports_no_shell_and_no_io() -> None:
    """No module of ledger_core imports the runtime, Kafka, storage, randomness or a clock."""
    for path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path.name}: {name}"


def test_ledger_core_reads_no_clock() -> None:
    """No module calls now(), today(), uuid4() or similar sources of non-determinism."""
    for path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}"


def test_every_public_function_has_a_docstring() -> None:
    """Every public function, class and method of every module carries a docstring."""
    for info in pkgutil.iter_modules(ledger_core.__path__):
        module = importlib.import_module(f"ledger_core.{info.name}")
        assert module.__doc__, info.name
        tree = ast.parse(Path(module.__file__ or "").read_text())
        nodes = list(tree.body)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                nodes.extend(node.body)
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                assert ast.get_docstring(node), f"{info.name}.{node.name}"
