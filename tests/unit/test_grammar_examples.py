"""Every command line of socat(1)'s EXAMPLES section parses as socat reads it.

data/man_examples.txt is extracted from the man page's roff source by
data/extract_man_examples.py. Each line is split with shlex as the shell would (no
variable expansion: `$HOME` stays literal), the socat command is picked out of any
pipeline, its global options are skipped, and the two addresses must give the keyword,
parameters and options below, written out by hand from socat's rules. The grammar is
pure, so address types pysocat does not implement (TCP, OPENSSL, VSOCK...) parse too.
"""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from pysocat.grammar import parse_address
from pysocat.spec import AddressSpec, DualSpec, Spec

LINES = (Path(__file__).parent / "data" / "man_examples.txt").read_text().splitlines()
OPTIONS_WITH_ARGUMENT = {"-T", "-t", "-b", "-lf", "-r", "-R"}

# (left address, right address); an address is (keyword, params, options as written
# after lexing) or ("DUAL", reader, writer).
EXPECTED = [
    (('-', (), ()), ('TCP4', ('www.domain.org', '80'), ())),
    (('READLINE', (), ('history=$HOME/.http_history',)), ('TCP4', ('www.domain.org', 'www'), ('crnl',))),
    (('TCP4-LISTEN', ('www',), ()), ('TCP4', ('www.domain.org', 'www'), ())),
    (('TCP4-LISTEN', ('80',), ('bind=myaddr1', 'reuseaddr', 'fork', 'su=nobody', 'range=10.0.0.0/8')), ('TCP4', ('www.domain.org', '80'), ('bind=myaddr2',))),
    (('TCP4-LISTEN', ('5555',), ('fork', 'tcpwrap=script')), ('EXEC', ('/bin/myscript',), ('chroot=/home/sandbox', 'su-d=sandbox', 'pty', 'stderr'))),
    (('EXEC', ('mail.sh target@domain.com',), ('fdin=3', 'fdout=4')), ('TCP4', ('mail.relay.org', '25'), ('crnl', 'bind=alias1.server.org', 'mss=512'))),
    (('-', (), ('escape=0x0f',)), ('GOPEN', ('/dev/ttyS0',), ('rawer', 'crnl'))),
    (('UNIX-LISTEN', ('/tmp/.X11-unix/X1',), ('fork',)), ('SOCKS4', ('host.victim.org', '127.0.0.1', '6000'), ('socksuser=nobody', 'sourceport=20'))),
    (('GOPEN', ('/tmp/readdata',), ('seek-end=0', 'ignoreeof')), ('-', (), ())),
    (('-', (), ()), ('EXEC', ('ssh -l user server',), ('pty', 'setsid', 'ctty'))),
    (('TCP4-LISTEN', ('3334',), ('reuseaddr', 'fork')), ('OPEN', ('/tmp/in.log',), ('creat', 'append'))),
    (('PTY', (), ('link=$HOME/dev/vmodem0', 'rawer', 'wait-slave')), ('EXEC', ('ssh modemserver.us.org socat - /dev/ttyS0',), ('nonblock', 'rawer'))),
    (('TCP4-LISTEN', ('2022',), ('reuseaddr', 'fork')), ('PROXY', ('proxy', 'www.domain.org', '22'), ('proxyport=3128', 'proxyauth=user:pass'))),
    (('-', (), ()), ('OPENSSL', ('server', '4443'), ('cafile=server.crt', 'cert=client.pem'))),
    (('OPENSSL-LISTEN', ('4443',), ('reuseaddr', 'pf=ip4', 'fork', 'cert=server.pem', 'cafile=client.crt')), ('PIPE', (), ())),
    (('-', (), ()), ('file', ('/tmp/bigfile',), ('create', 'largefile', 'seek=100000000000'))),
    (('tcp-l', ('7777',), ('reuseaddr', 'fork')), ('system', ('filan -i 0 -s >&2',), ('nofork',))),
    (('-', (), ()), ('file', ('/usr/bin/squid.exe',), ('seek=0x00074420',))),
    (('-', (), ()), ('tcp', ('www.blackhat.org', '31337'), ('readbytes=1000',))),
    (('TCP', ('target', '9999'), ('end-close',)), ('TCP-L', ('8888',), ('reuseaddr', 'fork'))),
    (('-', (), ()), ('UDP4-DATAGRAM', ('192.168.1.0', '123'), ('sp=123', 'broadcast', 'range=192.168.1.0/24'))),
    (('-', (), ()), ('SOCKET-DATAGRAM', ('2', '2', '17', 'x007bxc0a80100x0000000000000000'), ('bind=x007bx00000000x0000000000000000', 'setsockopt-int=1:6:1', 'range=x0000xc0a80100x0000000000000000:x0000xffffff00x0000000000000000'))),
    (('-', (), ()), ('IP4-DATAGRAM', ('255.255.255.255', '44'), ('broadcast', 'range=10.0.0.0/8'))),
    (('-', (), ()), ('UDP4-DATAGRAM', ('224.255.0.1', '6666'), ('bind=:6666', 'ip-add-membership=224.255.0.1:eth0'))),
    (('UDP', ('host2', '4443'), ()), ('TUN', ('192.168.255.1/24',), ('up',))),
    (('-', (), ()), ('VSOCK-CONNECT', ('2', '1234'), ())),
    (('-', (), ()), ('VSOCK-LISTEN', ('1234',), ())),
    (('-', (), ()), ('VSOCK-CONNECT', ('31', '4321'), ('bind:5555',))),
    (('VSOCK-LISTEN', ('3333',), ('reuseaddr', 'fork')), ('VSOCK-CONNECT', ('42',), ('3333',))),
    (('VSOCK-LISTEN', ('22',), ('reuseaddr', 'fork')), ('TCP', ('localhost', '22'), ())),
    (('TCP4-LISTEN', ('22222',), ('reuseaddr', 'fork')), ('VSOCK-CONNECT', ('33', '22'), ())),
    (('PTY', (), ('link=/var/run/ppp', 'rawer')), ('INTERFACE', ('hdlc0',), ())),
    (('TCP-L', ('10081',), ('reuseaddr', 'fork', 'crlf')), ('SYSTEM', ('echo -e "HTTP/1.0 200 OK\\nDocumentType: text/plain\\n\\ndate: $(date)\\nserver:$SOCAT_SOCKADDR:$SOCAT_SOCKPORT\\nclient: $SOCAT_PEERADDR:$SOCAT_PEERPORT\\n"; cat; echo -e "\\n"',), ())),
    (('DUAL', ('UDP4-RECVFROM', ('9999',), ('so-broadcast', 'so-timestamp', 'ip-pktinfo', 'ip-recverr', 'ip-recvopts', 'ip-recvtos', 'ip-recvttl')), ('-', (), ())), ('SYSTEM', ('export; sleep 1',), ())),
    (('-', (), ()), ('UDP-DATAGRAM', ('239.255.255.250', '1900'), ('crlf',))),
]


def socat_addresses(line: str) -> list[str]:
    """The two address arguments of the socat command in a shell line."""
    words = shlex.split(line)
    start = next(i for i, w in enumerate(words) if w in ("socat", "|socat")) + 1
    args: list[str] = []
    for word in words[start:]:
        if word.startswith("|"):
            break
        args.append(word)
    addresses: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif not addresses and arg.startswith("-") and len(arg) > 1 and arg[1] not in ",:":
            skip = arg in OPTIONS_WITH_ARGUMENT  # "-" "-,opt" "-:x" are addresses, as in socat
        else:
            addresses.append(arg)
    return addresses


def shape(spec: Spec) -> tuple:
    if isinstance(spec, DualSpec):
        return ("DUAL", shape(spec.reader), shape(spec.writer))
    assert isinstance(spec, AddressSpec)
    return (spec.keyword, spec.params, tuple(o.text() for o in spec.options))


def test_every_example_of_the_man_page_is_listed():
    assert len(LINES) == len(EXPECTED) == 35
    assert all("socat" in line for line in LINES)


@pytest.mark.parametrize("line,expected", list(zip(LINES, EXPECTED)), ids=[f"example{i}" for i in range(len(LINES))])
def test_man_page_example_parses_as_socat_reads_it(line: str, expected: tuple):
    addresses = socat_addresses(line)
    assert len(addresses) == 2
    for text, want in zip(addresses, expected):
        assert shape(parse_address(text)) == want


def test_quirks_of_the_examples_are_read_as_socat_reads_them():
    """The shell removes the quotes of EXEC:"ssh ... /dev/ttyS0,nonblock,rawer", so socat
    applies nonblock and rawer to the EXEC address; `VSOCK-CONNECT:42,3333` has an option
    named 3333 and `bind:5555` is an option name (both typos in the man page)."""
    modem = parse_address(socat_addresses(LINES[11])[1])
    assert modem.params == ("ssh modemserver.us.org socat - /dev/ttyS0",)
    assert [o.name for o in modem.options] == ["nonblock", "rawer"]
    assert [o.name for o in parse_address("VSOCK-CONNECT:42,3333").options] == ["3333"]
    assert parse_address("VSOCK-CONNECT:31:4321,bind:5555").options[0].text() == "bind:5555"
