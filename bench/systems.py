"""The systems a benchmark drives: the ledger's processor processes, or one of the apps in
``bench/apps`` (pass-through, faust, quixstreams), each on its own fresh topics.

Every system takes postings on ``<prefix>.commands`` and writes a result per posting to
``<prefix>.results`` and balance records to ``<prefix>.balances``; ``expected`` says how many
of each a number of postings produces, which is how a benchmark knows the work is done.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from bench.broker import BENCH_HOME, REPO, create_topics, delete_topics, fresh_prefix
from bench.checkouts import checkout
from bench.workload import (
    JsonPostings,
    LedgerPostings,
    Posting,
    catalog,
    customers,
    set_catalog,
)
from ledger_cli.processor_process import ProcessorProcess
from ledger_core import Account, Journal, TranCode
from ledger_core.catalog import CatalogKind
from streams.client import LedgerClient
from streams.errors import LedgerError
from streams.topics import Topics

PEERS_PYTHON = Path(os.environ.get("LEDGER_PEERS_PYTHON", REPO / ".venv-peers" / "bin" / "python"))
APPS = Path(__file__).resolve().parent / "apps"


class System:
    """What every system under test offers a benchmark."""

    name = ""
    prefix = ""
    partitions = 6
    # Results carry the command's id as their key (the pass-through copies the input key).
    keyed_results = True
    # Transaction markers seen on the results topic in the last measurement (see Watcher).
    markers = 0

    @property
    def commands(self) -> str:
        """The topic postings go to."""
        return f"{self.prefix}.commands"

    @property
    def results(self) -> str:
        """The topic with one result per posting."""
        return f"{self.prefix}.results"

    @property
    def balances(self) -> str:
        """The topic with the balance records."""
        return f"{self.prefix}.balances"

    def expected(self, postings: int) -> dict[str, int]:
        """Outputs that ``postings`` postings produce, per topic."""
        return {self.results: postings, self.balances: 2 * postings}

    def postings(self, count: int) -> list[Posting]:
        """``count`` encoded postings for this system."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the processes (and create what they need)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the processes and delete the run's topics and state."""
        raise NotImplementedError


class LedgerSystem(System):
    """``processes`` ledger processor processes on a fresh ledger with ``accounts`` customers."""

    def __init__(self, bootstrap: str, partitions: int = 6, processes: int = 1,
                 batch_max: int = 500, batch_timeout_ms: int = 10, accounts: int = 1000,
                 house_share: float = 1.0, commit: str | None = None,
                 set_depth: int = 0) -> None:
        self.bootstrap = bootstrap
        # The processor of another commit, checked out beside this one, when given.
        self.source = None if commit is None else checkout(commit)
        self.partitions = partitions
        self.processes = processes
        self.batch = ("--batch-max", str(batch_max), "--batch-timeout-ms", str(batch_timeout_ms))
        self.accounts = customers(accounts)
        self.house_share = house_share
        # How many account sets each customer's entries roll up into (bench.account_sets).
        assert set_depth == 0 or house_share == 1.0, "sets are measured on ACH_CREDIT alone"
        self.set_depth = set_depth
        self.name = "ledger" if commit is None else f"ledger@{commit}"
        self.processors: list[ProcessorProcess] = []
        self._encoder: LedgerPostings | None = None

    def start(self) -> None:
        """Start the processors, then create the journal, house, tran codes and customers."""
        self.prefix = fresh_prefix("ledger")
        self.home = BENCH_HOME / "runs" / self.prefix
        topics = Topics(self.prefix, self.partitions)
        for _ in range(self.processes):
            self.add_processor()
        client = LedgerClient(self.bootstrap, topics)
        try:
            sent = [client.send_catalog(*_create(entity)) for entity in catalog(self.accounts)]
            sent += [client.send_catalog(kind, body)
                     for kind, body in set_catalog(self.accounts, self.set_depth)]
            results = client.wait(sent, 300)
        finally:
            client.close()
        refused = [r for r in results.values() if r.status != "APPLIED"]
        if refused:
            raise LedgerError(f"the benchmark's catalog was refused: {refused[0]}")
        self._encoder = LedgerPostings(self.accounts, self.partitions, self.house_share)

    def add_processor(self, wait: bool = True) -> ProcessorProcess:
        """Start one more processor process (with ``wait``, until it has partitions)."""
        instance = f"p{len(self.processors) + 1}"
        process = ProcessorProcess(self.bootstrap, self.prefix, instance,
                                   self.home / f"state-{instance}", self.home / f"{instance}.log",
                                   self.partitions, self.batch, self.source)
        self.processors.append(process.start(wait))
        return process

    def expected(self, postings: int) -> dict[str, int]:
        """Results, and balances: the house's and the customer's, and one per set the
        customer's entry rolls up into (every posting is an ACH_CREDIT at a house share of
        1)."""
        return {self.results: postings, self.balances: (2 + self.set_depth) * postings}

    def postings(self, count: int) -> list[Posting]:
        """ACH_CREDIT (and BOOK_TRANSFER for the non-house share) commands."""
        assert self._encoder is not None
        return self._encoder.make(count)

    def stop(self) -> None:
        """Stop every processor, delete the topics and the state."""
        for process in self.processors:
            process.stop()
        delete_topics(self.bootstrap, self.prefix)
        for process in self.processors:
            keep_log(process.log_file, f"{self.prefix}-{process.instance_id}")
        self.processors = []
        shutil.rmtree(self.home, ignore_errors=True)


def keep_log(log: Path, name: str) -> None:
    """Keep a run's log in ``var/bench/logs`` (the run's own folder is deleted)."""
    if log.exists():
        folder = BENCH_HOME / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, folder / f"{name}.log")


def _create(entity: Journal | Account | TranCode) -> tuple[CatalogKind, dict[str, Any]]:
    kind = (CatalogKind.CREATE_JOURNAL if isinstance(entity, Journal)
            else CatalogKind.CREATE_ACCOUNT if isinstance(entity, Account)
            else CatalogKind.CREATE_TRAN_CODE)
    return kind, entity.model_dump(mode="json", by_alias=True)


class AppSystem(System):
    """One of the apps in ``bench/apps`` as a child process, on freshly created topics."""

    SCRIPTS: ClassVar[dict[str, str]] = {"passthrough": "passthrough.py", "faust": "faust_fold.py",
                                         "quixstreams": "quix_fold.py"}

    def __init__(self, bootstrap: str, kind: str, partitions: int = 6, batch_max: int = 500,
                 batch_timeout_ms: int = 10, accounts: int = 1000, fanout: int = 1) -> None:
        self.bootstrap = bootstrap
        self.kind = kind
        self.name = kind if fanout == 1 else f"{kind} x{fanout}"
        self.partitions = partitions
        self.batch_max, self.batch_timeout_ms = batch_max, batch_timeout_ms
        self.encoder = JsonPostings(customers(accounts), partitions)
        self.fanout = fanout
        self.keyed_results = kind != "passthrough"
        self.process: subprocess.Popen[bytes] | None = None

    def expected(self, postings: int) -> dict[str, int]:
        """The pass-through copies each input ``fanout`` times; the peers fold like the ledger."""
        if self.kind == "passthrough":
            return {self.results: postings, self.balances: (self.fanout - 1) * postings}
        return super().expected(postings)

    def postings(self, count: int) -> list[Posting]:
        """JSON postings."""
        return self.encoder.make(count)

    def start(self) -> None:
        """Create the topics and start the app."""
        self.prefix = fresh_prefix(self.kind)
        self.home = BENCH_HOME / "runs" / self.prefix
        self.home.mkdir(parents=True, exist_ok=True)
        create_topics(self.bootstrap, [f"{self.prefix}.{s}" for s in
                                       ("commands", "legs", "results", "balances")],
                      self.partitions)
        if self.kind == "faust":
            # faust creates its changelog topics itself but may look them up before the
            # broker's metadata has them, and then crashes; create them first.
            create_topics(self.bootstrap, [f"{self.prefix}-faust-{table}-changelog"
                                           for table in ("customer-balances", "house-balances")],
                          self.partitions, compacted=True)
        python = sys.executable if self.kind == "passthrough" else str(PEERS_PYTHON)
        if not Path(python).exists():
            raise LedgerError(f"{python} is missing: `make bench` creates the peers' "
                              "virtualenv (.venv-peers)")
        command = [python, str(APPS / self.SCRIPTS[self.kind]), "--bootstrap", self.bootstrap,
                   "--prefix", self.prefix, "--partitions", str(self.partitions),
                   "--batch-max", str(self.batch_max),
                   "--batch-timeout-ms", str(self.batch_timeout_ms),
                   "--state-dir", str(self.home / "state"), "--fanout", str(self.fanout)]
        self.log = self.home / "app.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            cwd=self.home)

    def failure(self) -> str | None:
        """The app's log tail when it has exited, else None."""
        if self.process is not None and self.process.poll() is not None:
            return self.log.read_text(errors="replace")[-3000:]
        return None

    def stop(self) -> None:
        """SIGTERM the app (SIGKILL after 30 s), delete its topics and state."""
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(30)
            self.process = None
        time.sleep(0.5)
        delete_topics(self.bootstrap, self.prefix)
        keep_log(self.log, self.prefix)
        shutil.rmtree(self.home, ignore_errors=True)
