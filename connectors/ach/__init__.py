"""The ACH origination workflows on Kafka: their topics and records, the exactly-once
workflow processor, its client, and the setup of the ledger entities they post through."""
