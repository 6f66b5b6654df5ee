"""The README's path from ``make demo`` to one's own ledger, walked as a new user would, with
its own state directory (its own local broker).

Each step once failed: a processor started without ``--partitions`` refused the demo's
3-partition topics; after ``ledger kafka start --fresh`` a processor refused its old state
("another cluster"); ``ledger api serve`` started before any processor exited.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ledger_core import tutorial
from tests.scrape import Endpoint, free_port

pytestmark = pytest.mark.kafka

STEP_BOUND_S = 600
READY_S = 120.0


class Walk:
    """``ledger`` commands with one state directory, as one user's shell would run them."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.environment = {**os.environ, "LEDGER_STATE_DIR": str(home / "state"),
                            "PYTHONUNBUFFERED": "1"}
        self.environment.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        self.background: list[subprocess.Popen[bytes]] = []

    def run(self, *args: str) -> str:
        """A command to its end; it must succeed. Its output."""
        done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                              env=self.environment, timeout=STEP_BOUND_S, check=False)
        assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
        return done.stdout

    def start(self, name: str, *args: str) -> Path:
        """A long-running command; its log."""
        log = self.home / f"{name}.log"
        with open(log, "ab") as out:
            self.background.append(subprocess.Popen(
                [sys.executable, "-m", "ledger_cli", *args], stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.environment))
        return log

    def wait_for(self, log: Path, text: str) -> None:
        """Until ``log`` shows ``text``; fail if the process exited first."""
        process = self.background[-1]
        deadline = time.monotonic() + READY_S
        while text not in log.read_text(errors="replace"):
            assert process.poll() is None, f"it exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {text!r} in:\n{log.read_text()[-3000:]}"
            time.sleep(0.1)

    def stop_background(self) -> None:
        """SIGTERM what runs in the background, and wait for it."""
        for process in self.background:
            if process.poll() is None:
                process.terminate()
                process.wait(60)
        self.background.clear()


def test_from_make_demo_to_ones_own_ledger_without_an_error(tmp_path: Path) -> None:
    """The demo, then the ``ledger`` command on its broker, then a fresh broker with the API
    started before the processor."""
    walk = Walk(tmp_path)
    try:
        assert "5.25 USD" in walk.run("ledger_cli.demo")
        walk.run("ledger_cli", "kafka", "start")
        processor = walk.start("processor", "processor", "run", "--instance-id", "p1")
        walk.wait_for(processor, "assigned [")
        posted = json.loads(walk.run(
            "ledger_cli", "post", "--json", "--tran-code", "ACH_CREDIT",
            "--param", f"account={tutorial.ERNIE.account_id}", "--param", "amount=1.00",
            "--param", "effective=2026-12-01"))
        assert posted["status"] == "POSTED", posted
        balance = json.loads(walk.run("ledger_cli", "balance", "--json",
                                      str(tutorial.ERNIE.account_id)))
        assert '"6.25"' in json.dumps(balance), balance
        walk.stop_background()

        walk.run("ledger_cli", "kafka", "start", "--fresh")
        api_port, metrics_port = free_port(), free_port()
        api = walk.start("api", "api", "serve", "--port", str(api_port),
                         "--metrics-port", str(metrics_port))
        endpoint = Endpoint(f"http://127.0.0.1:{metrics_port}")
        walk.wait_for(api, "do not exist yet")
        assert endpoint.status("/readyz") == 503
        processor = walk.start("processor", "processor", "run", "--instance-id", "p1")
        walk.wait_for(processor, "assigned [")
        assert endpoint.readiness_seen(READY_S)[-1] == 200, api.read_text()[-3000:]
        walk.wait_for(api, "serving the GraphQL API")
        answer = httpx.post(f"http://127.0.0.1:{api_port}/graphql",
                            json={"query": "{ __typename }"}, timeout=30)
        assert answer.json() == {"data": {"__typename": "Query"}}
    finally:
        walk.stop_background()
        subprocess.run([sys.executable, "-m", "ledger_cli", "kafka", "stop"],
                       env=walk.environment, timeout=120, check=False, capture_output=True)
