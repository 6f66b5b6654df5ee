"""Authentication and authorization of the GraphQL API: OIDC tokens and API keys, clients
with Twisp-shaped policies kept on each tenant's ``<prefix>.auth`` topic, and the tenants
one API instance serves. See docs/api.md, "Authentication and authorization".
"""
