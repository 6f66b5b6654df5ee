"""A GraphQL API in the shape of Twisp's, over the ledger's Kafka topics.

Mutations send commands through Kafka and wait for their results; queries read a read model
that the catalog and transactions topics keep up to date. The processors
stay the ledger's only writers, and an API instance is a stateless gateway: run as many as
needed. See ``docs/api.md``.
"""

from connectors.graphql_api.process import ApiProcess
from connectors.graphql_api.schema import build_schema
from connectors.graphql_api.server import ApiServer, start_server
from connectors.graphql_api.tutorial import TutorialBalance, run_tutorial

__all__ = ["ApiProcess", "ApiServer", "TutorialBalance", "build_schema", "run_tutorial",
           "start_server"]
