"""``make demo``: a local broker, a processor, and the seeds' ledger posted through Kafka.

It starts from an empty ledger every time: a fresh local broker, a processor process, a
GraphQL API process and the webhook sink, then the tutorial (ACH deposit and withdrawal) sent
as GraphQL through the API, and one more withdrawal simulated with ``@dryRun``, with Ernie's
new balance delivered as a signed webhook to a receiver on loopback, and a card purchase
through the ISO 8583 server (authorization, partial reversal, clearing, a decline), printing
balances as it goes. It ends with the
trial balance that ``ledger sql`` reads from the Parquet files the Parquet sink wrote. It
stops what it started and exits 0, or exits 1 with the reason.
``--keep`` leaves the broker, the processor, the API, the webhook sink and the ISO 8583 server
running for exploration; ``--stop`` stops them.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

from connectors.cards.process import Iso8583Process
from connectors.graphql_api import ApiProcess, run_tutorial
from connectors.graphql_api.auth.admin import ADMINISTRATOR, create_api_key
from connectors.graphql_api.tutorial import cap_customers, dry_run_withdrawal
from ledger_cli import demo_ach, demo_cards, demo_sinks
from ledger_cli.demo_sinks import WebhookReceiver
from ledger_cli.processor_process import ProcessorProcess
from ledger_cli.rendering import render_table
from ledger_core import tutorial
from streams.client import LedgerClient, Result
from streams.errors import LedgerError
from streams.local_kafka import LocalCluster, start_cluster
from streams.local_kafka.node import is_alive, terminate
from streams.settings import local_kafka_home, state_root
from streams.topics import Topics

PROCESSOR_ID = "demo"
# A second withdrawal the demo simulates with @dryRun: all that Ernie holds after the tutorial.
DRY_RUN_AMOUNT = "5.25"
# A withdrawal past what the customers hold, which their velocity control refuses.
CAPPED_AMOUNT = "6.00"


def main() -> int:
    """Run the demo and return its exit status."""
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("--keep", action="store_true",
                        help="leave the broker and processor running")
    parser.add_argument("--stop", action="store_true", help="stop what --keep left running")
    args = parser.parse_args()
    try:
        if args.stop:
            stop_everything()
            print("stopped the demo's ISO 8583 server, webhook sink, API, processor and the local "
                  "broker")
        else:
            run(keep=args.keep)
    except LedgerError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        stop_everything()
        return 1
    return 0


def _demo_file() -> Path:
    return state_root() / "demo.json"


def stop_everything() -> None:
    """Stop the demo's API and processor (SIGTERM, then SIGKILL) and the local broker."""
    if _demo_file().exists():
        started = json.loads(_demo_file().read_text())
        for pid in (started.get("card_server_pid"), started.get("webhook_sink_pid"),
                    started.get("api_pid"), started["processor_pid"]):
            if pid is not None and is_alive(pid):
                terminate(pid, grace_s=20)
        _demo_file().unlink()
    cluster = LocalCluster.load(local_kafka_home())
    if cluster is not None:
        cluster.stop()


def run(keep: bool) -> None:
    """The whole demo."""
    stop_everything()
    cluster, seconds = start_cluster(local_kafka_home(), fresh=True)
    bootstrap = cluster.bootstrap_servers
    print(f"Kafka {bootstrap} (KRaft, 1 node) ready in {seconds:.1f}s")
    processor = _start_processor(bootstrap)
    api_url = api_key = ""
    try:
        client = _connect(bootstrap, processor)
        api_key = _administrator_key(bootstrap)
        api_url = _start_api(bootstrap).url
        receiver = _start_webhook_sink(bootstrap)
        _tutorial(api_url, api_key)
        _signed_webhook(receiver)
        pan_key = demo_cards.new_pan_key()
        demo_cards.card_purchase(client, _start_card_server(bootstrap, pan_key), pan_key)
        demo_ach.ach_origination(client, bootstrap, state_root())
        client.wait_converged()
        client.close()
        _warehouse(bootstrap)
    except BaseException:
        keep = False
        raise
    finally:
        if keep:
            # Its receiver lives in this process, which ends now.
            _stop_webhook_sink()
            print(f"\nThe broker ({bootstrap}), the processor and the GraphQL API ({api_url}) "
                  "keep running. Try:\n"
                  "  .venv/bin/ledger balance ERNIE.CHECKING\n"
                  f"  .venv/bin/ledger sql \"SELECT * FROM balances\" --warehouse "
                  f"{state_root() / 'demo-warehouse'}\n"
                  "  .venv/bin/ledger tail entries --from-beginning --idle-timeout 2\n"
                  f"  curl -s {api_url} -H 'authorization: Bearer {api_key}' "
                  "-H 'content-type: application/json' -d '{\"query\": "
                  f"\"{{ account(id: \\\"{tutorial.ERNIE.account_id}\\\") {{ name balance("
                  f"journalId: \\\"{tutorial.JOURNAL_ID}\\\") {{ settled {{ normalBalance "
                  "{ units currency } } } } }\"}'\n"
                  "`make stop` stops them.")
        else:
            stop_everything()
            shutil.rmtree(state_root() / f"processor-{PROCESSOR_ID}", ignore_errors=True)
            print("\nstopped the ISO 8583 server, the webhook sink, the API, the processor and the "
                  "broker")


def _start_processor(bootstrap: str) -> ProcessorProcess:
    state_dir = state_root() / f"processor-{PROCESSOR_ID}"
    shutil.rmtree(state_dir, ignore_errors=True)
    processor = ProcessorProcess(bootstrap, "ledger", PROCESSOR_ID, state_dir,
                                 state_root() / "demo-processor.log", partitions=3)
    processor.start()
    _demo_file().write_text(json.dumps({"processor_pid": processor.pid}))
    print(f"processor started (pid {processor.pid}, log {processor.log_file})")
    return processor


def _administrator_key(bootstrap: str) -> str:
    key, _client = create_api_key(bootstrap, Topics(), "ledger", "the demo's administrator",
                                  ADMINISTRATOR)
    print(f"the API authenticates: an administrator's API key for this demo (shown once, "
          f"kept only as a hash): {key}")
    return key


def _start_api(bootstrap: str) -> ApiProcess:
    auth_config = state_root() / "demo-auth.yaml"
    auth_config.write_text("apiKeys: true\n")
    api = ApiProcess(bootstrap, "ledger", state_root() / "demo-api.log",
                     auth_config=auth_config).start()
    started = json.loads(_demo_file().read_text())
    _demo_file().write_text(json.dumps({**started, "api_pid": api.pid}))
    print(f"GraphQL API at {api.url} (pid {api.pid}, log {api.log_file})")
    return api


def _start_card_server(bootstrap: str, pan_key: str) -> Iso8583Process:
    server = Iso8583Process(bootstrap, state_root() / "demo-cards.log", pan_key).start()
    started = json.loads(_demo_file().read_text())
    _demo_file().write_text(json.dumps({**started, "card_server_pid": server.pid}))
    print(f"ISO 8583 server started (pid {server.pid}, log {server.log_file})")
    return server


def _start_webhook_sink(bootstrap: str) -> WebhookReceiver:
    sink, receiver = demo_sinks.start_webhook_sink(bootstrap, state_root(),
                                                   tutorial.ERNIE.account_id)
    started = json.loads(_demo_file().read_text())
    _demo_file().write_text(json.dumps({**started, "webhook_sink_pid": sink.pid}))
    print(f"webhook sink started (pid {sink.pid}), sending Ernie's balances to {receiver.url}")
    return receiver


def _stop_webhook_sink() -> None:
    started = json.loads(_demo_file().read_text())
    pid = started.pop("webhook_sink_pid", None)
    if pid is not None and is_alive(pid):
        terminate(pid, grace_s=20)
    _demo_file().write_text(json.dumps(started))


def _signed_webhook(receiver: WebhookReceiver) -> None:
    delivery = receiver.wait_for(tutorial.ERNIE.account_id, version=2)
    if not delivery.verified:
        raise LedgerError(f"webhook {delivery.webhook_id} did not verify")
    settled = delivery.event["data"]["settled"]["normalBalance"]
    print(f"webhook {delivery.event['type']} {delivery.webhook_id} reached {receiver.url}: "
          f"Ernie's settled balance is {settled}; its signature verified (Standard Webhooks)")


def _warehouse(bootstrap: str) -> None:
    print("\n== The Parquet warehouse, and the trial balance from `ledger sql` ==")
    warehouse = state_root() / "demo-warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    demo_sinks.write_warehouse(bootstrap, warehouse)
    files = sorted(warehouse.rglob("*.parquet"))
    print(f"`ledger sink parquet run --until-end` wrote {len(files)} Parquet files to "
          f"{warehouse}")
    print(demo_sinks.trial_balance(warehouse))


def _connect(bootstrap: str, processor: ProcessorProcess) -> LedgerClient:
    if not processor.alive:
        raise LedgerError(f"the processor exited; see {processor.log_file}")
    return LedgerClient(bootstrap, Topics())


def _check(result: Result, what: str) -> Result:
    if not result.ok:
        raise LedgerError(f"{what} was refused: {result.code}: {result.message}")
    return result


def _tutorial(api_url: str, api_key: str) -> None:
    print("\n== The tutorial, as GraphQL through the API: ACH deposit and withdrawal ==")
    balances = run_tutorial(api_url, api_key)
    print("created the journal, a CUSTOMERS account set, 3 accounts (Ernie and Bert in the "
          "set) and the ACH_CREDIT / ACH_DEBIT tran codes; posted a deposit of 9.53 and a "
          "withdrawal of 4.28; read the balances, the set's roll-up too, in the withdrawal's "
          "own request (Mutation.queries)")
    rows = [[b.code, b.dr or "-", b.cr or "-",
             "(no balance)" if b.normal is None else f"{b.normal} {b.currency}"]
            for b in balances]
    print(render_table(["account (or set)", "dr", "cr", "settled normal balance"], rows))
    customers = balances[-1]
    if customers.normal != "5.25":
        raise LedgerError(f"the CUSTOMERS set rolled up {customers.normal}, not 5.25")
    inside, after = dry_run_withdrawal(api_url, DRY_RUN_AMOUNT, api_key)
    print(f"a @dryRun withdrawal of {DRY_RUN_AMOUNT}: Ernie at {inside.normal} {inside.currency} "
          f"inside the document; read afterwards, still {after.normal} {after.currency} "
          "(nothing was written)")
    if inside.normal != "0.00" or after.normal != "5.25":
        raise LedgerError(f"the dry run left Ernie at {inside.normal}, then {after.normal}")
    remaining, answer = cap_customers(api_url, CAPPED_AMOUNT, api_key)
    print(f"a REJECT velocity control on CUSTOMERS (its members may owe 0.00): {remaining} "
          f"USD left to spend; a withdrawal of {CAPPED_AMOUNT} from Ernie: {answer}")
    if remaining != "5.25" or "velocity_limit_exceeded" not in answer:
        raise LedgerError(f"the velocity control left {remaining} to spend and answered "
                          f"{answer}")


if __name__ == "__main__":
    sys.exit(main())
