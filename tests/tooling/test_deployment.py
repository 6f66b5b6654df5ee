"""The deployment files hold together: every service of docker-compose.yml runs a ``ledger``
command that parses, with the files it mounts, and the image carries every package.

(Where Docker exists, ``docker compose config`` and ``docker build .`` check them further;
this suite runs where it does not.)"""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from connectors.webhooks import load_config
from ledger_cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
LEDGER_SERVICES = {name: service for name, service in COMPOSE["services"].items()
                   if "build" in service}


def test_compose_runs_a_processor_the_api_both_sinks_and_the_card_server_from_one_image(
) -> None:
    """One image, built from the Dockerfile, for every role."""
    commands = {name: service["command"][:3] for name, service in LEDGER_SERVICES.items()}
    assert sorted(commands.values()) == [
        ["api", "serve", "--bootstrap-servers"], ["cards", "iso8583", "serve"],
        ["processor", "run", "--bootstrap-servers"], ["sink", "parquet", "run"],
        ["sink", "webhook", "run"]]
    assert {service["build"] for service in LEDGER_SERVICES.values()} == {"."}


@pytest.mark.parametrize("name", sorted(LEDGER_SERVICES))
def test_each_services_command_parses_and_reaches_the_internal_listener(name: str) -> None:
    """``ledger`` accepts the command as written, and it talks to kafka:19092, the listener
    the broker advertises to the other containers."""
    command = [str(part) for part in LEDGER_SERVICES[name]["command"]]
    args = build_parser().parse_args(command)
    assert args.bootstrap_servers == "kafka:19092"
    assert "INTERNAL://kafka:19092" in COMPOSE["services"]["kafka"]["environment"][
        "KAFKA_ADVERTISED_LISTENERS"]


def test_the_webhook_sinks_mounted_configuration_loads(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """The file the compose file mounts is a valid configuration whose secret comes from
    the environment the service sets."""
    service = LEDGER_SERVICES["webhook-sink"]
    [mount] = service["volumes"]
    source, target, _mode = mount.split(":")
    assert target == service["command"][service["command"].index("--config") + 1]
    assert "LEDGER_WEBHOOK_SECRET" in service["environment"]
    monkeypatch.setenv("LEDGER_WEBHOOK_SECRET", "whsec_" + "QUJD" * 8)
    config = load_config(ROOT / source)
    assert [s.id for s in config.subscriptions] == ["balances"]


def test_the_image_carries_every_package_the_project_installs() -> None:
    """Each package pyproject.toml installs is copied into the image before pip runs."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, flags=re.MULTILINE))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {pattern.rstrip("*")
                for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, packages - copied
    assert all((ROOT / path).is_dir() for path in copied)
    assert "pip install --no-cache-dir -c constraints.txt ." in dockerfile
