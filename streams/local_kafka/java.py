"""Finding a Java runtime that can run a Kafka 4.x broker (Java 17 or newer)."""

import re
import shutil
import subprocess

from streams.errors import LocalKafkaError

JAVA_VERSION_MIN = 17


def require_java() -> str:
    """Return the path of a ``java`` binary of version 17 or newer, or raise a clear error."""
    java = shutil.which("java")
    if java is None:
        raise LocalKafkaError(
            "Java was not found on PATH. Kafka 4.x needs Java 17 or newer: install a JDK "
            "(on Debian: apt-get install openjdk-17-jre-headless) or run `make bootstrap`."
        )
    version = java_major_version(java)
    if version < JAVA_VERSION_MIN:
        raise LocalKafkaError(
            f"{java} is Java {version}; Kafka 4.x needs Java {JAVA_VERSION_MIN} or newer."
        )
    return java


def java_major_version(java: str) -> int:
    """Read the major version that ``java -version`` reports (``1.8`` counts as 8)."""
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if match is None:
        raise LocalKafkaError(f"could not read the version of {java}: {proc.stderr.strip()}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major
