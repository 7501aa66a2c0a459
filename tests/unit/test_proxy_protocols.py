"""The proxy handshakes (pysocat/proxy_protocols.py) without any socket: bytes in, bytes
out, socat's diagnostics as data. The texts were checked against socat 1.7.4.4 (HTTP
CONNECT, SOCKS4/4a) with fake servers; SOCKS5's are socat 1.8's source texts."""
from __future__ import annotations

import pytest

from pysocat.addresses.tunnel import parse_port
from pysocat.errors import SocatError
from pysocat.proxy_protocols import (
    ATTEMPT, HTTP_ANSWER_LIMIT, SOCKS5_BIND, SOCKS5_CONNECT, HttpConnect, ProxyError, Socks4, Socks5, base64_line,
    hexdump, sanitize, socks4_request, socks5_request,
)


def feed_all(handshake, data: bytes, step: int | None = None) -> int:
    """Feeds `data` as a socket would deliver it (in `step`-sized reads, each capped at what
    the handshake wants); returns how many bytes the handshake took in all."""
    taken = 0
    while not handshake.done and taken < len(data):
        size = handshake.wanted() if step is None else min(step, handshake.wanted())
        taken += handshake.receive(data[taken : taken + size])
    return taken


def texts(handshake, level: str | None = None) -> list[str]:
    return [text for lvl, text in handshake.log if level is None or lvl == level]


# ---------------------------------------------------------------- helpers

def test_sanitize_escapes_as_socat():
    assert sanitize(b"HTTP/1.0 200 OK\r\n") == "HTTP/1.0 200 OK\\r\\n"
    assert sanitize(b"A:\tb\x01\x7f\xff'\"\\\0") == "A:\\tb...\\'\\\"\\\\\\0"


def test_base64_and_hexdump():
    assert base64_line(b"user:s3cr3t\n") == "dXNlcjpzM2NyM3QK"  # socat's test.sh PROXYAUTHFILE
    assert base64_line(b"user:pass") == "dXNlcjpwYXNz"
    assert hexdump(b"\x04\x01\x7d") == "04 01 7d"


@pytest.mark.parametrize("text,port", [("1000", 1000), ("0x10", 16), ("010", 8), ("99999", 34463), ("http", 80)])
def test_parse_port(text, port):
    assert parse_port(text) == port


@pytest.mark.parametrize("text,message", [("1000x", 'parseport("1000x", 6): extra trailing data "x"'),
                                          ("abc", 'cannot resolve service "abc/6"'),
                                          ("", 'cannot resolve service "/6"')])
def test_parse_port_errors(text, message):
    with pytest.raises(SocatError) as info:
        parse_port(text)
    assert info.value.text == message


# ---------------------------------------------------------------- HTTP CONNECT

def test_http_request_without_and_with_authorization():
    plain = HttpConnect("127.0.0.1", 1000)
    assert plain.outgoing() == b"CONNECT 127.0.0.1:1000 HTTP/1.0\r\n\r\n"
    assert plain.outgoing() == b""
    assert texts(plain) == ['sending "CONNECT 127.0.0.1:1000 HTTP/1.0\\r\\n"', 'sending "\\r\\n"']
    auth = HttpConnect("example", 443, b"user:pass", version="1.1")
    assert auth.outgoing() == (b"CONNECT example:443 HTTP/1.1\r\nProxy-authorization: Basic dXNlcjpwYXNz\r\n\r\n")
    assert texts(auth)[1] == 'sending "Proxy-authorization: Basic dXNlcjpwYXNzrn"'


def test_http_request_line_too_long_fails_without_retry():
    handshake = HttpConnect("A" * 384, 80)
    with pytest.raises(ProxyError) as info:
        handshake.outgoing()
    assert info.value.text == "_xioopen_proxy_connect(): PROXY CONNECT buffer too small" and not info.value.retry


ANSWER = b"HTTP/1.0 200 OK\r\nVia: x\r\nA:\tb\x01\r\n\r\n"


@pytest.mark.parametrize("step", [None, 1, 3])
def test_http_answer_is_taken_up_to_the_empty_line_only(step):
    handshake = HttpConnect("127.0.0.1", 1000)
    handshake.outgoing()
    handshake.log.clear()
    assert feed_all(handshake, ANSWER + b"hello-after\n", step) == len(ANSWER)
    assert handshake.done
    assert texts(handshake) == ['proxy_connect: received answer "HTTP/1.0 200 OK\\r\\n"',
                                'proxy_connect: received header "Via: x\\r\\n"',
                                'proxy_connect: received header "A:\\tb.\\r\\n"']


@pytest.mark.parametrize("answer,message", [
    (b"HTTP/1.0 403 Forbidden\r\nX: y\r\n\r\n", "CONNECT 127.0.0.1:1000: Forbidden"),
    (b"HTTP/1.1  407 Proxy Auth Required\r\n\r\n", "CONNECT 127.0.0.1:1000: Proxy Auth Required"),
    (b"HTTP/1.0 403\r\n\r\n", "CONNECT 127.0.0.1:1000: "),
    (b"FOO/1.0 200 OK\r\n\r\n", 'proxy: invalid answer "FOO/1.0 200 OK"'),
    (b"HTTP/2 200 OK\r\n\r\n", 'proxy: invalid answer "HTTP/2 200 OK"'),
])
def test_http_refusals(answer, message):
    handshake = HttpConnect("127.0.0.1", 1000)
    handshake.outgoing()
    with pytest.raises(ProxyError) as info:
        feed_all(handshake, answer)
    assert info.value.text == message and info.value.retry
    assert texts(handshake)[-1].startswith("proxy_connect: received answer")


def test_http_status_without_reason_and_multiple_spaces_are_accepted():
    for answer in (b"HTTP/1.0 200\r\n\r\n", b"HTTP/1.0   200 OK\r\n\r\n"):
        handshake = HttpConnect("h", 1)
        assert feed_all(handshake, answer) == len(answer) and handshake.done


def test_http_bare_lf_needs_ignorecr():
    answer = b"HTTP/1.0 200 OK\nVia: x\n\n"
    strict = HttpConnect("h", 1)
    assert feed_all(strict, answer + b"data") == len(answer) + 4 and not strict.done  # waits on (socat too)
    lenient = HttpConnect("h", 1, ignorecr=True)
    assert feed_all(lenient, answer + b"data") == len(answer) and lenient.done
    assert texts(lenient) == ['proxy_connect: received answer "HTTP/1.0 200 OK\\n"',
                              'proxy_connect: received header "Via: x\\n"']


def test_http_line_limit_aborts_without_retry():
    handshake = HttpConnect("h", 1)
    with pytest.raises(ProxyError) as info:
        feed_all(handshake, b"HTTP/1.0 200 OK\r\nX: " + b"y" * HTTP_ANSWER_LIMIT)
    assert info.value.text == "proxy answer exceeds 2048 bytes, aborting" and not info.value.retry


def test_http_eof():
    with pytest.raises(ProxyError, match="^proxy_connect: connection closed by proxy$"):
        HttpConnect("h", 1).eof()


# ---------------------------------------------------------------- SOCKS4 / SOCKS4a

def test_socks4_requests():
    assert socks4_request(32109, bytes([32, 98, 76, 54]), "nobody") == bytes.fromhex("04017d6d20624c36") + b"nobody\0"
    assert socks4_request(32109, None, "nobody", "localhost") == (bytes.fromhex("04017d6d00000001") + b"nobody\0"
                                                                  + b"localhost\0")
    assert len(socks4_request(1, b"\0\0\0\1", "u" * 1000)) == 520  # socat's buffer


def test_socks4_granted_in_pieces_keeps_the_data_behind():
    handshake = Socks4(1000, bytes([127, 0, 0, 1]), "anonymous")
    assert handshake.outgoing() == bytes.fromhex("040103e87f000001") + b"anonymous\0"
    assert texts(handshake, "I")[0] == ("sending socks4 request VN=4 DC=1 DSTPORT=1000 DSTIP=127.0.0.1 "
                                        "USERID=anonymous")
    handshake.log.clear()
    assert feed_all(handshake, b"\0\x5a\0\0\0\0\0\0after", step=3) == 8 and handshake.done
    assert texts(handshake) == [
        "received socks4 reply data (offset 0): 00 5a 00", "received 3 bytes, waiting for 5 more bytes",
        "received socks4 reply data (offset 3): 00 00 00", "received 3 bytes, waiting for 2 more bytes",
        "received socks4 reply data (offset 6): 00 00", "received all 8 bytes",
        "received socks reply VN=0 CD=90 DSTPORT=0 DSTIP=0.0.0.0", "successfully connected via socks4"]


def test_socks4a_request_text():
    handshake = Socks4(1000, None, "bob", "localhost")
    handshake.outgoing()
    assert texts(handshake, "I")[0] == ("sending socks4a request VN=4 DC=1 DSTPORT=1000 DSTIP=0.0.0.1 USERID=bob "
                                        "DESTNAME=localhost")


@pytest.mark.parametrize("code,message", [(91, "socks: connect request rejected or failed"),
                                          (92, "socks: ident refused by client"), (93, "socks: ident failed")])
def test_socks4_refusals(code, message):
    handshake = Socks4(1, b"\x7f\0\0\1", "u")
    with pytest.raises(ProxyError) as info:
        feed_all(handshake, bytes([0, code, 0, 0, 0, 0, 0, 0]))
    assert info.value.text == message


def test_socks4_odd_reply_warns_and_goes_on_at_the_attempts_level():
    handshake = Socks4(1, b"\x7f\0\0\1", "u")
    feed_all(handshake, bytes([4, 85, 1, 2, 3, 4, 5, 6]))
    assert handshake.done
    assert ("I", "received socks reply VN=4 CD=85 DSTPORT=258 DSTIP=3.4.5.6") in handshake.log
    assert handshake.log[-2:] == [("W", "socks: reply code version is not 0 (4)"),
                                  (ATTEMPT, "socks: undefined status 85")]


def test_socks4_eof():
    with pytest.raises(ProxyError, match="EOF during read of socks reply, peer might not be a socks4 server"):
        Socks4(1, b"\0\0\0\1", "u").eof()


# ---------------------------------------------------------------- SOCKS5

def test_socks5_requests():
    assert socks5_request(SOCKS5_CONNECT, "127.0.0.1", 80) == bytes.fromhex("050100017f0000010050")
    assert socks5_request(SOCKS5_BIND, "::1", 80) == bytes.fromhex("05020004") + bytes(15) + b"\1" + b"\0\x50"
    assert socks5_request(SOCKS5_CONNECT, "localhost", 80) == bytes.fromhex("0501000309") + b"localhost\0\x50"
    with pytest.raises(ProxyError, match="too long"):
        socks5_request(SOCKS5_CONNECT, "a" * 256, 80)


def _reply(code: int = 0, tail: bytes = bytes.fromhex("017f0000011f90")) -> bytes:
    return bytes([5, code, 0]) + tail


def test_socks5_connect_without_authentication():
    handshake = Socks5(SOCKS5_CONNECT, "127.0.0.1", 8080)
    assert handshake.outgoing() == b"\5\1\0"
    assert feed_all(handshake, b"\5\0") == 2 and not handshake.done
    assert handshake.outgoing() == bytes.fromhex("050100017f0000011f90")
    handshake.log.clear()
    assert feed_all(handshake, _reply() + b"peer data") == 10 and handshake.done
    assert texts(handshake) == ["reading SOCKS5 reply", "reading SOCKS5 reply", "received all 10 bytes",
                                "received SOCKS5 reply version=5 reply=0 address_type=1"]


def test_socks5_reply_with_a_domain_name_is_read_to_its_end():
    handshake = Socks5(SOCKS5_CONNECT, "h", 1)
    feed_all(handshake, b"\5\0")
    handshake.outgoing()
    reply = _reply(tail=b"\3\x04host\0\1")
    assert feed_all(handshake, reply + b"x", step=2) == len(reply) and handshake.done


def test_socks5_username_password():
    handshake = Socks5(SOCKS5_CONNECT, "127.0.0.1", 80, ("pxuser", "s3cret"))
    assert handshake.outgoing() == b"\5\2\0\2"
    feed_all(handshake, b"\5\2")
    assert handshake.outgoing() == b"\1\6pxuser\6s3cret"
    feed_all(handshake, b"\1\0")
    assert handshake.outgoing()[:4] == b"\5\1\0\1"
    feed_all(handshake, _reply())
    assert handshake.done


def test_socks5_server_may_choose_no_authentication_even_when_offered():
    handshake = Socks5(SOCKS5_CONNECT, "127.0.0.1", 80, ("u", "p"))
    handshake.outgoing()
    feed_all(handshake, b"\5\0")
    assert handshake.outgoing()[:2] == b"\5\1"


@pytest.mark.parametrize("hello,credentials,message", [
    (b"\4\0", None, "SOCKS5 Server Hello version was 4, not the expected 5, peer might not be a SOCKS5 server"),
    (b"\5\xff", None, "SOCKS5 authentication negotiation failed - client & server have no common supported "
                      "methods"),
    (b"\5\2", None, "SOCKS5 server requested unsupported auth method (2)"),
    (b"\5\1", ("u", "p"), "SOCKS5 server requested unsupported auth method (1)"),
])
def test_socks5_hello_refusals(hello, credentials, message):
    handshake = Socks5(SOCKS5_CONNECT, "h", 1, credentials)
    with pytest.raises(ProxyError) as info:
        feed_all(handshake, hello)
    assert info.value.text == message


def test_socks5_authentication_failure():
    handshake = Socks5(SOCKS5_CONNECT, "h", 1, ("u", "wrong"))
    feed_all(handshake, b"\5\2")
    with pytest.raises(ProxyError, match=r"authentication failed \(status 1\)"):
        feed_all(handshake, b"\1\1")


@pytest.mark.parametrize("reply,message", [
    (_reply(5), "SOCKS5 server error 5: connection refused"),
    (_reply(2), "SOCKS5 server error 2: connection not allowed by ruleset"),
    (_reply(9), "SOCKS5 server error 9: unknown error"),
    (b"\4\0\0" + bytes.fromhex("017f0000011f90"), "SOCKS5 reply version was 4, not the expected 5, peer might not "
                                                    "be a SOCKS5 server"),
    (b"\5\0\0\7\0", "invalid SOCKS5 reply address type (7)"),
])
def test_socks5_reply_refusals(reply, message):
    handshake = Socks5(SOCKS5_CONNECT, "h", 1)
    feed_all(handshake, b"\5\0")
    with pytest.raises(ProxyError) as info:
        feed_all(handshake, reply)
    assert info.value.text == message


def test_socks5_bind_waits_for_the_second_reply():
    handshake = Socks5(SOCKS5_BIND, "127.0.0.1", 18097)
    feed_all(handshake, b"\5\0")
    assert handshake.outgoing()[1] == SOCKS5_BIND
    first = _reply(tail=bytes.fromhex("017f000001cec3"))
    assert feed_all(handshake, first) == 10 and not handshake.done
    assert handshake.bound == ("127.0.0.1", 52931)
    assert ("N", "listening on remote host, waiting for connection") in handshake.log
    second = _reply(tail=bytes.fromhex("017f000001ea20"))
    assert feed_all(handshake, second + b"peer") == 10 and handshake.done
    assert handshake.peer == ("127.0.0.1", 59936)
    assert texts(handshake)[-2:] == ["received connection on remote host",
                                     "received second SOCKS5 reply version=5 reply=0 address_type=1"]


def test_socks5_bind_refused_on_the_second_reply():
    handshake = Socks5(SOCKS5_BIND, "127.0.0.1", 1)
    feed_all(handshake, b"\5\0")
    feed_all(handshake, _reply())
    with pytest.raises(ProxyError, match="error 2: connection not allowed by ruleset"):
        feed_all(handshake, _reply(2))


def test_socks5_port_zero_and_eof():
    handshake = Socks5(SOCKS5_CONNECT, "h", 0)
    with pytest.raises(ProxyError) as info:
        feed_all(handshake, b"\5\0")
    assert not info.value.retry
    for phase_input, text in ((b"", "SOCKS5 server hello"), (b"\5\0", "SOCKS5 reply")):
        fresh = Socks5(SOCKS5_CONNECT, "h", 1)
        feed_all(fresh, phase_input)
        with pytest.raises(ProxyError, match=f"EOF during read of {text}"):
            fresh.eof()


def test_http_lone_cr_does_not_end_a_line():
    handshake = HttpConnect("h", 1)
    answer = b"HTTP/1.0 200 a\rb\r\nX: 1\r2\r\n\r\n"
    assert feed_all(handshake, answer + b"z") == len(answer) and handshake.done
    assert texts(handshake) == ['proxy_connect: received answer "HTTP/1.0 200 a\\rb\\r\\n"',
                                'proxy_connect: received header "X: 1\\r2\\r\\n"']


def test_http_ignorecr_skips_extra_cr_before_the_last_lf():
    lenient = HttpConnect("h", 1, ignorecr=True)
    assert feed_all(lenient, b"HTTP/1.0 200 OK\r\n\r\r\nz") == 20 and lenient.done
    strict = HttpConnect("h", 1)
    assert feed_all(strict, b"HTTP/1.0 200 OK\r\n\r\r\n\r\nz") == 22 and strict.done
