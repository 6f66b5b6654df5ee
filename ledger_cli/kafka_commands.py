"""``ledger kafka start|stop|status``: the local broker for development; ``ledger kafka acls``:
the ACLs a role of the ledger needs on any cluster."""

import argparse
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from ledger_cli.common import add_kafka_options, topics
from streams.acls import ROLES, acl_bindings, grants
from streams.errors import LedgerError
from streams.kafka_config import check_connection, kafka_config
from streams.local_kafka import KAFKA_VERSION, LocalCluster, ensure_jars, start_cluster
from streams.settings import local_kafka_home, resolve_bootstrap


def register(commands: Any) -> None:
    """Add the ``kafka`` command group to the top-level parser."""
    kafka = commands.add_parser("kafka", help="run a local Apache Kafka (KRaft) for development")
    sub = kafka.add_subparsers(dest="kafka_command", required=True)
    start = sub.add_parser("start", help="start the local broker (or 3-node cluster)")
    start.add_argument("--nodes", type=int, default=1, choices=(1, 3))
    start.add_argument("--port", type=int, default=None,
                       help="client port of the first node (default: a free port)")
    start.add_argument("--fresh", action="store_true",
                       help="delete the local cluster's data and start a new one")
    start.set_defaults(handler=_start)
    fetch = sub.add_parser("fetch", help="resolve the broker's jars from Maven Central")
    fetch.set_defaults(handler=_fetch)
    stop = sub.add_parser("stop", help="stop the local broker")
    stop.set_defaults(handler=_stop)
    status = sub.add_parser("status", help="show whether the local broker runs")
    status.set_defaults(handler=_status)
    acls = sub.add_parser("acls", help="print (or --apply) the Kafka ACLs one role needs")
    acls.add_argument("role", choices=ROLES)
    acls.add_argument("--principal", required=True, help="e.g. User:ledger-processor")
    acls.add_argument("--sink-group", default=None,
                      help="the sink role: the consumer group of the sink")
    acls.add_argument("--apply", action="store_true",
                      help="create the ACLs (the --kafka-config principal must be allowed to)")
    add_kafka_options(acls)
    # Printing the ACLs needs no broker; --apply checks the connection itself.
    acls.set_defaults(handler=_acls, render=_render_acls, needs_kafka=False)


def _acls(args: argparse.Namespace) -> dict[str, Any]:
    try:
        role_grants = grants(args.role, topics(args), args.sink_group)
    except ValueError as exc:
        raise LedgerError(str(exc)) from exc
    if args.apply:
        bootstrap = resolve_bootstrap(args.bootstrap_servers)
        check_connection(bootstrap)
        admin = AdminClient(kafka_config(bootstrap))
        for binding, future in admin.create_acls(acl_bindings(args.principal,
                                                              role_grants)).items():
            try:
                future.result()
            except KafkaException as exc:
                raise LedgerError(f"Kafka refused the ACL {binding}: {exc.args[0].str()}"
                                  ) from exc
    return {"role": args.role, "principal": args.principal, "applied": args.apply,
            "acls": [grant.describe() for grant in role_grants]}


def _render_acls(result: dict[str, Any]) -> str:
    verb = "created" if result["applied"] else "needed"
    return "\n".join([f"ACLs {verb} for {result['principal']} ({result['role']}), all ALLOW "
                      "from any host:", *(f"  {line}" for line in result["acls"])])


def _start(args: argparse.Namespace) -> dict[str, Any]:
    cluster, seconds = start_cluster(local_kafka_home(), args.nodes, args.port, args.fresh)
    return {"bootstrap_servers": cluster.bootstrap_servers, "nodes": len(cluster.nodes),
            "kafka_version": KAFKA_VERSION, "started_in_s": round(seconds, 2),
            "logs": [str(spec.log_file) for spec in cluster.nodes]}


def _fetch(args: argparse.Namespace) -> dict[str, Any]:
    libs = ensure_jars()
    return {"kafka_version": KAFKA_VERSION, "libs": str(libs),
            "jars": len(list(libs.glob("*.jar")))}


def _stop(args: argparse.Namespace) -> dict[str, Any]:
    cluster = LocalCluster.load(local_kafka_home())
    if cluster is None:
        return {"stopped": 0}
    count = len(cluster.running_nodes())
    cluster.stop()
    return {"stopped": count}


def _status(args: argparse.Namespace) -> dict[str, Any]:
    cluster = LocalCluster.load(local_kafka_home())
    if cluster is None:
        raise LedgerError("no local Kafka cluster: start one with `ledger kafka start`")
    running = cluster.running_nodes()
    brokers = 0
    if running:
        admin = AdminClient(kafka_config(cluster.bootstrap_servers))
        try:
            brokers = len(admin.list_topics(timeout=5).brokers)
        except Exception as exc:
            raise LedgerError(f"nodes {running} run but do not answer: {exc}") from exc
    return {"bootstrap_servers": cluster.bootstrap_servers, "nodes": len(cluster.nodes),
            "running": running, "brokers_answering": brokers, "home": str(cluster.home)}



