"""The reports of docs/warehouse.md, run as written, against the ledger's own balances."""

import itertools
import json
import random
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors.parquet_sink import ParquetSink, RollPolicy, Warehouse
from ledger_cli.main import main
from ledger_core import tutorial
from tests.parquet_sink.conftest import FIRST_DAY, Posted, open_tutorial, post_ach
from tests.streams.conftest import KafkaLedger

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def report(heading: str) -> str:
    """The first SQL block under ``### heading`` in docs/warehouse.md."""
    section = DOC.read_text().split(f"### {heading}\n", 1)[1]
    match = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert match is not None, heading
    return match.group(1)


def signed(posting: Posted) -> Decimal:
    """What an ACH posting does to its customer's credit-normal balance."""
    return posting.amount if posting.tran_code == "ACH_CREDIT" else -posting.amount


@pytest.mark.kafka
def test_the_documented_reports_agree_with_the_ledger(kafka_ledger: KafkaLedger,
                                                      tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """Trial balance, a statement and daily volumes from the files equal the CDC balances
    and the postings sent; ``ledger sql`` prints them as a table, CSV, JSON and Parquet."""
    client = open_tutorial(kafka_ledger)
    posted = post_ach(client, 80, random.Random(11))
    client.wait_converged()
    out = tmp_path / "warehouse"
    sink = ParquetSink(kafka_ledger.bootstrap, kafka_ledger.topics, str(out),
                       RollPolicy(max_records=25, max_seconds=0.5))
    assert sink.run(until_end=True).records > 0
    warehouse = Warehouse(str(out))
    cdc = kafka_ledger.cdc_balances()

    trial = warehouse.query(report("Trial balance per journal and currency")).to_pylist()
    accounts = {(r["journal_id"], r["currency"], r["account_id"]): (r["debits"], r["credits"])
                for r in trial if r["account_id"] is not None}
    assert accounts == {(str(j), c, str(a)): (b.settled.dr, b.settled.cr)
                        for (a, j, c), b in cdc.items()}
    [total] = [r for r in trial if r["account_id"] is None]
    assert total["debits"] == total["credits"] == sum(d for d, _ in accounts.values())

    ernie = tutorial.ERNIE.account_id
    warehouse.set_variable("account", str(ernie))
    for start, end in ((date(2022, 9, 20), date(2022, 9, 22)), (FIRST_DAY, date(2030, 1, 1))):
        warehouse.set_variable("from", start.isoformat())
        warehouse.set_variable("to", end.isoformat())
        lines = warehouse.query(report("Account statement between two dates")).to_pylist()
        mine = [p for p in posted if p.account == ernie]
        assert sorted(r["amount"] for r in lines) == sorted(
            signed(p) for p in mine if start <= p.effective <= end)
        assert lines[-1]["balance"] == sum(signed(p) for p in mine if p.effective <= end)
        assert all(line["balance"] == before["balance"] + line["amount"]
                   for before, line in itertools.pairwise(lines))
    [ernie_balance] = [b for (a, _j, _c), b in cdc.items() if a == ernie]
    assert lines[-1]["balance"] == ernie_balance.settled.normal_balance

    volume = warehouse.query(report("Daily volume per tran code")).to_pylist()
    expected: dict[tuple[date, str], list[Decimal]] = defaultdict(list)
    for p in posted:
        expected[(p.effective, p.tran_code)].append(p.amount)
    assert {(r["effective"], r["tran_code"]): (r["transactions"], r["volume"])
            for r in volume} == {k: (len(v), sum(v)) for k, v in expected.items()}
    [assets] = [b for (a, _j, _c), b in cdc.items() if a == tutorial.ASSETS.account_id]
    assert sum(r["volume"] if r["tran_code"] == "ACH_CREDIT" else -r["volume"]
               for r in volume) == assets.settled.normal_balance

    query = "SELECT account_id, settled_normal_balance FROM balances ORDER BY account_id"
    assert main(["sql", "--warehouse", str(out), "--format", "json", query]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["account_id"]: r["settled_normal_balance"] for r in rows} == {
        str(a): str(b.settled.normal_balance.quantize(Decimal("0.0001")))
        for (a, _j, _c), b in cdc.items()}
    assert main(["sql", "--warehouse", str(out), "--format", "csv", query]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == "account_id,settled_normal_balance" and len(csv_lines) == 4
    assert main(["sql", "--warehouse", str(out), query]) == 0
    assert "(3 rows)" in capsys.readouterr().out
    target = tmp_path / "balances.parquet"
    assert main(["sql", "--warehouse", str(out), "--format", "parquet", "--output",
                 str(target), query]) == 0
    assert str(pq.read_schema(target).field("settled_normal_balance").type) == \
        "decimal128(38, 4)"
