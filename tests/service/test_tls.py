"""``amtune serve --ssl-certfile --ssl-keyfile`` serves HTTPS itself, as docs/tls.md shows."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import new_account_id
from tests.service.processes import free_port


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, signed by its own key: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "amtune test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "AMTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'tls.db'}",
        "AMTUNE_ACCOUNT_ID": new_account_id(),
        "AMTUNE_PORT": str(port),
        "AMTUNE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "amtune", "serve"]
    command += ["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{port}"
    trusted = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(url + "/healthz", verify=trusted, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "amtune serve did not come up with TLS"
                time.sleep(0.1)
        yield url, cert
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_serve_speaks_https_with_the_given_certificate(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    trusted = ssl.create_default_context(cafile=str(cert))
    listed = httpx.get(url + "/v1/tuning-jobs", verify=trusted)
    assert listed.status_code == 200
    assert listed.json() == {"HyperParameterTuningJobSummaries": []}
    # Plain HTTP on the same port is not served.
    with pytest.raises(httpx.TransportError):
        httpx.get(url.replace("https://", "http://") + "/healthz", timeout=5)


def test_serve_refuses_a_certificate_without_its_key(tmp_path: Path) -> None:
    cert, _key = self_signed(tmp_path)
    env = {**os.environ, "AMTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'half.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "amtune", "serve", "--ssl-certfile", str(cert)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"--ssl-keyfile" in done.stderr
