"""The baseline and peer apps the throughput benchmark runs next to the ledger.

Each is a standalone script started as its own process: ``passthrough.py`` with the
project's Python (it needs only confluent-kafka), ``faust_fold.py`` and ``quix_fold.py``
with the peers' virtualenv (``.venv-peers``), since those frameworks pin other versions.
"""
