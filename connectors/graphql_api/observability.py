"""What one API instance tells its operator: metrics, liveness and readiness on a port of
their own (``streams.observability``).

The instance is ready once the topics of every ledger it serves (each tenant's) exist, their
read models have replayed them, and while each read model keeps up. Keeping up is measured
the way reads wait (``connectors.graphql_api.context``): every second the partition ends are
fetched, and a read model is *behind* by the age of the oldest fetch whose ends it has not
reached yet. A
read waits for ends fetched after it began, and gives up after its read timeout (10 s); an
instance behind by more than ``BEHIND_S_MAX`` would make reads slow and soon fail, so it is
not ready. Ends that cannot be fetched (Kafka does not answer) make it not ready too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from connectors.graphql_api.errors import KafkaUnavailableError
from connectors.graphql_api.metrics import ApiMetrics, Asgi, MeteredApp
from connectors.graphql_api.read_model import Part, ReadModel
from connectors.graphql_api.watermarks import Watermarks
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.observability import Readiness, process_registry, serve_observability
from streams.topics import Topics

__all__ = ["ApiObservability", "ReadModelLag", "observed"]

log = logging.getLogger(__name__)

TOPICS = "topics"
READ_MODEL = "read-model"
# Half the reads' wait for the read model: they still answer, but not for long.
BEHIND_S_MAX = 5.0
PROBE_S = 1.0
TOPICS_POLL_S = 1.0
# Fetches kept while the read model is behind; the oldest is always kept.
SAMPLES_MAX = 600


class ReadModelLag:
    """How far the read model is behind the partition ends, from ends fetched with
    ``sample`` (a thread calls it every ``PROBE_S`` once ``start``-ed)."""

    def __init__(self, read_model: ReadModel, watermarks: Watermarks, metrics: ApiMetrics,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read_model = read_model
        self._watermarks = watermarks
        self._metrics = metrics
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, dict[Part, int]]] = deque()
        self._error: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        """Fetch the ends now, and set the lag gauges from them."""
        try:
            ends = self._watermarks.ends_blocking(self._read_model.parts())
        except KafkaUnavailableError as exc:
            with self._lock:
                self._error = str(exc)
            return
        positions = self._read_model.stats()["positions"]
        for (topic, partition), end in ends.items():
            read = positions.get(f"{topic}[{partition}]", 0)
            self._metrics.read_model_lag.labels(topic, str(partition)).set(max(end - read, 0))
        with self._lock:
            self._error = None
            self._samples.append((self._clock(), ends))
            if len(self._samples) > SAMPLES_MAX:
                del self._samples[1]
        self._metrics.read_model_behind.set(self.behind_s())

    def behind_s(self) -> float:
        """The age of the oldest fetched ends the read model has not reached (0: none)."""
        with self._lock:
            while self._samples and self._reached(self._samples[0][1]):
                self._samples.popleft()
            return self._clock() - self._samples[0][0] if self._samples else 0.0

    def _reached(self, ends: dict[Part, int]) -> bool:
        try:
            self._read_model.wait_for_blocking(ends, 0)
        except LedgerError:
            return False
        return True

    def reason(self) -> str | None:
        """Why the read model keeps the instance from being ready, or None."""
        with self._lock:
            error = self._error
        if error is not None:
            return f"the partition ends cannot be fetched: {error}"
        behind = self.behind_s()
        if behind > BEHIND_S_MAX:
            return (f"the read model is {behind:.1f} s behind the partition ends (more than "
                    f"{BEHIND_S_MAX:g} s)")
        return None

    def start(self) -> None:
        """Sample every ``PROBE_S`` in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="api-read-model-lag",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(PROBE_S):
            self.sample()

    def stop(self) -> None:
        """Stop sampling and release the Kafka clients."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._watermarks.close()


class ApiObservability:
    """The metrics, readiness and their HTTP server of one API instance.

    Serving starts at once, before the instance opens, so that probes see it not ready
    while the topics are missing and while the read model replays them.
    """

    def __init__(self, bootstrap: str, port: int, host: str = "127.0.0.1") -> None:
        self._bootstrap = bootstrap
        registry = process_registry()
        self.metrics = ApiMetrics(registry)
        self.readiness = Readiness()
        self.readiness.block(TOPICS, "not looked for yet")
        self.readiness.block(READ_MODEL, "replaying the ledger's topics")
        self.server = serve_observability(registry, self.readiness, port, host)
        self._lags: list[ReadModelLag] = []

    @property
    def url(self) -> str:
        """The base URL of /metrics, /healthz and /readyz."""
        return self.server.url

    def metered(self, app: Asgi) -> MeteredApp:
        """``app`` with its requests measured."""
        return MeteredApp(app, self.metrics)

    def watch(self, read_models: list[tuple[ReadModel, Topics]]) -> None:
        """The read models have replayed their topics: from now on, readiness follows their
        lag, one condition per ledger (``read-model <prefix>``)."""
        for read_model, topics in read_models:
            lag = ReadModelLag(read_model, Watermarks(self._bootstrap), self.metrics)
            lag.sample()
            self.readiness.probe(f"{READ_MODEL} {topics.prefix}", lag.reason)
            lag.start()
            self._lags.append(lag)
        self.readiness.clear(READ_MODEL)

    def unwatch(self) -> None:
        """The read models stop: so does the watch on them."""
        if self._lags:
            self.readiness.block(READ_MODEL, "stopped")
        for lag in self._lags:
            lag.stop()
        self._lags = []

    def close(self) -> None:
        """Stop watching and serving."""
        self.unwatch()
        with contextlib.suppress(OSError):
            self.server.close()


def wait_for_topics(bootstrap: str, ledgers: list[Topics], readiness: Readiness,
                    timeout_s: float | None) -> None:
    """Return once every topic of the ledgers exists and its ends can be read; meanwhile
    ``readiness`` says why not (a processor creates the topics, and a topic just created is
    listed before its partitions have a leader that answers). An API started beside its
    processors by an orchestrator waits for them instead of exiting (``timeout_s`` None);
    one embedded in a program gives up after ``timeout_s`` with the reason."""
    admin = AdminClient(kafka_config(bootstrap, {"client.id": "ledger-api-topics"}))
    watermarks = Watermarks(bootstrap)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        while reason := _topics_unready(admin, watermarks, ledgers):
            readiness.block(TOPICS, reason)
            if deadline is not None and time.monotonic() > deadline:
                raise LedgerError(f"the API's topics were not ready after {timeout_s:.0f}s: "
                                  f"{reason}")
            time.sleep(TOPICS_POLL_S)
    finally:
        watermarks.close()
    readiness.clear(TOPICS)


def _read_or_written(topics: Topics) -> list[str]:
    # Only these: under Kafka ACLs the API's principal may not even see the others.
    return [topics.commands, topics.catalog_commands, topics.results, topics.catalog,
            topics.transactions]


def _topics_unready(admin: AdminClient, watermarks: Watermarks, ledgers: list[Topics]
                    ) -> str | None:
    try:
        found = admin.list_topics(timeout=10).topics
    except KafkaException as exc:
        return f"Kafka did not list the topics: {exc}"
    names = [name for topics in ledgers for name in _read_or_written(topics)]
    missing = [name for name in names if name not in found
               or found[name].error is not None or not found[name].partitions]
    if missing:
        return (f"{', '.join(missing)} do not exist yet: a processor creates them "
                "(`ledger processor run`)")
    try:
        watermarks.ends_blocking([(name, p) for name in names
                                  for p in found[name].partitions])
    except KafkaUnavailableError as exc:
        return f"the topics' ends cannot be read yet: {exc}"
    return None


@contextlib.contextmanager
def observed(bootstrap: str, port: int | None,
             host: str = "127.0.0.1") -> Iterator[ApiObservability | None]:
    """An instance's observability served on ``port`` for as long as the block runs (None,
    and nothing served, without a port)."""
    if port is None:
        yield None
        return
    observability = ApiObservability(bootstrap, port, host)
    try:
        yield observability
    finally:
        observability.close()
