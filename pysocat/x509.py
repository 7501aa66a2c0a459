"""What socat reads from a peer certificate: subject, issuer and subjectAltName (pure).

Python's ssl module hands out the peer certificate as DER bytes only when it was not
verified (getpeercert() is empty with verify=0), and socat sets its SOCAT_OPENSSL_X509_*
variables either way; so the few fields socat looks at are read here from the DER with a
minimal ASN.1 reader. `oneline()` writes a name as OpenSSL's X509_NAME_print_ex() does
with XN_FLAG_ONELINE (socat's SOCAT_OPENSSL_X509_SUBJECT: `C = XX, O = Org, CN = host`),
and `name_matches()` is socat's own host name check (openssl_check_name: exact, or a
`*.domain` wildcard that matches `domain` and one level below it).
"""
from __future__ import annotations

import ipaddress
from .record import dataclass, field

# (long name as socat names its variables, short name as ONELINE prints it), by OID
ATTRIBUTE_NAMES: dict[str, tuple[str, str]] = {
    "2.5.4.3": ("commonName", "CN"),
    "2.5.4.4": ("surname", "SN"),
    "2.5.4.5": ("serialNumber", "serialNumber"),
    "2.5.4.6": ("countryName", "C"),
    "2.5.4.7": ("localityName", "L"),
    "2.5.4.8": ("stateOrProvinceName", "ST"),
    "2.5.4.9": ("streetAddress", "street"),
    "2.5.4.10": ("organizationName", "O"),
    "2.5.4.11": ("organizationalUnitName", "OU"),
    "2.5.4.12": ("title", "title"),
    "2.5.4.13": ("description", "description"),
    "2.5.4.15": ("businessCategory", "businessCategory"),
    "2.5.4.17": ("postalCode", "postalCode"),
    "2.5.4.41": ("name", "name"),
    "2.5.4.42": ("givenName", "GN"),
    "2.5.4.43": ("initials", "initials"),
    "2.5.4.44": ("generationQualifier", "generationQualifier"),
    "2.5.4.46": ("dnQualifier", "dnQualifier"),
    "2.5.4.65": ("pseudonym", "pseudonym"),
    "0.9.2342.19200300.100.1.1": ("userId", "UID"),
    "0.9.2342.19200300.100.1.25": ("domainComponent", "DC"),
    "1.2.840.113549.1.9.1": ("emailAddress", "emailAddress"),
}
SUBJECT_ALT_NAME = "2.5.29.17"


class CertificateError(ValueError):
    """The DER could not be read (socat would find no fields either)."""


@dataclass(frozen=True)
class Attribute:
    oid: str
    value: bytes  # the string's bytes as stored (socat passes them on unconverted)
    tag: int

    @property
    def long_name(self) -> str:
        return ATTRIBUTE_NAMES.get(self.oid, (self.oid, self.oid))[0]

    @property
    def short_name(self) -> str:
        return ATTRIBUTE_NAMES.get(self.oid, (self.oid, self.oid))[1]

    @property
    def text(self) -> str:
        return decode_string(self.tag, self.value)


Name = list[list[Attribute]]  # RDNs, each a set of attributes


@dataclass
class Certificate:
    subject: Name = field(default_factory=list)
    issuer: Name = field(default_factory=list)
    alt_names: list[tuple[str, str]] = field(default_factory=list)  # ("DNS", name) or ("IP", text)


# ---------------------------------------------------------------- DER

def _element(data: bytes, pos: int) -> tuple[int, int, int, int]:
    """(tag, start of contents, end of contents, end of element) at `pos`."""
    if pos + 2 > len(data):
        raise CertificateError("truncated")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise CertificateError("truncated")
    return tag, pos, end, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items = []
    pos = start
    while pos < end:
        tag, body, body_end, pos = _element(data, pos)
        items.append((tag, body, body_end))
    return items


def _oid(raw: bytes) -> str:
    if not raw:
        raise CertificateError("empty OID")
    parts = [raw[0] // 40, raw[0] % 40] if raw[0] < 80 else [2, raw[0] - 80]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def decode_string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", errors="replace")
    if tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", errors="replace")
    if tag == 0x0C:  # UTF8String
        return raw.decode("utf-8", errors="replace")
    return raw.decode("latin-1")  # Printable, IA5, Teletex (as OpenSSL: one byte, one character)


def _name(data: bytes, start: int, end: int) -> Name:
    rdns: Name = []
    for _tag, set_start, set_end in _children(data, start, end):
        rdn = []
        for _t, seq_start, seq_end in _children(data, set_start, set_end):
            parts = _children(data, seq_start, seq_end)
            if len(parts) < 2:
                raise CertificateError("bad attribute")
            oid = _oid(data[parts[0][1] : parts[0][2]])
            rdn.append(Attribute(oid, data[parts[1][1] : parts[1][2]], parts[1][0]))
        rdns.append(rdn)
    return rdns


def _alt_names(raw: bytes) -> list[tuple[str, str]]:
    names: list[tuple[str, str]] = []
    _tag, start, end, _ = _element(raw, 0)
    for item_tag, body, body_end in _children(raw, start, end):
        value = raw[body:body_end]
        if item_tag == 0x82:  # dNSName
            names.append(("DNS", value.decode("latin-1")))
        elif item_tag == 0x87 and len(value) in (4, 16):  # iPAddress
            names.append(("IP", str(ipaddress.ip_address(value))))
    return names


def parse_certificate(der: bytes) -> Certificate:
    """Subject, issuer and subjectAltName DNS/IP entries of a DER certificate."""
    _tag, cert_start, cert_end, _ = _element(der, 0)
    _tbs_tag, tbs_start, tbs_end = _children(der, cert_start, cert_end)[0]
    fields = _children(der, tbs_start, tbs_end)
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 6:
        raise CertificateError("short tbsCertificate")
    # serial, signature algorithm, issuer, validity, subject, key, then optional parts
    cert = Certificate(subject=_name(der, fields[4][1], fields[4][2]), issuer=_name(der, fields[2][1], fields[2][2]))
    for tag, start, end in fields[6:]:
        if tag != 0xA3:  # [3] extensions
            continue
        (_seq_tag, ext_start, ext_end), = _children(der, start, end)
        for _t, e_start, e_end in _children(der, ext_start, ext_end):
            parts = _children(der, e_start, e_end)
            if _oid(der[parts[0][1] : parts[0][2]]) == SUBJECT_ALT_NAME:
                cert.alt_names += _alt_names(der[parts[-1][1] : parts[-1][2]])
    return cert


# ---------------------------------------------------------------- OpenSSL's ONELINE form

_QUOTING = set(',+"\\<>;')


def _oneline_value(text: str) -> str:
    """ASN1_STRFLGS of XN_FLAG_ONELINE without ESC_MSB: RFC 2253 specials make the value
    quoted (not escaped), control characters become \\XX."""
    quote = bool(text) and (text[0] in "# " or text[-1] == " ")
    out = []
    for char in text:
        if char in _QUOTING:
            quote = True
            out.append(char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):02X}")
        else:
            out.append(char)
    value = "".join(out)
    return f'"{value}"' if quote else value


def oneline(name: Name) -> str:
    return ", ".join(" + ".join(f"{a.short_name} = {_oneline_value(a.text)}" for a in rdn) for rdn in name)


# ---------------------------------------------------------------- socat's name check

def name_matches(pattern: str, peername: str) -> bool:
    """openssl_check_name(): `pattern` from the certificate against the name socat wants."""
    if peername == "":
        return True
    if not pattern.startswith("*."):
        return pattern == peername
    if pattern[2:] == peername:
        return True
    dot = peername.find(".")
    return dot >= 0 and pattern[1:] == peername[dot:]


def common_name(name: Name) -> str | None:
    """The first commonName of a subject (socat checks only that one)."""
    for rdn in name:
        for attribute in rdn:
            if attribute.oid == "2.5.4.3":
                return attribute.text
    return None


__all__ = ["Certificate", "CertificateError", "parse_certificate", "oneline", "name_matches", "common_name"]
