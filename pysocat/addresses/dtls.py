"""OPENSSL-DTLS-CLIENT and OPENSSL-DTLS-SERVER (socat: xio-openssl.c with DTLS methods)."""
from __future__ import annotations

from ..errors import SocatError
from ..registry import ResolvedAddress
from .common import OpenContext


def open_dtls_client(addr: ResolvedAddress, ctx: OpenContext) -> object:
    raise SocatError(f"{addr.keyword}: DTLS is not available")


def open_dtls_server(addr: ResolvedAddress, ctx: OpenContext) -> object:
    raise SocatError(f"{addr.keyword}: DTLS is not available")
