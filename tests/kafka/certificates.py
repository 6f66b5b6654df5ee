"""A throwaway certificate authority and a broker certificate for loopback, made with openssl."""

import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA: its certificate and its key."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem",
             cwd=directory)
    return directory / f"{name}.pem", directory / f"{name}.key"


def make_broker_keystore(directory: Path, ca: tuple[Path, Path]) -> Path:
    """A PEM keystore for the broker (PKCS#8 key, then its certificate for 127.0.0.1 signed
    by ``ca``), in the form Kafka reads with ``ssl.keystore.type=PEM``."""
    ca_certificate, ca_key = ca
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", "broker.key", "-out", "broker.csr", cwd=directory)
    _openssl("x509", "-req", "-in", "broker.csr", "-CA", str(ca_certificate),
             "-CAkey", str(ca_key), "-CAcreateserial", "-days", "2",
             "-extfile", "san.ext", "-out", "broker.pem", cwd=directory)
    _openssl("pkcs8", "-topk8", "-nocrypt", "-in", "broker.key", "-out", "broker.pk8",
             cwd=directory)
    keystore = directory / "broker-keystore.pem"
    keystore.write_text((directory / "broker.pk8").read_text()
                        + (directory / "broker.pem").read_text())
    return keystore
