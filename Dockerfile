# The ledger's image: one image for every role (processor, API, sinks); the command picks it.
#   docker build -t kafka-ledger .
#   docker run --rm kafka-ledger --help
FROM python:3.11-slim

# No bytecode files in the image, output unbuffered so logs reach `docker logs` at once.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LEDGER_STATE_DIR=/var/lib/ledger

WORKDIR /opt/kafka-ledger
COPY pyproject.toml constraints.txt README.md ./
COPY ledger_core ledger_core
COPY nacha nacha
COPY iso8583_spec iso8583_spec
COPY schemas schemas
COPY streams streams
COPY connectors connectors
COPY ledger_cli ledger_cli
RUN pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --home-dir /var/lib/ledger --create-home ledger

# RocksDB state (processors), the warehouse (the Parquet sink): mount volumes here.
VOLUME ["/var/lib/ledger"]
USER ledger
ENTRYPOINT ["ledger"]
CMD ["--help"]
