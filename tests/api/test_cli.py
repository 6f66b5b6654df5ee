"""``ledger api serve`` and the API child process: they serve the ledger named by their
options, and stop cleanly on SIGTERM."""

import re
import signal
import subprocess
import sys
import time

import httpx

from connectors.graphql_api import ApiProcess
from tests.api.conftest import LiveApi

START_TIMEOUT_S = 60.0


def test_ledger_api_serve_answers_and_stops_on_sigterm(shared_api: LiveApi) -> None:
    """The command logs its URL once ready, answers queries there, and exits 0 on SIGTERM."""
    ledger = shared_api.ledger
    log_file = ledger.home / "api-serve.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger_cli", "api", "serve", "--port", "0",
             "--bootstrap-servers", ledger.bootstrap, "--topic-prefix", ledger.topics.prefix],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (found := re.search(r"at (http://\S+/graphql)", log_file.read_text())):
            assert process.poll() is None, log_file.read_text()
            assert time.monotonic() < deadline, log_file.read_text()
            time.sleep(0.1)
        answer = httpx.post(found.group(1), json={"query": "{ journal { code } }"}, timeout=30)
        assert answer.json() == {"data": {"journal": {"code": "DEFAULT"}}}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log_file.read_text()


def test_an_api_process_serves_until_stopped(shared_api: LiveApi) -> None:
    """ApiProcess (the demo's) starts a child that serves, and stops it cleanly."""
    ledger = shared_api.ledger
    api = ApiProcess(ledger.bootstrap, ledger.topics.prefix, ledger.home / "api-child.log")
    api.start()
    try:
        answer = httpx.post(api.url, json={"query": "{ journal { status } }"}, timeout=30)
        assert answer.json() == {"data": {"journal": {"status": "ACTIVE"}}}
    finally:
        api.stop()
    assert "Traceback" not in api.log_file.read_text()
