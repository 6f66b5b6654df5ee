"""``ledger api serve``: serves the ledger named by its options, and stops on SIGTERM."""

import re
import signal
import subprocess
import sys
import time

import httpx

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
