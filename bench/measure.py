"""Clocks on the client side: sending postings, and seeing their outputs committed.

``Watcher`` is a read_committed consumer on a system's output topics, started at their
ends; it notes when each output arrives (the benchmark process's monotonic clock) and the
arrival of each result by its key. ``blast`` sends a backlog as fast as the producer takes
it; ``send_at_rate`` sends open-loop on a fixed schedule and stamps each posting with its
scheduled time, so a sender that falls behind shows up as latency rather than hiding it.
"""

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, Producer, TopicPartition

from bench.broker import broker
from bench.figures import median, save, table
from bench.workload import Posting
from streams.kafka_config import kafka_config
from streams.offsets import end_offset

if TYPE_CHECKING:
    from bench.systems import System


def producer(bootstrap: str) -> Producer:
    """The benchmarks' command producer: idempotent, acks=all, linger 1 ms (the client's)."""
    return Producer(kafka_config(bootstrap, {
        "enable.idempotence": True, "acks": "all", "linger.ms": 1,
        "queue.buffering.max.messages": 2_000_000,
    }))


def _produce(out: Producer, topic: str, posting: Posting) -> None:
    while True:
        try:
            out.produce(topic, posting.value, posting.key, partition=posting.partition)
            return
        except BufferError:
            out.poll(0.01)


class Watcher:
    """Counts committed outputs per topic and records when each result key arrives."""

    def __init__(self, bootstrap: str, topics: Sequence[str], partitions: int,
                 results_topic: str) -> None:
        self._consumer = Consumer(kafka_config(bootstrap, {
            "group.id": f"bench-watch-{uuid.uuid4()}", "isolation.level": "read_committed",
            "enable.auto.commit": False, "fetch.wait.max.ms": 5,
        }))
        assignment = [TopicPartition(t, p, end_offset(self._consumer, t, p))
                      for t in topics for p in range(partitions)]
        self._consumer.assign(assignment)
        self._starts = {(tp.topic, tp.partition): tp.offset for tp in assignment}
        self._bootstrap = bootstrap
        self._results_topic = results_topic
        self.counts = dict.fromkeys(topics, 0)
        self._total = dict.fromkeys(topics, 0)
        self.arrivals: dict[bytes, float] = {}
        self.last_arrival = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = self._consumer.consume(2000, timeout=0.05)
            now = time.monotonic()
            if messages:
                self.last_arrival = now
            for message in messages:
                if message.error() is not None:
                    continue
                topic = message.topic() or ""
                self.counts[topic] += 1
                self._total[topic] += 1
                if topic == self._results_topic:
                    self.arrivals[message.key() or b""] = now

    def markers(self, topic: str) -> int:
        """Offsets of ``topic`` that carried no visible record since the watcher started:
        transaction commit markers (and aborted records). Above zero, the outputs were
        written in transactions; a non-transactional producer leaves none."""
        ends = Consumer(kafka_config(self._bootstrap, {"group.id": f"bench-ends-{uuid.uuid4()}",
                                                       "isolation.level": "read_uncommitted"}))
        try:
            span = sum(end_offset(ends, t, p) - start
                       for (t, p), start in self._starts.items() if t == topic)
        finally:
            ends.close()
        return span - self._total[topic]

    def reset(self) -> None:
        """Forget what arrived so far (after a warm-up)."""
        for topic in self.counts:
            self.counts[topic] = 0
        self.arrivals = {}

    def wait_for(self, expected: dict[str, int], timeout_s: float) -> bool:
        """Block until every topic has at least its expected count; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while any(self.counts[t] < n for t, n in expected.items()):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Stop the thread and leave."""
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


def blast(out: Producer, topic: str, postings: Sequence[Posting]) -> float:
    """Send every posting as fast as the producer takes them; return the first send time."""
    started = time.monotonic()
    for posting in postings:
        _produce(out, topic, posting)
        out.poll(0)
    out.flush(60)
    return started


def send_at_rate(out: Producer, topic: str, postings: Sequence[Posting],
                 rate: float) -> dict[bytes, float]:
    """Send open-loop at ``rate`` per second; return each result key's scheduled send time."""
    scheduled: dict[bytes, float] = {}
    start = time.monotonic() + 0.05
    interval = 1.0 / rate
    for i, posting in enumerate(postings):
        due = start + i * interval
        delay = due - time.monotonic()
        if delay > 0.0005:
            time.sleep(delay)
        scheduled[posting.result_key] = due
        _produce(out, topic, posting)
        out.poll(0)
    out.flush(60)
    return scheduled


WARMUP_TIMEOUT_S = 240.0


def warm_up(system: "System", bootstrap: str, watcher: Watcher, out: Producer,
            count: int) -> None:
    """Send ``count`` postings and wait for all their outputs: the system is up and warm."""
    blast(out, system.commands, system.postings(count))
    if not watcher.wait_for(system.expected(count), WARMUP_TIMEOUT_S):
        raise RuntimeError(f"{system.name} did not answer the warm-up within "
                           f"{WARMUP_TIMEOUT_S:.0f}s (outputs seen: {watcher.counts})")
    watcher.reset()


def backlog_rate(system: "System", bootstrap: str, postings: int, warmup: int = 200,
                 timeout_s: float = 600.0,
                 during: Callable[[], None] | None = None) -> float:
    """Postings/s from the first send of ``postings`` postings to their last output visible
    to a read_committed consumer, on a started system (warmed up here first). ``during``
    runs once the backlog is sent (to change the system under load). Raises when a result
    is missing or seen twice."""
    watcher = Watcher(bootstrap, [system.results, system.balances], system.partitions,
                      system.results)
    out = producer(bootstrap)
    try:
        warm_up(system, bootstrap, watcher, out, warmup)
        batch = system.postings(postings)
        started = blast(out, system.commands, batch)
        if during is not None:
            during()
        if not watcher.wait_for(system.expected(postings), timeout_s):
            raise RuntimeError(f"{system.name}: outputs missing after {timeout_s:.0f}s "
                               f"({watcher.counts} of {system.expected(postings)})")
        finished = watcher.last_arrival
        time.sleep(0.5)
        distinct, seen = len(watcher.arrivals), watcher.counts[system.results]
        if seen != postings or (system.keyed_results and distinct != postings):
            raise RuntimeError(f"{system.name}: {seen} results for {postings} postings "
                               f"({distinct} distinct)")
        system.markers = watcher.markers(system.results)
        return postings / (finished - started)
    finally:
        watcher.close()
        out.flush(10)


def latencies_at(system: "System", bootstrap: str, rate: float, seconds: float,
                 warmup: int = 200, drain_s: float = 60.0) -> list[float]:
    """Command-to-result latencies (seconds, sorted) of an open-loop load at ``rate``/s held
    for ``seconds``; a posting without a result after ``drain_s`` counts as infinitely late."""
    watcher = Watcher(bootstrap, [system.results, system.balances], system.partitions,
                      system.results)
    out = producer(bootstrap)
    try:
        warm_up(system, bootstrap, watcher, out, warmup)
        batch = system.postings(int(rate * seconds))
        scheduled = send_at_rate(out, system.commands, batch, rate)
        watcher.wait_for({system.results: len(batch)}, drain_s)
        arrivals = watcher.arrivals
        return sorted(arrivals.get(key, float("inf")) - due for key, due in scheduled.items())
    finally:
        watcher.close()
        out.flush(10)


def ledger_sweep(name: str, label: str, values: Sequence[int], runs: int, postings: int,
                 system_for: Callable[[str, int], "System"],
                 settings: dict[str, Any]) -> str:
    """Postings/s of a ledger built by ``system_for(bootstrap, value)`` for each value, in
    ``runs`` rounds (every value once per round, so noise spreads over all of them); the
    table of medians with each value's ratio to the first, printed and saved as ``name``."""
    rates: dict[int, list[float]] = {value: [] for value in values}
    with broker() as bootstrap:
        for run_index in range(runs):
            for value in values:
                system = system_for(bootstrap, value)
                system.start()
                try:
                    rates[value].append(backlog_rate(system, bootstrap, postings))
                finally:
                    system.stop()
                print(f"run {run_index + 1}/{runs} {label} {value}: "
                      f"{rates[value][-1]:,.0f} postings/s", flush=True)
    base = median(rates[values[0]])
    rows = [(str(value), median(r), " ".join(f"{x:,.0f}" for x in r), median(r) / base)
            for value, r in rates.items()]
    text = table([label, "postings/s (median)", "runs", f"x {label} {values[0]}"], rows)
    save(name, {"settings": settings, "rates": {str(k): v for k, v in rates.items()},
                "report": text})
    return text
