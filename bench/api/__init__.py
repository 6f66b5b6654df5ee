"""Benchmarks of the GraphQL API (``connectors.graphql_api``)."""
