"""The schema accepts the tutorial's documents as written, and the package's surface is sorted."""

import pytest
from graphql import parse, validate

import connectors.graphql_api as api
from connectors.graphql_api import build_schema
from tests.api.conftest import DOCUMENTS


@pytest.mark.parametrize("path", sorted(DOCUMENTS.glob("*.graphql")), ids=lambda p: p.stem)
def test_the_tutorial_documents_validate_against_the_schema(path: object) -> None:
    """Every document under tests/api/documents is valid against the API's schema."""
    schema = build_schema()._schema
    assert validate(schema, parse(path.read_text())) == []  # type: ignore[attr-defined]


def test_the_public_api_is_sorted() -> None:
    """The package exports one sorted __all__ of names it defines."""
    assert api.__all__ == sorted(api.__all__)
    assert all(hasattr(api, name) for name in api.__all__)
