#!/usr/bin/env bash
# Installs the system packages the project needs when they are missing: a JDK 17+ for the Kafka
# broker, Maven to fetch its jars, and Python's venv module. Debian/Ubuntu only; elsewhere it
# says what to install.
set -euo pipefail

need=()
java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\(\.\([0-9]*\)\)\{0,1\}.*/\1 \3/p' | head -n1 |
    awk '{ if ($1 == 1) print $2; else print $1 }'
}
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  need+=(openjdk-17-jre-headless)
fi
command -v mvn >/dev/null 2>&1 || need+=(maven)
# The tests of secured clients make their own CA and broker certificate.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)

[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: please install: ${need[*]} (Java 17+, Maven, python3 venv)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "bootstrap: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
