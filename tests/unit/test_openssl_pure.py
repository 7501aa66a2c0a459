"""The pure parts of the OPENSSL family: DER reading and OpenSSL's ONELINE names (x509.py),
socat's name check, its protocol version names, DTLS record splitting, and the OpenSSL
error codes that socat's messages print."""
from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from pysocat import x509
from pysocat.addresses import dtls, openssl, tlsio
from pysocat.errors import SocatError


# ---------------------------------------------------------------- DER, built by hand

def _tlv(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _oid(text: str) -> bytes:
    parts = [int(p) for p in text.split(".")]
    body = bytes([parts[0] * 40 + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.insert(0, 0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(chunk)
    return _tlv(0x06, body)


def _name(*rdns: list[tuple[str, int, bytes]]) -> bytes:
    return _tlv(0x30, b"".join(_tlv(0x31, b"".join(_tlv(0x30, _oid(oid) + _tlv(tag, value))
                                                   for oid, tag, value in rdn)) for rdn in rdns))


def _certificate(subject: bytes, issuer: bytes, alt_names: bytes | None = None) -> bytes:
    algorithm = _tlv(0x30, _oid("1.2.840.10045.4.3.2"))
    validity = _tlv(0x30, _tlv(0x17, b"260101000000Z") + _tlv(0x17, b"270101000000Z"))
    key = _tlv(0x30, _tlv(0x30, _oid("1.2.840.10045.2.1")) + _tlv(0x03, b"\x00\x04"))
    fields = _tlv(0xA0, _tlv(0x02, b"\x02")) + _tlv(0x02, b"\x05") + algorithm + issuer + validity + subject + key
    if alt_names is not None:
        extension = _tlv(0x30, _oid("2.5.29.17") + _tlv(0x04, alt_names))
        fields += _tlv(0xA3, _tlv(0x30, extension))
    return _tlv(0x30, _tlv(0x30, fields) + algorithm + _tlv(0x03, b"\x00"))


CN, O_, OU, C = "2.5.4.3", "2.5.4.10", "2.5.4.11", "2.5.4.6"
PRINTABLE, UTF8 = 0x13, 0x0C


def test_subject_issuer_and_alt_names() -> None:
    subject = _name([(C, PRINTABLE, b"XX")], [(O_, UTF8, b"Org")], [(CN, UTF8, b"localhost")])
    issuer = _name([(CN, UTF8, b"Test CA")])
    alt = _tlv(0x30, _tlv(0x82, b"localhost") + _tlv(0x87, bytes([127, 0, 0, 1])) + _tlv(0x82, b"*.example")
               + _tlv(0x87, bytes(15) + b"\x01") + _tlv(0x81, b"mail@example"))
    cert = x509.parse_certificate(_certificate(subject, issuer, alt))
    assert x509.oneline(cert.subject) == "C = XX, O = Org, CN = localhost"
    assert x509.oneline(cert.issuer) == "CN = Test CA"
    assert cert.alt_names == [("DNS", "localhost"), ("IP", "127.0.0.1"), ("DNS", "*.example"), ("IP", "::1")]
    assert [(a.long_name, a.text) for rdn in cert.subject for a in rdn] == [
        ("countryName", "XX"), ("organizationName", "Org"), ("commonName", "localhost")]
    assert x509.common_name(cert.subject) == "localhost"


def test_multi_valued_rdn_quoting_and_control_characters() -> None:
    subject = _name([(OU, UTF8, b"a,b"), (CN, UTF8, b"x")], [(CN, UTF8, b"tab\there")], [(O_, UTF8, b" lead")])
    cert = x509.parse_certificate(_certificate(subject, _name()))
    assert x509.oneline(cert.subject) == 'OU = "a,b" + CN = x, CN = tab\\09here, O = " lead"'
    assert x509.common_name(cert.subject) == "x"


def test_unknown_attribute_is_named_by_its_oid() -> None:
    cert = x509.parse_certificate(_certificate(_name([("1.3.6.1.4.1.99999.1", UTF8, b"v")]), _name()))
    assert x509.oneline(cert.subject) == "1.3.6.1.4.1.99999.1 = v"


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x30\x05\x30\x03", b"\x30\x84\xff\xff\xff\xff"])
def test_broken_der_is_a_certificate_error(der: bytes) -> None:
    with pytest.raises((x509.CertificateError, IndexError)):
        x509.parse_certificate(der)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_oneline_equals_openssl_for_a_real_certificate(tmp_path: Path) -> None:
    subject = "/C=DE/ST=Some State/L=Town/O=Org, Inc./OU=Unit/CN=host.example/emailAddress=a@b.example"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", "k.pem", "-out", "c.pem", "-days", "1", "-subj", subject,
                    "-addext", "subjectAltName=DNS:host.example,IP:10.1.2.3"], cwd=tmp_path, check=True,
                   capture_output=True)
    expected = subprocess.run(["openssl", "x509", "-in", "c.pem", "-noout", "-subject", "-nameopt", "oneline"],
                              cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    cert = x509.parse_certificate(ssl.PEM_cert_to_DER_cert((tmp_path / "c.pem").read_text()))
    assert f"subject={x509.oneline(cert.subject)}\n" == expected
    assert cert.alt_names == [("DNS", "host.example"), ("IP", "10.1.2.3")]


# ---------------------------------------------------------------- socat's rules

@pytest.mark.parametrize("pattern, name, matches", [
    ("localhost", "localhost", True), ("localhost", "LOCALHOST", False), ("a.example", "b.example", False),
    ("*.example", "example", True), ("*.example", "host.example", True), ("*.example", "a.b.example", False),
    ("*.example", "hostexample", False), ("anything", "", True), ("*x.example", "ax.example", False),
])
def test_name_check_as_socat(pattern: str, name: str, matches: bool) -> None:
    assert x509.name_matches(pattern, name) is matches


@pytest.mark.parametrize("text, version", [("TLS1.2", 0x303), ("tls1.3", 0x304), ("TLS1", 0x301), ("TLS1.0", 0x301),
                                           ("SSL3", 0x300), ("ssl2", 2), ("DTLS1.2", 0xFEFD), ("dtls1", 0xFEFF)])
def test_protocol_version_names(text: str, version: int) -> None:
    assert openssl.parse_version(text) == version


@pytest.mark.parametrize("text", ["TLS1.4", "SSL23", "TLS13", "1.2", "", "0x303"])
def test_unknown_protocol_version(text: str) -> None:
    with pytest.raises(SocatError, match=f'^Unknown SSL/TLS version "{text}"$'):
        openssl.parse_version(text)


def test_dtls_records_are_split_at_their_headers() -> None:
    def record(length: int) -> bytes:
        return bytes([23, 0xFE, 0xFD]) + bytes(8) + length.to_bytes(2, "big") + b"r" * length

    data = record(5) + record(0) + record(300)
    assert dtls._records(data) == [record(5), record(0), record(300)]
    assert dtls._records(record(3) + b"\x17\xfe") == [record(3), b"\x17\xfe"]  # a stray tail is kept as is


# ---------------------------------------------------------------- OpenSSL's error codes

def test_error_codes_from_python_names() -> None:
    assert tlsio.error_code("SSL", "CERTIFICATE_VERIFY_FAILED") == 0x0A000086
    assert tlsio.error_code("PEM", "NO_START_LINE") == 0x0480006C
    assert tlsio.error_code("X509", "KEY_VALUES_MISMATCH") == 0x05800074
    assert tlsio.error_code("SSL", "NO_SUCH_REASON") is None
    assert tlsio.system_error_code(2) == 0x80000002


def test_error_text_of_a_failed_load() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(OSError) as caught:
        context.load_verify_locations(cafile="/nonexistent/ca.pem")
    assert tlsio.error_text(caught.value) == "error:80000002:system library::No such file or directory"
