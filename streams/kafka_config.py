"""The user's Kafka client properties, for every client the ledger builds.

A managed or bank cluster wants its own client settings (``security.protocol``,
``sasl.mechanism``, ``sasl.username``, ``ssl.ca.location``, ...). They come from a librdkafka
properties file (``key=value`` lines, ``#`` comments) named by ``--kafka-config FILE`` or
``$LEDGER_KAFKA_CONFIG``, and from ``LEDGER_KAFKA_<PROPERTY>`` environment variables, which
win over the file (``LEDGER_KAFKA_SASL_PASSWORD`` sets ``sasl.password``), so a secret can
stay out of files. ``--kafka-config`` is passed on through the environment, so the processes
a command starts (the demo's processor and API, the benchmarks' processors) use it too.

The properties a client needs for its guarantees (``transactional.id``, ``isolation.level``,
``enable.idempotence``, its group, ...) are the client's own and win over the user's.
Values are never logged and never part of an error message: they hold passwords.
"""

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from streams.errors import LedgerError

CONFIG_FILE_VARIABLE = "LEDGER_KAFKA_CONFIG"
PROPERTY_PREFIX = "LEDGER_KAFKA_"
# How long a broker that does not answer at all is waited for (a broker restarting is
# back within this); a refused login or certificate is reported at once.
CONNECT_TIMEOUT_S = 15.0
# librdkafka retries these for ever, but no retry can succeed without a new configuration.
_REFUSALS = {KafkaError._AUTHENTICATION: "Kafka refused the login",
             KafkaError._SSL: "the TLS connection to Kafka failed"}
_QUIET = logging.getLogger("streams.kafka_config.probe")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def client_properties(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The user's properties: the file's, then the environment's over them."""
    properties: dict[str, str] = {}
    path = environ.get(CONFIG_FILE_VARIABLE)
    if path:
        properties.update(read_properties_file(Path(path)))
    for variable, value in environ.items():
        if variable.startswith(PROPERTY_PREFIX) and variable != CONFIG_FILE_VARIABLE:
            properties[variable.removeprefix(PROPERTY_PREFIX).lower().replace("_", ".")] = value
    return properties


def kafka_config(bootstrap: str, own: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A confluent-kafka client configuration: the user's properties, the bootstrap
    servers, then the client's own settings."""
    return {**client_properties(), "bootstrap.servers": bootstrap, **(own or {})}


def read_properties_file(path: Path) -> dict[str, str]:
    """``key=value`` lines; blank lines and lines starting with ``#`` or ``!`` are skipped."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise LedgerError(f"cannot read the Kafka client configuration {path}: "
                          f"{exc.strerror}") from exc
    properties = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "!")):
            continue
        name, sep, value = stripped.partition("=")
        if not sep or not name.strip():
            # The line is not echoed: it may be a password that lost its "key=".
            raise LedgerError(f"{path}, line {number}: expected property=value")
        properties[name.strip()] = value.strip()
    return properties


def use_config_file(path: Path) -> None:
    """Make ``path`` the Kafka client configuration of this process and of the processes
    it starts; refuse a file that cannot be read or parsed before anything connects."""
    read_properties_file(path)
    os.environ[CONFIG_FILE_VARIABLE] = str(path.resolve())


def check_connection(bootstrap: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Return once a broker at ``bootstrap`` answers with the user's properties; else raise
    a LedgerError that says why: a refused login or certificate at once, silence after
    ``timeout_s``."""
    errors: list[KafkaError] = []
    try:
        admin = AdminClient(kafka_config(bootstrap, {"error_cb": errors.append,
                                                     "logger": _QUIET}))
    except KafkaException as exc:
        # librdkafka names the property; no property that holds a secret has a value that
        # it can refuse, so no secret is repeated here.
        raise LedgerError(f"the Kafka client configuration is refused: {exc.args[0].str()}"
                          ) from exc
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin.list_topics(timeout=1)
            return
        except KafkaException as exc:
            last = exc.args[0]
        admin.poll(0)  # serves error_cb
        for error in errors:
            if error.code() in _REFUSALS:
                raise LedgerError(f"{_REFUSALS[error.code()]} at {bootstrap}: {error.str()}")
        if time.monotonic() > deadline:
            reason = errors[-1].str() if errors else last.str()
            raise LedgerError(f"no Kafka broker answered at {bootstrap} within "
                              f"{timeout_s:.0f}s: {reason}")
