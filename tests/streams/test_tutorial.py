"""The seeds' ledgers through Kafka give the pure core's balances."""

from datetime import UTC, datetime

from ledger_core import Layer, MemoryLedger, Posted, card_lifecycle, tutorial
from tests.streams.conftest import KafkaLedger


def test_the_tutorial_through_kafka_leaves_ernie_and_assets_at_5_25(
    kafka_ledger: KafkaLedger,
) -> None:
    """Deposit 9.53 and withdraw 4.28 through the processor: the CDC balances match the core."""
    kafka_ledger.add_processor()
    client = kafka_ledger.client()
    for entity in (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES):
        assert client.create(entity).status == "APPLIED"
    pure = MemoryLedger()
    tutorial.install(pure)
    for posting in tutorial.POSTINGS:
        result = client.post(posting.transaction_id, posting.tran_code, posting.params,
                             owner=tutorial.ERNIE.account_id)
        assert result.status == "POSTED", result
        assert isinstance(pure.post(posting, datetime.now(UTC)), Posted)
    client.wait_converged()

    ernie = client.balances(tutorial.ERNIE.account_id)
    assets = client.balances(tutorial.ASSETS.account_id)
    assert [str(b.settled.normal_balance) for b in ernie] == ["5.25"]
    assert [str(b.settled.normal_balance) for b in assets] == ["5.25"]
    assert (ernie[0].settled.dr, ernie[0].settled.cr) == (pure_balance(pure, tutorial.ERNIE)
                                                          .settled.dr,
                                                          pure_balance(pure, tutorial.ERNIE)
                                                          .settled.cr)
    assert client.balances(tutorial.BERT.account_id) == []


def test_the_card_lifecycle_through_kafka_matches_the_core_at_every_step(
    kafka_ledger: KafkaLedger,
) -> None:
    """Fund, hold, release and settle: available(SETTLED/PENDING) equal the core's each step."""
    kafka_ledger.add_processor()
    client = kafka_ledger.client()
    entities = (*card_lifecycle.ACCOUNTS, *card_lifecycle.TRAN_CODES,
                card_lifecycle.CUSTOMER_NO_OVERDRAFT)
    for entity in entities:
        assert client.create(entity).status == "APPLIED"
    pure = MemoryLedger()
    card_lifecycle.install(pure)
    customer = card_lifecycle.CUSTOMER
    expected = [("100.00", "100.00"), ("100.00", "50.00"), ("100.00", "100.00"),
                ("50.00", "50.00")]
    steps = (card_lifecycle.FUND, card_lifecycle.HOLD, card_lifecycle.RELEASE,
             card_lifecycle.SETTLE)
    for command, (settled, pending) in zip(steps, expected, strict=True):
        if command is card_lifecycle.RELEASE:
            result = client.void(card_lifecycle.RELEASE.void_of, owner=customer.account_id)
        else:
            result = client.post(command.transaction_id, command.tran_code, command.params,
                                 owner=customer.account_id)
        assert result.status == "POSTED", result
        assert isinstance(pure.post(command, datetime.now(UTC)), Posted)
        [kafka] = client.balances(customer.account_id)
        core = pure_balance(pure, customer)
        got = (str(kafka.available(Layer.SETTLED).normal_balance),
               str(kafka.available(Layer.PENDING).normal_balance))
        assert got == (settled, pending)
        assert kafka.settled == core.settled and kafka.pending == core.pending


def pure_balance(ledger: MemoryLedger, account: object) -> object:
    """The single balance the core holds for an account."""
    [balance] = [b for (a, _j, _c), b in ledger.balances.items()
                 if a == account.account_id]  # type: ignore[attr-defined]
    return balance
