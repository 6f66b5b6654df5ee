"""The user's Kafka client properties: file, environment, and what the ledger keeps its own."""

from pathlib import Path

import pytest

from streams.errors import LedgerError
from streams.kafka_config import client_properties, kafka_config, read_properties_file


def test_a_properties_file_is_read_with_comments_and_blank_lines(tmp_path: Path) -> None:
    """key=value lines, # and ! comments, spaces around the = trimmed."""
    path = tmp_path / "client.properties"
    path.write_text("# managed cluster\n\nsecurity.protocol = SASL_SSL\n! legacy comment\n"
                    "sasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=a=b\n")
    assert read_properties_file(path) == {"security.protocol": "SASL_SSL",
                                          "sasl.mechanism": "SCRAM-SHA-512",
                                          "sasl.jaas.config": "a=b"}


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    """LEDGER_KAFKA_SASL_PASSWORD sets sasl.password over the file's; the file variable itself
    is no property."""
    path = tmp_path / "client.properties"
    path.write_text("sasl.username=ledger\nsasl.password=from-file\n")
    environ = {"LEDGER_KAFKA_CONFIG": str(path), "LEDGER_KAFKA_SASL_PASSWORD": "from-env",
               "LEDGER_KAFKA_SSL_CA_LOCATION": "/etc/ca.pem", "UNRELATED": "x"}
    assert client_properties(environ) == {"sasl.username": "ledger",
                                          "sasl.password": "from-env",
                                          "ssl.ca.location": "/etc/ca.pem"}


def test_the_clients_own_settings_win_over_the_users(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's isolation.level cannot weaken a read_committed consumer, nor move its
    bootstrap servers."""
    monkeypatch.setenv("LEDGER_KAFKA_ISOLATION_LEVEL", "read_uncommitted")
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP_SERVERS", "elsewhere:9092")
    monkeypatch.setenv("LEDGER_KAFKA_CLIENT_RACK", "az1")
    config = kafka_config("broker:9092", {"isolation.level": "read_committed"})
    assert config == {"bootstrap.servers": "broker:9092", "isolation.level": "read_committed",
                      "client.rack": "az1"}


def test_a_malformed_line_is_named_by_number_and_never_echoed(tmp_path: Path) -> None:
    """A line without '=' may be a password that lost its key: the error names the line,
    not its text."""
    path = tmp_path / "client.properties"
    path.write_text("sasl.username=ledger\nhunter2-secret\n")
    with pytest.raises(LedgerError) as refused:
        read_properties_file(path)
    assert "line 2" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """No traceback: the path and the reason."""
    with pytest.raises(LedgerError, match="cannot read the Kafka client configuration"):
        read_properties_file(tmp_path / "absent.properties")
