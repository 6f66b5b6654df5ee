"""The ACH workflow processor under chaos: ``ledger ach workflows run`` beside the
processors of the faulty run, SIGKILLed and restarted at seeded instants, while a client
sends a seeded stream of workflow tasks (each execution's tasks at once, in order, as a
client that does not wait would) and, at the end, a NACHA file is generated from the
submitted entries.

Proven at the end, once the ledger converged: every task got exactly one answer, each one
accepted; every execution is in the state its tasks lead to; each task's transaction was
sent to the ledger once; each customer's available balances on all three layers are what
its executions imply; the file holds every entry left SUBMITTED once, with control totals
equal to their amounts.
"""

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.ach.client import AchClient
from connectors.ach.entities import create_entities
from connectors.ach.file_generator import generate_file
from connectors.ach.process import WorkflowProcessorProcess
from connectors.ach.records import ResultStatus, decode_execution, decode_result
from connectors.ach.topics import AchTopics
from ledger_core import Account
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import State, Task, Workflow, task_transaction_id
from schemas.codec import DecodeError, codec
from streams.client import LedgerClient
from streams.errors import CommandTimeoutError, LedgerError
from streams.reading import read_committed
from streams.topics import Topics
from tests.ach.conftest import CASH, FUND, FUNDED, create_params

CUSTOMERS = 4
FEE = Decimal("0.25")
# Each execution's tasks, the state they lead to, what they move on the customer's
# available(SETTLED), (PENDING) and (ENCUMBRANCE) (amount A), and whether the file takes it
# (SUBMITTED when it is generated).
Moved = Callable[[Decimal], tuple[Decimal, Decimal, Decimal]]
PLANS: list[tuple[Workflow, tuple[Task, ...], State, Moved, bool]] = [
    (Workflow.PUSH, (Task.CREATE, Task.SUBMIT), State.SUBMITTED, lambda a: (-a - FEE,) * 3,
     True),
    (Workflow.PULL, (Task.CREATE, Task.SUBMIT), State.SUBMITTED,
     lambda a: (-FEE, a - FEE, a - FEE), True),
    (Workflow.PULL, (Task.CREATE, Task.SUBMIT, Task.SETTLE), State.SETTLED,
     lambda a: (a - FEE,) * 3, False),
    (Workflow.PUSH, (Task.CREATE, Task.CANCEL, Task.REIMBURSE_FEE), State.FEE_REIMBURSED,
     lambda a: (Decimal(0),) * 3, False),
    (Workflow.PULL, (Task.CREATE, Task.SUBMIT, Task.RETURN), State.RETURNED,
     lambda a: (-FEE,) * 3, False),
]
ANSWER_TIMEOUT_S = 600.0


class ChaosAch:
    """The ACH origination of the faulty run: customers, the workflow processor, a client."""

    def __init__(self, bootstrap: str, topics: Topics, home: Path, seed: int,
                 executions: int, duration_s: float) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.rng = random.Random(seed * 15485863)
        self.processor = WorkflowProcessorProcess(bootstrap, home / "ach-workflows.log",
                                                  "chaos-ach", topics.prefix)
        self.executions = executions
        self.duration_s = duration_s
        self.customers: list[uuid.UUID] = []
        # execution id -> (customer, plan, amount)
        self.planned: dict[uuid.UUID, tuple[uuid.UUID, int, Decimal]] = {}
        self.sent: list[str] = []
        self.problems: list[str] = []
        self.file_entries = 0
        self._client: AchClient | None = None
        self._sender: threading.Thread | None = None
        self._finished = False

    @property
    def account_ids(self) -> frozenset[str]:
        """Every account the ACH workflows book on."""
        return frozenset(str(a) for a in (*self.customers, CASH.account_id,
                                          *(a.account_id for a in ach.ACCOUNTS)))

    def start(self, client: LedgerClient) -> None:
        """Create the ACH entities and funded customers, start the workflow processor, and
        begin sending tasks."""
        create_entities(client)
        for entity in (CASH, FUND):
            assert client.create(entity, timeout_s=120).ok, entity
        for _ in range(CUSTOMERS):
            account = Account.model_validate({"accountId": str(uuid.uuid4()),
                                              "code": f"ACH.CHAOS.{uuid.uuid4().hex[:10]}",
                                              "name": "ACH customer"})
            assert client.create(account, timeout_s=120).ok
            funded = client.post(uuid.uuid4(), FUND.code, {
                "account": str(account.account_id), "amount": str(FUNDED)},
                account.account_id, timeout_s=120)
            assert funded.ok, funded
            self.customers.append(account.account_id)
        for _ in range(self.executions):
            self.planned[uuid.uuid4()] = (self.rng.choice(self.customers),
                                          self.rng.randrange(len(PLANS)),
                                          Decimal(self.rng.randrange(100, 50_000)).scaleb(-2))
        self.processor.start()
        self._client = AchClient(self.bootstrap, self.topics.prefix)
        self._sender = threading.Thread(target=self._send, name="ach-client")
        self._sender.start()

    def _send(self) -> None:
        assert self._client is not None
        pause = self.duration_s / max(1, len(self.planned))
        for execution_id, (customer, plan, amount) in self.planned.items():
            workflow, tasks, _state, _moved, _filed = PLANS[plan]
            for task in tasks:
                params: dict[str, Any] = (create_params(customer, str(amount), str(FEE))
                                          if task is Task.CREATE else
                                          {"returnCode": "R01"} if task is Task.RETURN else {})
                self.sent.append(self._client.send(execution_id, workflow, task, params))
            time.sleep(pause)

    def kill(self) -> str:
        """SIGKILL the workflow processor and start it again; the fault's description."""
        self.processor.kill()
        self._restart()
        return "SIGKILL the ACH workflow processor"

    def revive(self) -> list[str]:
        """Restart the workflow processor if it exited by itself, until the run is done."""
        if self._finished or self.processor.alive:
            return []
        self._restart()
        return ["the ACH workflow processor exited by itself; restarted"]

    def _restart(self) -> None:
        try:
            self.processor.start()
        except LedgerError as exc:
            self.problems.append(f"ach: the workflow processor did not restart: {exc}")

    def finish(self, revive: Callable[[], None]) -> None:
        """Wait for every task's answer (reviving what dies meanwhile), generate the file of
        the submitted entries, then stop the workflow processor."""
        assert self._sender is not None and self._client is not None
        self._sender.join()
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        answered: dict[str, Any] = {}
        while time.monotonic() < deadline:
            revive()
            try:
                answered = self._client.wait(self.sent, 20)
                break
            except CommandTimeoutError:
                continue
        else:
            self.problems.append(f"ach: not every task was answered in {ANSWER_TIMEOUT_S:.0f}s")
        refused = [r for r in answered.values() if r.status is not ResultStatus.ACCEPTED]
        if refused:
            self.problems.append(f"ach: {len(refused)} task(s) not accepted, e.g. {refused[0]}")
        self._client.close()
        try:
            generated = generate_file(self.bootstrap, self.topics.prefix,
                                      ach.CONFIGURATION.config_id)
            self.file_entries = 0 if generated.record is None else \
                generated.record.statistics.entries
            self._prove_file(generated.record)
        except LedgerError as exc:
            self.problems.append(f"ach: the file was not generated: {exc}")
        self._finished = True
        self.processor.stop()

    def _prove_file(self, record: Any) -> None:
        filed = [(PLANS[plan][0], amount) for _c, plan, amount in self.planned.values()
                 if PLANS[plan][4]]
        if record is None:
            if filed:
                self.problems.append(f"ach: no file for {len(filed)} submitted entries")
            return
        stats = record.statistics
        credits = sum(int(a * 100) for w, a in filed if w is Workflow.PUSH)
        debits = sum(int(a * 100) for w, a in filed if w is Workflow.PULL)
        if (stats.entries, stats.total_credit_cents, stats.total_debit_cents) != (
                len(filed), credits, debits):
            self.problems.append(f"ach: the file holds {stats.entries} entries, credits "
                                 f"{stats.total_credit_cents}, debits {stats.total_debit_cents}"
                                 f"; expected {len(filed)}, {credits}, {debits}")

    def prove(self, balances: dict[tuple[str, str, str], tuple[Any, ...]]) -> list[str]:
        """Every problem of the ACH run, once the ledger converged."""
        problems = list(self.problems)
        ach_topics = AchTopics(self.topics.prefix, self.topics.partitions)
        results = Counter(decode_result(m.value()).command_id for m in read_committed(
            self.bootstrap, ach_topics.results, range(ach_topics.partitions)))
        doubled = [c for c in self.sent if results[c] != 1]
        if doubled:
            problems.append(f"ach: {len(doubled)} task(s) without exactly one answer, e.g. "
                            f"{doubled[0]}: {results[doubled[0]]}")
        latest = {}
        for message in read_committed(self.bootstrap, ach_topics.executions,
                                      range(ach_topics.partitions)):
            execution = decode_execution(message.value())
            latest[execution.execution_id] = execution
        wrong = [e for e, (_c, plan, _a) in self.planned.items()
                 if e not in latest or latest[e].state is not PLANS[plan][2]]
        if wrong:
            problems.append(f"ach: {len(wrong)} execution(s) not where their tasks lead, e.g. "
                            f"{wrong[0]}")
        sent = Counter(_transaction_id(m.value()) for m in read_committed(
            self.bootstrap, self.topics.commands, range(self.topics.partitions)))
        tasks = [str(task_transaction_id(e, task)) for e, (_c, plan, _a) in self.planned.items()
                 for task in PLANS[plan][1]]
        twice = [t for t in tasks if sent[t] != 1]
        if twice:
            problems.append(f"ach: {len(twice)} task transaction(s) not sent once, e.g. "
                            f"{twice[0]}: {sent[twice[0]]}")
        for customer in self.customers:
            expected = [FUNDED] * 3
            for c, plan, amount in self.planned.values():
                if c == customer:
                    expected = [e + m for e, m in zip(expected, PLANS[plan][3](amount),
                                                      strict=True)]
            found = _available(balances, customer)
            if found != tuple(expected):
                problems.append(f"ach: customer {customer} has available {found}, expected "
                                f"{tuple(expected)}")
        return problems


def _transaction_id(value: bytes | None) -> str | None:
    """A command's transaction id; None for the poison the harness also sends there."""
    try:
        return str(codec().decode("command", value)["transaction_id"])
    except DecodeError:
        return None


def _available(balances: dict[tuple[str, str, str], tuple[Any, ...]],
               customer: uuid.UUID) -> tuple[Decimal, ...]:
    """available(SETTLED), (PENDING), (ENCUMBRANCE) of a credit-normal customer."""
    amounts = balances.get((str(customer), str(ach.JOURNAL.journal_id), "USD"))
    if amounts is None:
        return ()
    settled, pending, encumbrance = (Decimal(amounts[i + 1]) - Decimal(amounts[i])
                                     for i in (0, 2, 4))
    return (settled, settled + pending, settled + pending + encumbrance)
