"""The one root exception of the shell.

Everything the runtime, the CLI and the local Kafka tooling raise for an expected failure is a
``LedgerError``: its message is meant for a human and is printed without a traceback. Raw
``KafkaException`` values are wrapped at the boundary (``raise ... from exc``) so callers above
the Kafka wrappers never see them.

    LedgerError
     ├── LocalKafkaError      the local broker tooling could not do what was asked
     ├── TopicLayoutError     an existing topic has the wrong partition count or policy
     ├── StateError           the local state is corrupt or does not match Kafka
     ├── CommandTimeoutError       a result did not arrive in time (the command is not lost)
     └── CommandRefusedError       the client would not send a command the ledger would refuse
"""

from ledger_core import Rejection


class LedgerError(Exception):
    """An expected failure, reported to the user as its message alone."""


class LocalKafkaError(LedgerError):
    """The local Kafka tooling failed: Java, Maven, ports, or a broker that would not start."""


class TopicLayoutError(LedgerError):
    """An existing topic does not have the layout the ledger needs."""


class StateError(LedgerError):
    """Local state is corrupt or does not match what Kafka holds; never repaired silently."""


class CommandTimeoutError(LedgerError):
    """A command's result did not arrive in time; re-sending the same id is safe."""


class CommandRefusedError(LedgerError):
    """The client refused to send a command that breaks the input bounds or does not
    validate: the processor would reject it with the same rule, so it is not sent."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(f"{rejection.code.value}: {rejection.message}")
        self.rejection = rejection
