"""GraphQL over HTTP: request errors, validation errors and the health check, each with a code."""

from tests.api.conftest import LiveApi


def test_a_body_that_is_not_json_is_a_bad_request(shared_api: LiveApi) -> None:
    """Malformed bodies get 400 with code bad_request."""
    response = shared_api.http.post(shared_api.server.url, content=b"{not json",
                                    headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["rule"] == "bad_request"
    missing = shared_api.http.post(shared_api.server.url, json={"variables": {}})
    assert missing.status_code == 400


def test_syntax_and_validation_errors_carry_their_codes(shared_api: LiveApi) -> None:
    """A syntax error is graphql_parse_failed; an unknown field graphql_validation_failed."""
    parse = shared_api.error("query { account(id: ")
    assert parse["extensions"]["rule"] == "graphql_parse_failed"
    unknown = shared_api.error('query { account(id: "00000000-0000-4000-8000-000000000001") '
                               "{ nickname } }")
    assert unknown["extensions"]["rule"] == "graphql_validation_failed"
    assert "nickname" in unknown["message"]
    bad_id = shared_api.error("query($id: UUID!) { account(id: $id) { name } }",
                              {"id": "not-a-uuid"})
    assert bad_id["extensions"]["rule"] == "graphql_validation_failed"


def test_a_get_is_refused_and_health_answers(shared_api: LiveApi) -> None:
    """GET /graphql is 405; GET /health reports the read model."""
    assert shared_api.http.get(shared_api.server.url).status_code == 405
    health = shared_api.http.get(shared_api.server.url.replace("/graphql", "/health"))
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["readModel"]["undecodable"] == 0
