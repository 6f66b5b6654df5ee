"""The seeded chaos harness: a workload under faults, proven by the audit and by a fault-free
run of the same seed.

    python -m tests.chaos.harness --seed 7            # the full run (`make chaos`)
    python -m tests.chaos.harness --seed 7 --short    # the short variant `make test` runs

Faults, at instants drawn from the seed while the workload runs: SIGKILL of processor
processes (each restarted with the same instance id), SIGKILL of the Parquet and webhook
sinks (``tests/chaos/sinks.py``; each restarted), SIGKILL of the card authorization server
while a network sends it card messages (``tests/chaos/cards.py``; restarted, and the
unanswered messages repeated), SIGKILL of the ACH workflow processor while a client sends
it workflow tasks (``tests/chaos/ach.py``; restarted), a restart of the single broker,
SIGKILL and restart of one broker of a 3-node cluster, scaling processors 1 -> 2 -> 1, and
poison: every class of hostile input (``tests/chaos/poison.py``), each of which must get its
typed answer. At the end: `ledger audit` must find no violation (which includes: every
command has exactly one result or dead letter), the balances (the account sets' among them)
must equal the fault-free run's, each account set's balance must be the sum of its member
accounts' (so a roll-up lost or counted twice shows even where both runs agree), and the
sinks must have delivered every entry once and every balance version at least once, in
order, and every card message must have its answer, and each cardholder the
balances and holds its answers imply, and every workflow task its one answer, each
execution its state, each ACH customer its balances and the generated file its entries. The seed is
printed first; the same seed replays the same workload and the same fault schedule.
"""

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger_cli.processor_process import ProcessorProcess
from ledger_core import DEFAULT_JOURNAL_ID
from schemas.codec import codec
from streams.audit_log import AuditReport, run_audit
from streams.client import LedgerClient
from streams.local_kafka import LocalCluster, start_cluster
from streams.reading import read_committed
from streams.topics import Topics
from tests.chaos.ach import ChaosAch
from tests.chaos.cards import ChaosCards
from tests.chaos.poison import POISONS, Poisoner
from tests.chaos.sinks import ChaosSinks
from tests.chaos.workload import Op, Workload, build

PARTITIONS = 4


@dataclass(frozen=True)
class Plan:
    """How big a run is and which faults it suffers."""

    commands: int
    rate_per_s: float
    processor_kills: int
    sink_kills: int
    card_kills: int
    card_purchases: int
    ach_kills: int
    ach_executions: int
    broker_restart: bool
    scale: bool
    poisons: int

    @property
    def duration_s(self) -> float:
        """How long the workload is sent for."""
        return self.commands / self.rate_per_s


FULL = Plan(commands=6000, rate_per_s=150, processor_kills=24, sink_kills=12, card_kills=8,
            card_purchases=400, ach_kills=8, ach_executions=200, broker_restart=True,
            scale=True, poisons=2 * len(POISONS))
SHORT = Plan(commands=900, rate_per_s=150, processor_kills=3, sink_kills=2, card_kills=2,
             card_purchases=42, ach_kills=2, ach_executions=30, broker_restart=True,
             scale=True, poisons=len(POISONS))


@dataclass
class Outcome:
    """What one run of the workload left behind."""

    balances: dict[tuple[str, str, str], tuple[Any, ...]]
    statuses: dict[str, int]
    report: AuditReport
    faults: list[str] = field(default_factory=list)
    poison_problems: list[str] = field(default_factory=list)
    sink_problems: list[str] = field(default_factory=list)
    card_problems: list[str] = field(default_factory=list)
    # The card program's accounts: only the faulty run has them.
    card_accounts: frozenset[str] = frozenset()
    card_answers: dict[str, int] = field(default_factory=dict)
    ach_problems: list[str] = field(default_factory=list)
    # The ACH workflows' accounts: only the faulty run has them.
    ach_accounts: frozenset[str] = frozenset()
    # Each account set (by id) and the accounts it rolls up, all of them members from the
    # start.
    set_accounts: dict[str, frozenset[str]] = field(default_factory=dict)


class Run:
    """One ledger (its own topics) on a cluster, with processors and a sender."""

    def __init__(self, cluster: LocalCluster, home: Path, workload: Workload) -> None:
        self.cluster = cluster
        self.home = home
        self.workload = workload
        self.topics = Topics(prefix=f"chaos{uuid.uuid4().hex[:8]}", partitions=PARTITIONS)
        self.processors: dict[str, ProcessorProcess] = {}
        self.faults: list[str] = []
        self.sent: list[tuple[Op, str]] = []
        self.poisoner: Poisoner | None = None
        self.sinks: ChaosSinks | None = None
        self.cards: ChaosCards | None = None
        self.ach: ChaosAch | None = None

    def processor(self, instance_id: str) -> ProcessorProcess:
        """Start (or restart) the processor ``instance_id``."""
        process = self.processors.get(instance_id) or ProcessorProcess(
            self.cluster.bootstrap_servers, self.topics.prefix, instance_id,
            self.home / f"state-{instance_id}", self.home / f"{instance_id}.log", PARTITIONS)
        self.processors[instance_id] = process
        return process.start(wait=False)

    def revive(self) -> None:
        """Restart any processor or sink that died on its own (a supervisor's job)."""
        for instance_id, process in self.processors.items():
            if process.pid is not None and not process.alive:
                self.faults.append(f"{instance_id} exited by itself; restarted")
                process.start(wait=False)
        if self.sinks is not None:
            self.faults += self.sinks.revive()
        if self.cards is not None:
            self.faults += self.cards.revive()
        if self.ach is not None:
            self.faults += self.ach.revive()

    def execute(self, plan: Plan, faults: Callable[["Run", threading.Event], None] | None
                ) -> Outcome:
        """Create the catalog, send the workload at the plan's rate, then prove the result."""
        self.processor("p1").wait_assigned()
        client = LedgerClient(self.cluster.bootstrap_servers, self.topics)
        for entity in self.workload.catalog:
            assert client.create(entity, timeout_s=120).ok, entity
        done = threading.Event()
        injector = None
        if faults is not None:
            self.poisoner = Poisoner(self, LedgerClient(self.cluster.bootstrap_servers,
                                                        self.topics))
            self.sinks = ChaosSinks(self.cluster.bootstrap_servers, self.topics, self.home)
            self.sinks.start()
            self.cards = ChaosCards(self.cluster.bootstrap_servers, self.topics, self.home,
                                    self.workload.seed, plan.card_purchases, plan.duration_s)
            self.cards.start(client)
            self.ach = ChaosAch(self.cluster.bootstrap_servers, self.topics, self.home,
                                self.workload.seed, plan.ach_executions, plan.duration_s)
            self.ach.start(client)
            injector = threading.Thread(target=faults, args=(self, done))
            injector.start()
        _send(client, self, plan.rate_per_s)
        done.set()
        if injector is not None:
            injector.join()
        results = _wait_all(client, [command_id for _op, command_id in self.sent], self)
        if self.cards is not None:
            self.cards.finish(self.revive)
        if self.ach is not None:
            self.ach.finish(self.revive)
        _converge(client, self)
        client.close()
        poison_problems = []
        if self.poisoner is not None:
            poison_problems = self.poisoner.problems()
            self.poisoner.client.close()
        for process in self.processors.values():
            process.stop()
        report = run_audit(self.cluster.bootstrap_servers, self.topics, PARTITIONS,
                           tuple(p.state_dir for p in self.processors.values()))
        sink_problems = [] if self.sinks is None else _without_sets(
            self.sinks.prove(report.entries), self.workload.set_accounts)
        statuses: dict[str, int] = {}
        for result in results.values():
            key = result.code or result.status
            statuses[key] = statuses.get(key, 0) + 1
        balances = _balances(self.cluster.bootstrap_servers, self.topics)
        outcome = Outcome(balances, statuses, report, self.faults, poison_problems,
                          sink_problems)
        outcome.set_accounts = {str(set_id): frozenset(str(a) for a in accounts)
                                for set_id, accounts in self.workload.set_accounts.items()}
        if self.cards is not None:
            outcome.card_problems = self.cards.prove(balances)
            outcome.card_accounts = self.cards.account_ids
            outcome.card_answers = self.cards.answers()
        if self.ach is not None:
            outcome.ach_problems = self.ach.prove(balances)
            outcome.ach_accounts = self.ach.account_ids
        return outcome


def _send(client: LedgerClient, run: Run, rate: float) -> None:
    started = time.monotonic()
    for i, op in enumerate(run.workload.ops):
        if op.kind == "void":
            assert op.void_of is not None
            command_id = client.send_void(op.void_of, op.owner, op.transaction_id)
        else:
            command_id = client.send_post(op.transaction_id, op.tran_code, op.params_dict,
                                          op.owner)
        run.sent.append((op, command_id))
        ahead = started + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    client.flush(300)


def _wait_all(client: LedgerClient, sent: list[str], run: Run) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while True:
        run.revive()
        try:
            return client.wait(sent, timeout_s=20)
        except Exception:
            if time.monotonic() > deadline:
                raise


def _converge(client: LedgerClient, run: Run) -> None:
    """Wait for every leg to be applied, restarting processors that exit meanwhile."""
    deadline = time.monotonic() + 300
    while True:
        run.revive()
        try:
            client.wait_converged(20)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise


def _without_sets(problems: list[str], sets: Mapping[uuid.UUID, frozenset[uuid.UUID]]
                  ) -> list[str]:
    """The sink problems, less the warehouse's sums for account sets: a set has no entries
    of its own there (its entries are its members'), so the warehouse cannot sum them per
    set. Each member's balance is proven against the warehouse, and the set's against the
    sum of its members' (``rollup_problems``)."""
    prefixes = tuple(f"parquet: ('{set_id}', " for set_id in sets)
    return [problem for problem in problems if not problem.startswith(prefixes)]


def rollup_problems(set_accounts: Mapping[str, frozenset[str]],
                    balances: Mapping[tuple[str, str, str], tuple[Any, ...]],
                    run: str = "faulty run") -> list[str]:
    """Each set whose balance (every layer's totals and the version) is not the sum of the
    balances of the accounts it rolls up, in the default journal and each currency."""
    journal = str(DEFAULT_JOURNAL_ID)
    problems = []
    for set_id, accounts in sorted(set_accounts.items()):
        expected: dict[str, list[Decimal]] = {}
        for (account, journal_id, currency), values in balances.items():
            if account in accounts and journal_id == journal:
                summed = expected.setdefault(currency, [Decimal(0)] * len(values))
                for index, value in enumerate(values):
                    summed[index] += Decimal(value)
        found = {currency: [Decimal(value) for value in values]
                 for (account, journal_id, currency), values in balances.items()
                 if account == set_id and journal_id == journal}
        for currency in sorted(expected.keys() | found.keys()):
            mine, theirs = found.get(currency), expected.get(currency)
            if mine != theirs:
                problems.append(f"{run}: account set {set_id} ({currency}) is {mine}; its "
                                f"{len(accounts)} accounts sum to {theirs}")
    return problems


def _balances(bootstrap: str, topics: Topics) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    latest = {}
    for message in read_committed(bootstrap, topics.balances, range(PARTITIONS)):
        record = codec().decode("balance", message.value())
        key = (record["account_id"], record["journal_id"], record["currency"])
        amounts = [record[layer][side] for layer in ("settled", "pending", "encumbrance")
                   for side in ("dr_balance", "cr_balance")]
        latest[key] = (*amounts, record["version"])
    return latest


def fault_schedule(seed: int, plan: Plan, cluster_nodes: int
                   ) -> Callable[[Run, threading.Event], None]:
    """The faults of ``seed``: kill processors, restart or kill a broker, scale 1 -> 2 -> 1."""
    rng = random.Random(seed * 7919)
    duration = plan.duration_s
    events: list[tuple[float, str]] = [(rng.uniform(0.05, 0.95) * duration, "kill")
                                       for _ in range(plan.processor_kills)]
    events += [(rng.uniform(0.05, 0.95) * duration, f"sink-kill:{('parquet', 'webhook')[i % 2]}")
               for i in range(plan.sink_kills)]
    events += [(rng.uniform(0.05, 0.95) * duration, "card-kill") for _ in range(plan.card_kills)]
    events += [(rng.uniform(0.05, 0.95) * duration, "ach-kill") for _ in range(plan.ach_kills)]
    if plan.broker_restart:
        events.append((rng.uniform(0.3, 0.6) * duration, "broker"))
    if plan.scale:
        events += [(0.2 * duration, "scale-up"), (0.7 * duration, "scale-down")]
    classes: list[str] = []
    while len(classes) < plan.poisons:
        block = sorted(POISONS)
        rng.shuffle(block)
        classes += block
    events += [(rng.uniform(0.1, 0.9) * duration, f"poison:{name}")
               for name in classes[:plan.poisons]]
    events.sort()

    def inject(run: Run, done: threading.Event) -> None:
        started = time.monotonic()
        for at, event in events:
            wait = started + at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            run.revive()
            _fault(run, event, rng, cluster_nodes)
        done.wait()

    return inject


def _fault(run: Run, event: str, rng: random.Random, cluster_nodes: int) -> None:
    if event == "kill":
        running = sorted(i for i, p in run.processors.items() if p.pid is not None)
        victim = rng.choice(running)
        run.processors[victim].kill()
        run.faults.append(f"SIGKILL {victim}")
        run.processor(victim)
    elif event == "broker" and cluster_nodes == 1:
        run.cluster.stop()
        run.faults.append("restarted the broker")
        time.sleep(1.0)
        run.cluster.start()
    elif event == "broker":
        node = rng.randrange(1, cluster_nodes + 1)
        run.cluster.kill_node(node)
        run.faults.append(f"SIGKILL broker {node}")
        time.sleep(3.0)
        run.cluster.restart_node(node)
    elif event.startswith("sink-kill:"):
        assert run.sinks is not None
        run.faults.append(run.sinks.kill(event.removeprefix("sink-kill:")))
    elif event == "card-kill":
        assert run.cards is not None
        run.faults.append(run.cards.kill())
    elif event == "ach-kill":
        assert run.ach is not None
        run.faults.append(run.ach.kill())
    elif event == "scale-up":
        run.processor("p2")
        run.faults.append("scaled to 2 processors")
    elif event == "scale-down" and "p2" in run.processors:
        run.processors["p2"].stop()
        run.faults.append("scaled back to 1 processor")
    elif event.startswith("poison:"):
        assert run.poisoner is not None
        run.faults.append(run.poisoner.inject(event.removeprefix("poison:"), rng))


def chaos(seed: int, plan: Plan, nodes: int, home: Path, log: Callable[[str], None]
          ) -> tuple[Outcome, Outcome]:
    """Run the seed's workload with faults on a ``nodes``-node cluster, then without faults
    on a fresh single broker; return both outcomes."""
    workload = build(seed, plan.commands, PARTITIONS)
    cluster, _ = start_cluster(home / f"kafka-{nodes}", nodes=nodes)
    try:
        faulty = Run(cluster, home / "faulty", workload).execute(
            plan, fault_schedule(seed, plan, nodes))
    finally:
        cluster.stop()
    log(f"faults: {len(faulty.faults)}: " + "; ".join(faulty.faults))
    log(f"card answers: {faulty.card_answers}")
    calm_cluster, _ = start_cluster(home / "kafka-calm", nodes=1)
    try:
        calm = Run(calm_cluster, home / "calm", workload).execute(plan, None)
    finally:
        calm_cluster.stop()
    return faulty, calm


def main() -> int:
    """Run the harness from the command line; exit 1 on any violation or difference."""
    parser = argparse.ArgumentParser(prog="chaos")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--short", action="store_true", help="the short variant")
    parser.add_argument("--keep", action="store_true", help="keep logs and data of every run")
    parser.add_argument("--nodes", type=int, choices=(1, 3), action="append",
                        help="cluster sizes to run on (default: 1 and 3)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print(f"chaos seed {seed} (replay with --seed {seed})", flush=True)
    plan = SHORT if args.short else FULL
    failed = False
    for nodes in args.nodes or [1, 3]:
        home = Path(tempfile.mkdtemp(prefix=f"chaos-{seed}-{nodes}-"))
        faulty, calm = chaos(seed, plan, nodes, home, lambda line: print(line, flush=True))
        problems = check(faulty, calm)
        print(f"{nodes}-node run: {faulty.report.entries} entries, results {faulty.statuses}, "
              f"card answers {faulty.card_answers}, {len(problems)} problem(s)", flush=True)
        for problem in problems:
            print(f"  {problem}", flush=True)
        failed = failed or bool(problems)
        if problems or args.keep:
            print(f"  logs and data: {home}", flush=True)
        else:
            shutil.rmtree(home, ignore_errors=True)
    return 1 if failed else 0


def check(faulty: Outcome, calm: Outcome) -> list[str]:
    """Everything that makes the faulty run wrong."""
    problems = [f"audit: {v.rule} at {v.position}: {v.message}"
                for v in faulty.report.violations]
    problems += [f"fault-free audit: {v.rule}: {v.message}" for v in calm.report.violations]
    problems += faulty.poison_problems
    problems += faulty.sink_problems
    problems += faulty.card_problems
    problems += faulty.ach_problems
    problems += rollup_problems(faulty.set_accounts, faulty.balances)
    problems += rollup_problems(calm.set_accounts, calm.balances, "fault-free run")
    if not faulty.set_accounts or not all(
            any(key[0] == set_id for key in faulty.balances) for set_id in faulty.set_accounts):
        problems.append(f"account sets without a balance: {sorted(faulty.set_accounts)}")
    if faulty.statuses != calm.statuses:
        problems.append(f"results differ: {faulty.statuses} vs fault-free {calm.statuses}")
    # The card program and the ACH workflows run in the faulty run only (their answers, not
    # a calm twin, prove their balances), so their accounts have no fault-free counterpart.
    alone = faulty.card_accounts | faulty.ach_accounts
    shared = {k: v for k, v in faulty.balances.items() if k[0] not in alone}
    if shared != calm.balances:
        differing = sorted(k for k in shared.keys() | calm.balances.keys()
                           if shared.get(k) != calm.balances.get(k))
        problems.append(f"{len(differing)} balances differ from the fault-free run, e.g. "
                        f"{differing[0]}: {shared.get(differing[0])} vs "
                        f"{calm.balances.get(differing[0])}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
