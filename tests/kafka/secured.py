"""A local cluster with a SASL_SSL listener and the StandardAuthorizer, and its users.

The broker's certificate is signed by a CA the tests make. Each user is a SCRAM-SHA-512
principal with a random password and a client properties file that holds everything but the
password, which goes in ``LEDGER_KAFKA_SASL_PASSWORD``, as an operator would keep it. The
PLAINTEXT listener is the administrator's: it creates users and ACLs.
"""

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from streams.local_kafka import LocalCluster
from streams.topics import Topics

# A bound on a command that must end by itself; a hang would otherwise hold the suite.
COMMAND_BOUND_S = 180


@dataclass(frozen=True)
class User:
    """One principal of the secured cluster."""

    name: str
    password: str
    properties: Path

    @property
    def principal(self) -> str:
        """As ACLs name it."""
        return f"User:{self.name}"

    def environment(self, password: str | None = None) -> dict[str, str]:
        """The environment of a process that connects as this user (or with ``password``)."""
        return {**os.environ, "LEDGER_KAFKA_CONFIG": str(self.properties),
                "LEDGER_KAFKA_SASL_PASSWORD": self.password if password is None else password}


class SecuredKafka:
    """The secured cluster, its CA and the users the tests made."""

    def __init__(self, cluster: LocalCluster, ca: Path, home: Path) -> None:
        self.cluster = cluster
        self.ca = ca
        self.home = home
        self.bootstrap = cluster.sasl_ssl_bootstrap_servers
        self.admin_bootstrap = cluster.bootstrap_servers

    def user(self, name: str, ca: Path | None = None) -> User:
        """Create a SCRAM user with a random password; it may do nothing until granted."""
        password = secrets.token_urlsafe(18)
        self.cluster.add_scram_user(name, password)
        return User(name, password, self.properties_file(name, name, ca or self.ca))

    def properties_file(self, file_name: str, user_name: str, ca: Path) -> Path:
        """Client properties for ``user_name`` trusting ``ca``; no password in it."""
        path = self.home / f"{file_name}.properties"
        path.write_text("# client settings of the secured test cluster\n"
                        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                        f"sasl.username={user_name}\nssl.ca.location={ca}\n")
        return path

    def grant(self, role: str, user: User, topics: Topics, sink_group: str | None = None
              ) -> None:
        """Create the ACLs of ``role`` for ``user`` with ``ledger kafka acls --apply``,
        as the administrator."""
        extra = ["--sink-group", sink_group] if sink_group else []
        done = ledger("kafka", "acls", role, "--principal", user.principal, "--apply",
                      "--bootstrap-servers", self.admin_bootstrap,
                      "--topic-prefix", topics.prefix, *extra, env=dict(os.environ))
        assert done.returncode == 0, done.stderr


def ledger(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one ``ledger`` command to its end."""
    return subprocess.run([sys.executable, "-m", "ledger_cli", *args], capture_output=True,
                          text=True, env=env, timeout=COMMAND_BOUND_S, check=False)
