"""Resolving Apache Kafka's broker jars from Maven Central, cached outside the repository.

The broker is published as ``org.apache.kafka:kafka_2.13``. Its POM pulls every module the
broker needs except the SLF4J binding to Log4j 2, so without ``log4j-slf4j-impl`` the broker
logs nothing; we add it in the Log4j version the broker's own log4j-core uses.
"""

import os
import shutil
import subprocess
from pathlib import Path

from streams.errors import LocalKafkaError

# 4.4.0 has a POM on Maven Central but not all of its module jars (kafka-tools-api is missing),
# so 4.3.1 is the newest 4.x release that resolves.
KAFKA_VERSION = "4.3.1"
SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.25.4"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-ledger.local</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>{kafka}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""


def cache_root() -> Path:
    """Where downloaded jars live: ``$LEDGER_CACHE_DIR`` or ``~/.cache/kafka-ledger``."""
    configured = os.environ.get("LEDGER_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "kafka-ledger"


def ensure_jars(root: Path | None = None) -> Path:
    """Return the directory of the broker's jars, resolving them with Maven on first use."""
    home = (root or cache_root()) / f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}"
    libs = home / "libs"
    done = home / ".complete"
    if done.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError(
            "Maven (mvn) was not found on PATH; it fetches the Kafka broker jars from Maven "
            "Central. Install it (on Debian: apt-get install maven) or run `make bootstrap`."
        )
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(
        _POM.format(kafka=KAFKA_VERSION, scala=SCALA_VERSION, log4j=LOG4J_VERSION)
    )
    staging = home / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    proc = subprocess.run(
        [mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(home / "pom.xml"),
         "dependency:copy-dependencies", "-DincludeScope=runtime",
         f"-DoutputDirectory={staging}"],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise LocalKafkaError(_maven_failure(proc.stdout + proc.stderr))
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    done.write_text(KAFKA_VERSION + "\n")
    return libs


# What Maven prints when it cannot download: plugins or artifacts it could not fetch.
_UNREACHABLE_SIGNS = ("No plugin found", "Could not transfer", "Could not resolve",
                      "Unknown host", "UnknownHost", "Connection refused", "connect timed out")


def _maven_failure(output: str) -> str:
    lines = [line for line in output.splitlines() if "ERROR" in line][:3]
    detail = "\n  ".join(lines) or output.strip()[-500:]
    hint = (
        "Maven Central looks unreachable (check the network or a proxy in ~/.m2/settings.xml)"
        if any(sign in output for sign in _UNREACHABLE_SIGNS)
        else "Maven failed"
    )
    return f"could not fetch Kafka {KAFKA_VERSION} jars: {hint}.\n  {detail}"
