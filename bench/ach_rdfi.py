"""RDFI file processing: entries/s of a received NACHA file, end to end through the ledger.

A ledger processor (``--processors`` of them) on a fresh ledger with the ACH entities and
``--customers`` customer accounts; a decisioning webhook in its own process that verifies
each request's signature and answers a signed SETTLE to the customer the entry's account
number names. Each run generates a file of ``--entries`` PPD credits (the text is made
before the clock starts), then ``process_file`` (what ``ledger ach file process`` runs)
validates it, asks the webhook for every entry, posts every settlement and waits for the
ledger's answer to each. The figure is entries over the run's wall time, from the file's
bytes to the file COMPLETED; the median of ``--runs`` runs, each a new file on the same
ledger. Goal: >= 2,000 entries/s.

    python -m bench.ach_rdfi --entries 100000 --runs 3
"""

import argparse
import asyncio
import base64
import multiprocessing
import shutil
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from bench.broker import BENCH_HOME, broker, delete_topics, fresh_prefix, stop_on_sigterm
from bench.figures import median, save, table
from connectors.ach.configurations import read_configurations
from connectors.ach.entities import create_entities
from connectors.ach.rdfi_processor import RdfiSettings, process_file
from connectors.ach.topics import AchTopics
from ledger_cli.processor_process import ProcessorProcess
from ledger_core import Account
from ledger_core import ach_tran_codes as ach
from ledger_core.catalog import CatalogKind
from nacha import FileBuilder, generate
from streams.client import LedgerClient
from streams.topics import Topics

SECRET = "whsec_" + base64.b64encode(b"rdfi-benchmark-secret-bytes").decode()
_NAMESPACE = UUID("5a1c0d3e-8b7f-4c2a-9e61-3f0b2d4c6d00")
BANK_ROUTING = "026009593"
ORIGIN_ROUTING = "076401251"


def customer_id(number: int) -> UUID:
    """The ledger account of account number ``number``: the webhook works it out alone."""
    return uuid.uuid5(_NAMESPACE, f"customer-{number}")


def _webhook(port: int) -> None:
    """The decisioning webhook process: verify, answer a signed SETTLE."""
    import json

    import standardwebhooks
    from aiohttp import web

    from connectors.webhooks.signing import headers

    verifier = standardwebhooks.Webhook(SECRET)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        verifier.verify(body, dict(request.headers))
        number = int(json.loads(body)["entryDetail"]["dfiAccountNumber"])
        payload = json.dumps({"action": "SETTLE",
                              "accountId": str(customer_id(number))}).encode()
        return web.Response(body=payload, headers=headers(
            key, request.headers["webhook-id"], int(time.time()), payload))

    app = web.Application()
    app.router.add_post("/decide", handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def received_file(entries: int, customers: int, run: int) -> bytes:
    """A file of ``entries`` credits spread over the customers; ``run`` makes it a new file."""
    builder = FileBuilder(immediate_destination=BANK_ROUTING, immediate_origin=ORIGIN_ROUTING,
                          created=datetime(2025, 11, 14, 9, run % 60),
                          file_id_modifier="ABCDEFGHIJ"[run // 60 % 10])
    batch = builder.batch("PPD", originating_dfi=ORIGIN_ROUTING[:8],
                          effective_entry_date=date(2025, 11, 14), company_name="ACME PAYROLL",
                          company_identification="1234567890",
                          company_entry_description="PAYROLL")
    for number in range(entries):
        batch.entry(22, BANK_ROUTING, 100 + number % 10_000,
                    dfi_account_number=str(number % customers), individual_name="JANE DOE")
    return generate(builder.build()).encode()


def _setup(bootstrap: str, prefix: str, customers: int) -> None:
    client = LedgerClient(bootstrap, Topics(prefix))
    try:
        created = create_entities(client)
        refused = [c for c in created["created"] if c["status"] != "APPLIED"]
        assert not refused, refused
        sent = [client.send_catalog(CatalogKind.CREATE_ACCOUNT, Account.model_validate({
            "accountId": str(customer_id(number)), "code": f"RDFI.BENCH.{number}",
            "name": "RDFI customer"}).model_dump(mode="json", by_alias=True))
            for number in range(customers)]
        results = client.wait(sent, 300)
        assert all(r.status == "APPLIED" for r in results.values())
    finally:
        client.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every run's wall time and entries/s."""
    prefix = fresh_prefix("rdfi")
    home = BENCH_HOME / "runs" / prefix
    webhook = multiprocessing.get_context("spawn").Process(target=_webhook, args=(args.port,),
                                                             daemon=True)
    webhook.start()
    runs: list[dict[str, float]] = []
    with broker() as bootstrap:
        processors = [ProcessorProcess(bootstrap, prefix, f"p{n + 1}", home / f"state-p{n + 1}",
                                       home / f"p{n + 1}.log", args.partitions).start()
                      for n in range(args.processors)]
        try:
            _setup(bootstrap, prefix, args.customers)
            configuration = read_configurations(bootstrap, AchTopics(prefix))[
                ach.CONFIGURATION.config_id].model_copy(
                update={"decisioning_url": f"http://127.0.0.1:{args.port}/decide"})
            settings = RdfiSettings(bootstrap=bootstrap, prefix=prefix,
                                    configuration=configuration,
                                    webhook_key=base64.b64decode(SECRET.removeprefix("whsec_")),
                                    concurrency=args.concurrency,
                                    today=datetime.now(UTC).date())
            for number in range(args.runs):
                content = received_file(args.entries, args.customers, number)
                started = time.monotonic()
                report = asyncio.run(process_file(content, f"bench-{number}.ach", settings))
                seconds = time.monotonic() - started
                assert report.status.value == "COMPLETED", report
                assert report.outcomes == {"SETTLED": args.entries}, report.outcomes
                runs.append({"seconds": seconds, "entries_per_s": args.entries / seconds})
                print(f"run {number + 1}: {args.entries:,} entries in {seconds:,.1f}s = "
                      f"{args.entries / seconds:,.0f} entries/s", flush=True)
        finally:
            for processor in processors:
                processor.stop()
            delete_topics(bootstrap, prefix)
            webhook.terminate()
            shutil.rmtree(home, ignore_errors=True)
    return {"runs": runs, "entries_per_s": median([r["entries_per_s"] for r in runs]),
            "seconds": median([r["seconds"] for r in runs])}


def main(argv: list[str] | None = None) -> str:
    """Run, print and save."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--processors", type=int, default=1)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--concurrency", type=int, default=64, help="webhook calls at a time")
    p.add_argument("--port", type=int, default=18741)
    args = p.parse_args(argv)
    stop_on_sigterm()
    figures = run(args)
    text = table(["entries", "entries/s (median)", "wall s (median)", "runs"],
                 [(args.entries, figures["entries_per_s"], figures["seconds"],
                   " ".join(f"{r['entries_per_s']:,.0f}" for r in figures["runs"]))])
    text += (f"\n\nA received file of {args.entries:,} credits to {args.customers:,} "
             f"customers, from its bytes to COMPLETED: validation, a signed webhook call per "
             f"entry ({args.concurrency} at a time), one posting per entry and the ledger's "
             f"answer; {args.processors} processor(s), {args.partitions} partitions; "
             "goal >= 2,000 entries/s.")
    print(text, flush=True)
    save("ach_rdfi", {"settings": vars(args), "figures": figures, "report": text})
    return text


if __name__ == "__main__":
    main()
