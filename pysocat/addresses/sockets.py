"""What every socket family shares (socat: xio-socket.c, xio-ip.c, xio-listen.c, xio-ipapp.c).

Address resolution with socat's IPv4 preference and `[::1]` brackets; socat's sockaddr text
(`AF=2 127.0.0.1:80`, `AF=10 [0000:...:0001]:80`, `AF=1 "/path"`) that its diagnostics and
scripts rely on; socket options applied as data from option_table.SOCKOPTS; connect with
bind/sourceport/connect-timeout/retry; the listen/accept loop with range, fork (a real
process per connection: the parent keeps listening, each child returns its connected
socket so that the second address is opened in the child), max-children and reaping; the
SOCAT_PEER*/SOCAT_SOCK* variables for EXEC/SYSTEM children; and DatagramEndpoint, which
keeps one datagram per read and replies to the last sender (UDP/UNIX RECVFROM, SENDTO).
Family modules (tcp.py, udp.py, unix.py) only say which socket they want.
"""
from __future__ import annotations

import errno
import gc
import ipaddress
import os
import select
import _socket
import socket
import struct
import sys
import time
from collections.abc import Callable
from ..record import dataclass

from .. import children
from .. import option_table as O
from ..endpoint import Endpoint, policy_from_options
from ..errors import SocatError
from ..log import LOG
from ..options import OptionValues, sockopt_bytes
from ..rawaddr import RawAddress, RawRange
from .common import ADDRESS_ENVIRONMENT, OpenContext, apply_fd_options

AF_NAMES = {socket.AF_INET: 2, socket.AF_INET6: 10, socket.AF_UNIX: 1, socket.AF_VSOCK: 40}
Sockaddr = tuple | str | bytes


# ---------------------------------------------------------------- socat's address text (pure)

def ip6_full(text: str) -> str:
    """socat prints IPv6 addresses as eight zero-padded groups: 0000:...:0001."""
    packed = socket.inet_pton(socket.AF_INET6, text.split("%")[0])
    return ":".join(f"{g:04x}" for g in struct.unpack("!8H", packed))


def unix_text(addr: str | bytes) -> str:
    """A UNIX address as socat quotes it: the path, `\\0name` for abstract, `<anon>` if unbound."""
    if isinstance(addr, bytes):
        addr = addr.decode(errors="replace")
    if not addr:
        return "<anon>"
    if addr.startswith("\0"):
        # every NUL as \0: with unix-tightsocklen=0 the name is padded to 108 bytes of them
        return addr.replace("\0", "\\0")
    return addr


def sockaddr_info(family: int, addr: Sockaddr) -> str:
    """`AF=2 127.0.0.1:80` as in socat's notices and errors."""
    if isinstance(addr, RawAddress):  # generic sockets' addresses format themselves
        return addr.info()
    if family == socket.AF_INET:
        return f"AF=2 {addr[0]}:{addr[1]}"  # type: ignore[index]
    if family == socket.AF_INET6:
        return f"AF=10 [{ip6_full(addr[0])}]:{addr[1]}"  # type: ignore[index]
    if family == socket.AF_UNIX:
        return f'AF=1 "{unix_text(addr)}"'  # type: ignore[arg-type]
    if family == socket.AF_VSOCK:
        return f"AF=40 cid:{addr[0]} port:{addr[1]}"  # type: ignore[index]
    return f"AF={family} {addr!r}"


def socklen(family: int, addr: Sockaddr) -> int:
    if isinstance(addr, RawAddress):
        return addr.length
    if family == socket.AF_INET:
        return 16
    if family == socket.AF_INET6:
        return 28
    if family == socket.AF_VSOCK:
        return 16
    raw = addr.encode() if isinstance(addr, str) else bytes(addr)  # type: ignore[arg-type]
    return 2 + len(raw)


def strerror(err: OSError) -> str:
    return os.strerror(err.errno) if err.errno else str(err)


# ---------------------------------------------------------------- resolution

PF_NAMES = {"ip4": socket.AF_INET, "ipv4": socket.AF_INET, "inet": socket.AF_INET, "inet4": socket.AF_INET,
            "2": socket.AF_INET, "ip6": socket.AF_INET6, "ipv6": socket.AF_INET6, "inet6": socket.AF_INET6,
            "10": socket.AF_INET6, "unix": socket.AF_UNIX, "local": socket.AF_UNIX, "1": socket.AF_UNIX}


def family_from_options(opts: OptionValues, default: int) -> int:
    """pf=ip4|ip6 picks the family where the address type leaves it open."""
    if O.PF not in opts:
        return default
    text = str(opts.get(O.PF)).lower()
    if text not in PF_NAMES:
        raise SocatError(f'unknown protocol family "{opts.get(O.PF)}"')
    return PF_NAMES[text]


def preferred_family() -> int:
    """socat 1.8 prefers IPv4 when neither the address nor pf= says (SOCAT_PREFERRED_RESOLVE_IP)."""
    pref = os.environ.get("SOCAT_PREFERRED_RESOLVE_IP", "4")
    return socket.AF_INET6 if pref.startswith("6") else socket.AF_INET


def listen_family() -> int:
    """Listen, recv and recvfrom addresses that name no IP version take it from
    SOCAT_DEFAULT_LISTEN_IP (4 or 6; -4 and -6 override it), else from the resolver's."""
    wanted = os.environ.get("SOCAT_DEFAULT_LISTEN_IP", "")
    if wanted.startswith("6"):
        return socket.AF_INET6
    if wanted.startswith("4"):
        return socket.AF_INET
    return preferred_family()


def resolve(host: str | None, port: str, family: int, socktype: int, passive: bool = False,
            protocol: int | None = None) -> tuple[int, tuple]:
    """getaddrinfo() as socat's xiogetaddrinfo() calls it, with its diagnostics.

    A port that starts with a digit is strtoul(..., 0) ("0x50" is 80; trailing text is a
    warning) and the name is then looked up alone, with the protocol in the hints; a service
    name is looked up together with the name, and a failure there keeps socat's message
    with its missing "(". An empty port is an error; an empty name to connect to is looked
    up as "" (an error), an empty local name (bind=:port) means any address."""
    if port == "":
        raise SocatError("empty port/service")
    if protocol is None:
        protocol = {socket.SOCK_STREAM: socket.IPPROTO_TCP, socket.SOCK_DGRAM: socket.IPPROTO_UDP}.get(socktype, 0)
    flags = socket.AI_PASSIVE
    name = host
    if host is not None and host.startswith("[") and host.endswith("]"):
        name = host[1:-1]
        flags |= socket.AI_NUMERICHOST
        if family == socket.AF_UNSPEC:
            family = socket.AF_INET6
    if passive and name == "":
        name = None  # a local address (bind=:port, a listener): any
    shown = "NULL" if name is None else name
    # the name's own bytes, as socat passes them: socket.getaddrinfo() would run the Python
    # idna codec on a str (which fails on an empty or 64-character label where the resolver
    # answers), and wrap each result family and type in an enum
    node = None if name is None else os.fsencode(name)
    numeric_port: int | None = None
    if port[:1].isdigit():
        from ..options import strtoul

        numeric_port, rest = strtoul(port, 0)
        if rest:
            LOG.warn(f'xiogetaddrinfo(, "{port}", ...): extra trailing data "{rest}"')
        numeric_port &= 0xFFFF
    try:
        if numeric_port is None:
            infos = _socket.getaddrinfo(node, port, family, socktype, 0, flags)
        else:
            # no name and no service is no question to getaddrinfo(): ask for port 0 of "any"
            infos = _socket.getaddrinfo(node, None if node is not None else "0", family, socktype, protocol, flags)
    except socket.gaierror as err:
        if numeric_port is None:
            raise SocatError(f'getaddrinfo"{shown}", "{port}", {{{flags},{family},{socktype},0}}, {{}}): '
                             f"{err.strerror}") from None
        raise SocatError(f'getaddrinfo("{shown}", "NULL", {{{flags},{family},{socktype},{protocol}}}, {{}}): '
                         f"{err.strerror}") from None
    if not infos:
        raise SocatError(f'getaddrinfo"{shown}", "{port}": no address')
    if numeric_port is not None:
        infos = [(info[0], info[1], info[2], info[3], (info[4][0], numeric_port) + tuple(info[4][2:]))
                 for info in infos]
    if family == socket.AF_UNSPEC:
        wanted = preferred_family()
        for info in infos:
            if info[0] == wanted:
                return info[0], info[4]
    return infos[0][0], infos[0][4]


def split_host_port(text: str) -> tuple[str, str | None]:
    """`host:port`, `[v6]:port`, `host` or `[v6]` (the bind= option's value)."""
    if text.startswith("["):
        end = text.find("]")
        if end >= 0:
            rest = text[end + 1 :]
            return text[: end + 1], (rest[1:] if rest.startswith(":") else None)
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port
    return text, None


# ---------------------------------------------------------------- environment for children

def set_env(ctx: OpenContext, name: str, value: str) -> None:
    """socat's xiosetenv: SOCAT_<name>, and <PROGRAM>_<name> under another program name,
    for the programs this process starts (common.ADDRESS_ENVIRONMENT)."""
    for prefix in {"SOCAT", ctx.program.upper().replace("-", "_")}:
        ADDRESS_ENVIRONMENT[f"{prefix}_{name}"] = value


def set_address_env(ctx: OpenContext, which: str, family: int, addr: Sockaddr) -> None:
    """SOCAT_PEERADDR/PEERPORT (which="PEER") or SOCAT_SOCKADDR/SOCKPORT (which="SOCK")."""
    if isinstance(addr, RawAddress):
        for name, value in addr.environment(which):
            set_env(ctx, name, value)
        return
    if family == socket.AF_INET:
        set_env(ctx, f"{which}ADDR", str(addr[0]))  # type: ignore[index]
        set_env(ctx, f"{which}PORT", str(addr[1]))  # type: ignore[index]
    elif family == socket.AF_INET6:
        set_env(ctx, f"{which}ADDR", f"[{ip6_full(addr[0])}]")  # type: ignore[index]
        set_env(ctx, f"{which}PORT", str(addr[1]))  # type: ignore[index]
    elif family == socket.AF_UNIX:
        set_env(ctx, f"{which}ADDR", unix_text(addr))  # type: ignore[arg-type]
    elif family == socket.AF_VSOCK:  # socat: xiosetsockaddrenv_vsock, the CID and the port
        set_env(ctx, f"{which}ADDR", str(addr[0]))  # type: ignore[index]
        set_env(ctx, f"{which}PORT", str(addr[1]))  # type: ignore[index]


# ---------------------------------------------------------------- socket options (data-driven)

def _encode(kind: str, value: object) -> int | bytes:
    if kind == "int":
        return c_int(int(value))  # type: ignore[call-overload]
    if kind == "linger":
        return struct.pack("ii", 1, int(value))  # type: ignore[call-overload]
    if kind == "timeval":
        seconds = float(value)  # type: ignore[arg-type]
        return struct.pack("ll", int(seconds), int(round((seconds % 1) * 1_000_000)))
    if kind == "string":
        return str(value).encode() + b"\0"
    if kind == "bin":  # already dalan bytes (options.BIN)
        return bytes(value)  # type: ignore[arg-type]
    raise ValueError(kind)


def c_int(value: int) -> int:
    """What socat's int option holds: strtoul's result stored in a C int (so "-5" is -5,
    and 2**32 + 7 is 7), as setsockopt() receives it."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _setsockopt(sock: socket.socket, level: int, name: int, value: int | bytes, shown: object) -> None:
    try:
        sock.setsockopt(level, name, value)
    except OSError as err:
        raise _setsockopt_error(sock.fileno(), level, name, value, shown, err) from None


def _setsockopt_error(fd: int, level: int, name: int, value: int | bytes, shown: object, err: OSError) -> SocatError:
    """socat's message for a failed setsockopt(): the value as shown, then its size."""
    return SocatError(f"setsockopt({fd}, {level}, {name}, {shown}, "
                      f"{4 if isinstance(value, int) else len(value)}): {strerror(err)}")


def _table_value(kind: str, value: object) -> tuple[int | bytes, object]:
    """A table option's value as setsockopt() gets it, and as socat shows it ({5} for an int)."""
    encoded = _encode(kind, value)
    return encoded, f"{{{encoded}}}" if kind == "int" else value


def apply_table(sock: socket.socket, opts: OptionValues, table: dict) -> None:
    """Every option of `table` that was given, in the order written."""
    for opt, value in opts.occurrences:
        record = table.get(opt)
        if record is None or value is None:
            continue
        level, name, kind = record
        if level == socket.IPPROTO_IP and sock.family == socket.AF_INET6:
            level, name = _ipv6_equivalent(name, level)
        if level == socket.IPPROTO_TCP and sock.type != socket.SOCK_STREAM:
            continue
        if level in (socket.IPPROTO_IP, socket.IPPROTO_IPV6, socket.IPPROTO_TCP) and sock.family == socket.AF_UNIX:
            continue
        _setsockopt(sock, level, name, *_table_value(kind, value))


def _ipv6_equivalent(name: int, level: int) -> tuple[int, int]:
    """ip-ttl, ip-tos and the multicast ones on an IPv6 socket (socat maps them likewise)."""
    mapping = {socket.IP_TTL: 16, socket.IP_TOS: 67, socket.IP_MULTICAST_TTL: 18, socket.IP_MULTICAST_LOOP: 19}
    if name in mapping:
        return socket.IPPROTO_IPV6, mapping[name]
    return level, name


# Every option the two appliers below look at (a unit test reads them from their code): an
# address with none of them skips them (in a forked connection child, naming each record
# would copy the memory it lives in).
PREBIND_APPLIED = frozenset({*O.PREBIND_SOCKOPTS, O.SETSOCKOPT_LISTEN})
SOCKET_APPLIED = frozenset({*O.SOCKOPTS, O.ADD_MEMBERSHIP, O.JOIN_GROUP, O.MULTICAST_IF})
CONNECTED_APPLIED = frozenset({*O.LATE_SOCKOPTS, O.SETSOCKOPT, O.SETSOCKOPT_BIN, O.SETSOCKOPT_INT,
                               O.SETSOCKOPT_STRING})


def apply_socket_options(sock: socket.socket, opts: OptionValues, prebind: bool = True) -> None:
    """The options socat applies between socket() and connect()/listen(): SOL_SOCKET,
    IPPROTO_TCP and IPPROTO_IP records of the table, setsockopt-listen, multicast joins."""
    if prebind and not PREBIND_APPLIED.isdisjoint(opts.values):
        apply_table(sock, opts, O.PREBIND_SOCKOPTS)
        for value in opts.all(O.SETSOCKOPT_LISTEN):
            _generic_sockopt(sock, value)
    if SOCKET_APPLIED.isdisjoint(opts.values):
        return
    apply_table(sock, opts, O.SOCKOPTS)
    for value in opts.all(O.ADD_MEMBERSHIP):
        _add_membership(sock, str(value))
    for value in opts.all(O.JOIN_GROUP):
        _join_group6(sock, str(value))
    if O.MULTICAST_IF in opts:
        address = socket.inet_aton(socket.gethostbyname(str(opts.get(O.MULTICAST_IF))))
        _setsockopt(sock, socket.IPPROTO_IP, socket.IP_MULTICAST_IF, address, opts.get(O.MULTICAST_IF))


def apply_to_descriptor(fd: int, opts: OptionValues) -> None:
    """STDIO and FD: socat applies the socket options given to whatever the descriptor is
    (socket activation hands over a socket). On a pipe or a terminal the first of them
    fails: setsockopt(): Socket operation on non-socket, and the address fails."""
    if SOCKET_APPLIED.isdisjoint(opts.values) and LATE_APPLIED.isdisjoint(opts.values):
        return
    try:
        sock = socket.socket(fileno=fd)
    except OSError as err:
        _refuse_first_sockopt(fd, opts, err)
        return
    try:
        apply_socket_options(sock, opts, prebind=False)
        if not LATE_APPLIED.isdisjoint(opts.values):
            apply_table(sock, opts, O.LATE_SOCKOPTS)
    finally:
        sock.detach()


LATE_APPLIED = frozenset(O.LATE_SOCKOPTS)


def _refuse_first_sockopt(fd: int, opts: OptionValues, err: OSError) -> None:
    """The error socat's first setsockopt() on a descriptor that is no socket reports
    (its tables apply the PASTSOCKET and FD phases before LATE)."""
    for table in (O.SOCKOPTS, O.LATE_SOCKOPTS):
        for opt, value in opts.occurrences:
            if opt in table and value is not None:
                level, name, kind = table[opt]
                raise _setsockopt_error(fd, level, name, *_table_value(kind, value), err)
    if O.MULTICAST_IF in opts:  # socat shows the in_addr as the int it is in memory
        address = socket.inet_aton(socket.gethostbyname(str(opts.get(O.MULTICAST_IF))))
        raise _setsockopt_error(fd, socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 0,
                                f"{{0x{int.from_bytes(address, sys.byteorder):x}}}", err)


def apply_connected_options(sock: socket.socket, opts: OptionValues) -> None:
    """socat's PH_CONNECTED/PH_LATE options: setsockopt*, *-late, on the connected socket."""
    if CONNECTED_APPLIED.isdisjoint(opts.values):
        return
    apply_table(sock, opts, O.LATE_SOCKOPTS)
    for opt in (O.SETSOCKOPT, O.SETSOCKOPT_BIN, O.SETSOCKOPT_INT, O.SETSOCKOPT_STRING):
        for value in opts.all(opt):
            _generic_sockopt(sock, value)


def _generic_sockopt(sock: socket.socket, value: object) -> None:
    """setsockopt-int/-string/-bin; socat shows the value as {5}, "text" and {...}."""
    level, name, kind, raw = value  # type: ignore[misc]
    if kind == "int":
        data: int | bytes = int(raw)
        shown = f"{{{data}}}"
    elif kind == "string":
        data = str(raw).encode() + b"\0"
        shown = f'"{raw}"'
    else:
        data = sockopt_bytes(str(raw))
        shown = "{...}"
    _setsockopt(sock, level, name, data, shown)


def _interface_index(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return socket.if_nametoindex(text)
    except OSError:
        raise SocatError(f'interface "{text}" not found') from None


def _add_membership(sock: socket.socket, text: str) -> None:
    """ip-add-membership=<group>:<if-addr> | <group>:<if-name|if-index> | <group>:<if-addr>:<if>."""
    parts = text.split(":")
    group = socket.inet_aton(parts[0])
    if len(parts) == 1:
        raise SocatError(f'option "ip-add-membership": missing interface in "{text}"')
    if len(parts) == 3:
        mreq = group + socket.inet_aton(parts[1]) + struct.pack("i", _interface_index(parts[2]))
    else:
        try:
            mreq = group + socket.inet_aton(parts[1]) + struct.pack("i", 0)
        except OSError:
            mreq = group + socket.inet_aton("0.0.0.0") + struct.pack("i", _interface_index(parts[1]))
    _setsockopt(sock, socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq, text)


def _join_group6(sock: socket.socket, text: str) -> None:
    """ipv6-join-group=[<group>]:<if-name|if-index>."""
    group_text, _, interface = text.rpartition(":") if text.startswith("[") else text.partition(":")
    group_text = group_text.strip("[]")
    mreq = socket.inet_pton(socket.AF_INET6, group_text) + struct.pack("I", _interface_index(interface or "0"))
    _setsockopt(sock, socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq, text)


# ---------------------------------------------------------------- creating, binding, connecting

def new_socket(family: int, socktype: int, proto: int) -> socket.socket:
    try:
        sock = socket.socket(family, socktype, proto)
    except OSError as err:
        raise SocatError(f"socket({family}, {socktype}, {proto}): {strerror(err)}") from None
    LOG.info(f"socket({AF_NAMES.get(family, family)}, {int(socktype)}, {proto}) -> {sock.fileno()}")
    return sock


def bound_socket(family: int, socktype: int, proto: int, opts: OptionValues, local: Sockaddr | None,
                 new: Callable[[int, int, int], socket.socket] = new_socket) -> socket.socket:
    """A new socket (made by `new`: a generic address's raw-address one) with its options
    applied and bound to `local` unless that is None; closed again on failure."""
    sock = new(family, socktype, proto)
    try:
        apply_socket_options(sock, opts)
        if local is not None:
            bind_socket(sock, local)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_socket(sock: socket.socket, addr: Sockaddr) -> None:
    try:
        sock.bind(addr)
    except OSError as err:
        raise SocatError(f"bind({sock.fileno()}, {{{sockaddr_info(sock.family, addr)}}}, "
                         f"{socklen(sock.family, addr)}): {strerror(err)}") from None
    _log_bind(sock, addr)


def _log_bind(sock: socket.socket, addr: Sockaddr) -> None:
    """socat's -d -d -d -d trace of bind() (its test UDP_LOWPORT reads the port from it)."""
    if LOG.enabled("D"):
        LOG.debug(f"bind({sock.fileno()}, {sockaddr_info(sock.family, addr)}, {socklen(sock.family, addr)})")
        LOG.debug("bind() -> 0")


def local_bind_address(opts: OptionValues, family: int, socktype: int) -> tuple | None:
    """bind=, sourceport= and lowport for a connecting IP socket; None when nothing to bind."""
    host: str | None = None
    port: str | None = None
    if O.BIND in opts:
        host, port = split_host_port(str(opts.get(O.BIND)))
    if O.SOURCEPORT in opts:
        port = str(opts.get(O.SOURCEPORT))
    if host is None and port is None:
        return None
    _family, addr = resolve(host, port or "0", family, socktype, passive=True)
    return addr


def bind_ip_client(sock: socket.socket, opts: OptionValues, family: int, socktype: int) -> None:
    """bind=, sourceport= and lowport on an IP socket before it connects or sends."""
    local = local_bind_address(opts, family, socktype)
    if opts.flag(O.LOWPORT):
        bind_lowport(sock, local or (("0.0.0.0" if family == socket.AF_INET else "::"), 0))
    elif local is not None:
        bind_socket(sock, local)


def bind_lowport(sock: socket.socket, addr: tuple) -> None:
    """lowport: the first free privileged port from 1023 down to 640, as socat does."""
    for port in range(1023, 639, -1):
        try:
            sock.bind((addr[0], port, *addr[2:]))
            _log_bind(sock, (addr[0], port, *addr[2:]))
            return
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise SocatError(f"bind({sock.fileno()}, {{{sockaddr_info(sock.family, (addr[0], port))}}}, "
                                 f"{socklen(sock.family, addr)}): {strerror(err)}") from None
    raise SocatError("lowport: no free port in 640..1023")


def connect_socket(sock: socket.socket, target: Sockaddr, timeout: float | None, level: str) -> bool:
    """connect() with socat's connect-timeout and its message; False on failure below E."""
    try:
        if timeout is not None:
            sock.settimeout(timeout)
        sock.connect(target)
        return True
    except (OSError, TimeoutError) as err:
        fd = sock.fileno()
        if isinstance(err, TimeoutError) and err.errno != errno.ETIMEDOUT:
            # connect-timeout expired (socat's select() on the non-blocking connect)
            text = f"connecting to {sockaddr_info(sock.family, target)}: Connection timed out"
        else:
            shown = "" if sock.family == socket.AF_UNIX else str(fd)  # socat 1.7.4.4 prints no fd here
            text = (f"connect({shown}, {sockaddr_info(sock.family, target)}, "
                    f"{socklen(sock.family, target)}): {strerror(err)}")
            if sock.family in (socket.AF_INET, socket.AF_INET6, socket.AF_VSOCK):
                LOG.warn("recvmsg(): Resource temporarily unavailable")  # socat reads the error queue (IP_RECVERR)
        if level == "E":
            raise SocatError(text) from None
        LOG.log(level, text)
        return False
    finally:
        if timeout is not None:
            try:
                sock.settimeout(None)
            except OSError:
                pass


@dataclass
class Retry:
    """retry=N, forever, interval=S: how often and how fast a failed open is tried again."""

    retries: int
    forever: bool
    interval: float

    @classmethod
    def from_options(cls, opts: OptionValues) -> "Retry":
        return cls(int(opts.get(O.RETRY, 0)), opts.flag(O.FOREVER), float(opts.get(O.INTERVAL, 1.0)))  # type: ignore[arg-type]

    def more(self, done: int) -> bool:
        return self.forever or done <= self.retries


def connect_ip(ctx: OpenContext, opts: OptionValues, family: int, socktype: int, proto: int,
               target: tuple, local_other: Sockaddr | None = None,
               before_connecting: Callable[[], None] | None = None,
               handshake: Callable[[socket.socket, str], bool] | None = None) -> socket.socket:
    """A connected IP socket: socket(), options, bind/sourceport/lowport, connect(), with
    retry; with fork, connect_loop hands each connection to a child. Other families
    (VSOCK) use it too and pass the address bind= gave as `local_other`. A proxy address
    (tunnel.py) logs its own notice `before_connecting` (socat's order) and runs its
    `handshake` on each connection at the attempt's level: False fails the attempt, which
    retry= may repeat."""

    def attempt(level: str) -> socket.socket | None:
        sock = new_socket(family, socktype, proto)
        try:
            apply_socket_options(sock, opts)
            if family in (socket.AF_INET, socket.AF_INET6):
                bind_ip_client(sock, opts, family, socktype)
            elif local_other is not None:
                bind_socket(sock, local_other)
            timeout = opts.get(O.CONNECT_TIMEOUT)
            if connect_socket(sock, target, float(timeout) if timeout is not None else None,  # type: ignore[arg-type]
                              level):
                LOG.notice(f"successfully connected from local address {sockaddr_info(family, sock.getsockname())}")
                apply_connected_options(sock, opts)
                if handshake is None or handshake(sock, level):
                    return sock
        except BaseException:
            sock.close()
            raise
        sock.close()
        return None

    LOG.notice(f"opening connection to {sockaddr_info(family, target)}")
    if before_connecting is not None:
        before_connecting()
    return connect_loop(opts, attempt)


def connect_loop(opts: OptionValues, attempt: Callable[[str], socket.socket | None]) -> socket.socket:
    """socat's connect loop (xio-ipapp.c). A failed attempt is made again while retry= or
    forever allow, `interval` apart (the last allowed one fails at level E, the others at I).
    With fork every connection goes to a new child process, which returns it; the parent
    closes its copy and connects again after `interval` (sooner when a child ends: socat's
    sleep is cut short by SIGCHLD), waiting while max-children children run, and leaves
    only by the error of a connect that retry= no longer allows (exit 1, as socat). The
    retry budget is spent over the parent's whole life, as socat's counter is."""
    retry = Retry.from_options(opts)
    remaining = retry.retries
    dofork = opts.flag(O.FORK)
    limit = int(opts.get(O.MAX_CHILDREN, 0) or 0)  # type: ignore[arg-type]
    while True:
        sock = attempt("I" if retry.forever or remaining > 0 else "E")
        if sock is None:
            remaining -= 1
            time.sleep(retry.interval)
            continue
        if not dofork or fork_child() == 0:
            return sock
        sock.close()
        pause_until_child_ends(retry.interval)
        while limit and len(_forked) >= limit:
            LOG.info(f"all {limit} allowed children are active, waiting")
            pause_until_child_ends(retry.interval)


def pause_until_child_ends(seconds: float) -> None:
    """Sleeps `seconds`, or less when a forked child ends meanwhile (reaping it)."""
    deadline = time.monotonic() + seconds
    running = len(_forked)
    while True:
        reap_forked()
        left = deadline - time.monotonic()
        if len(_forked) < running or left <= 0:
            return
        time.sleep(min(left, 0.01))


# ---------------------------------------------------------------- range= (pure)

def parse_range(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """socat's range syntax: `<ip4>/<bits>`, `<ip4>:<mask>`, `[<ip6>]/<bits>`; the IPv4
    address may be a host name (socat resolves it: `range=localhost:255.255.255.255`)."""
    try:
        if text.startswith("["):
            end = text.index("]")
            address, rest = text[1:end], text[end + 1 :]
            bits = rest[1:] if rest.startswith("/") else "128"
            return ipaddress.IPv6Network(f"{address}/{bits}", strict=False)
        address, separator, mask = text.partition(":") if ":" in text.split("/")[0] and "." in text.split(":")[-1] \
            else text.partition("/")
        if ":" not in address:
            address = _range_host(address)
        if separator:
            return ipaddress.ip_network(f"{address}/{mask}", strict=False)
        return ipaddress.ip_network(f"{address}/32" if "." in address else f"{address}/128", strict=False)
    except (ValueError, IndexError):
        raise SocatError(f'range option: syntax error in "{text}"') from None


def _range_host(name: str) -> str:
    """A range's IPv4 address as written, or the name resolved (from /etc/hosts first)."""
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        pass
    try:
        return _socket.getaddrinfo(os.fsencode(name), None, socket.AF_INET)[0][4][0]
    except (socket.gaierror, UnicodeError):
        raise ValueError(name) from None


def in_range(network: ipaddress.IPv4Network | ipaddress.IPv6Network, family: int, addr: Sockaddr) -> bool:
    host = ipaddress.ip_address(str(addr[0]).split("%")[0])  # type: ignore[index]
    if isinstance(host, ipaddress.IPv6Address) and host.ipv4_mapped and network.version == 4:
        host = host.ipv4_mapped
    return host.version == network.version and host in network


def peer_refusal(opts: OptionValues, family: int, peer: Sockaddr, fd: int = -1,
                 local: Sockaddr | None = None) -> str | None:
    """Why range=, sourceport=, lowport or tcpwrap refuse this peer (socat's wording), or None.
    `fd` and `local` are what socat hands libwrap: the listening or receiving socket and
    the local address (None: one socat leaves unset, see tcpwrap.TcpWrap.permits)."""
    if isinstance(peer, RawAddress):  # a generic socket's range is <dalan addr>:<dalan mask>
        permitted = O.RANGE_OPT not in opts or RawRange.parse(str(opts.get(O.RANGE_OPT))).permits(peer)
        if not permitted:
            return "due to range option"
        if any(opt in opts for opt in O.TCPWRAP_OPTIONS):  # an IP generic socket: socat asks libwrap too
            from . import tcpwrap

            return tcpwrap.raw_refusal(opts, fd, peer, local)  # type: ignore[arg-type]
        return None
    if family not in (socket.AF_INET, socket.AF_INET6):
        return None
    if O.RANGE_OPT in opts and not in_range(parse_range(str(opts.get(O.RANGE_OPT))), family, peer):
        return "due to range option"
    if O.SOURCEPORT in opts and peer[1] != int(opts.get(O.SOURCEPORT)):  # type: ignore[index, arg-type]
        return "due to wrong sourceport"
    if opts.flag(O.LOWPORT) and peer[1] >= 1024:  # type: ignore[index]
        return "due to not privileged sourceport"
    if any(opt in opts for opt in O.TCPWRAP_OPTIONS):
        from . import tcpwrap

        return tcpwrap.refusal(opts, fd, family, peer, local, sockaddr_info(family, peer))  # type: ignore[arg-type]
    return None


def permitted_sender(opts: OptionValues, sock: socket.socket, sender: Sockaddr) -> bool:
    """The check on each datagram a RECV or DATAGRAM address reads; a refused one is
    dropped with socat's warning. libwrap gets the zeroed local address socat passes."""
    local = ("::", 0, 0, 0) if sock.family == socket.AF_INET6 else ("0.0.0.0", 0)
    refusal = peer_refusal(opts, sock.family, sender, sock.fileno(), local)
    if refusal:
        LOG.warn(f"refusing connection from {sockaddr_info(sock.family, sender)} {refusal}")
    return refusal is None


def close_refused(conn: socket.socket) -> None:
    """Closes a refused connection with a FIN, not a reset: what the peer already sent is
    read first, since a close with unread data makes the kernel answer RST, which the peer
    reports as an error. (socat closes before a fast client has written anything; pysocat
    may be later, and the peer must see the same clean EOF.)"""
    try:
        conn.setblocking(False)
        for _ in range(64):  # bounded: a peer that keeps sending gets its reset
            if not conn.recv(65536):
                break
    except OSError:
        pass
    conn.close()


def check_unsupported(opts: OptionValues) -> None:
    """The libwrap options where libwrap cannot be loaded fail at open (tcpwrap.require_libwrap)."""
    if any(opt in opts for opt in O.TCPWRAP_OPTIONS):
        from . import tcpwrap

        tcpwrap.require_libwrap(opts)


# ---------------------------------------------------------------- forked children

_forked: set[int] = set()


def reap_forked() -> None:
    """Collects every finished connection child, so that none is left a zombie. Where no
    program child is registered (the usual listener), waitpid(-1) asks once for whichever
    ended instead of once for each of the children running."""
    if not _forked:
        return
    if not children.registered():
        while _forked:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                _forked.clear()
                return
            if pid == 0:
                return
            _reaped(pid, status)
        return
    for pid in list(_forked):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            _forked.discard(pid)
            continue
        if done == 0:
            continue
        _reaped(pid, status)


def _reaped(pid: int, status: int) -> None:
    _forked.discard(pid)
    if os.WIFEXITED(status):
        LOG.info(f"waitpid(): child {pid} exited with status {os.WEXITSTATUS(status)}")
    elif os.WIFSIGNALED(status):
        LOG.info(f"waitpid(): child {pid} exited on signal {os.WTERMSIG(status)}")


def wait_for_child_slot(opts: OptionValues) -> None:
    """max-children: wait until fewer children than that are running (socat's notice once)."""
    limit = int(opts.get(O.MAX_CHILDREN, 0) or 0)  # type: ignore[arg-type]
    reap_forked()
    if not limit or len(_forked) < limit:
        return
    LOG.notice("maxchildren are active, waiting")
    while len(_forked) >= limit:
        time.sleep(0.01)
        reap_forked()


_heap_trimmed = False


def _trim_heap_once() -> None:
    """Before the first fork: the C heap's free pages go back to the kernel. Each fork copies
    the page table entries of every resident page and each child's exit tears them down, so
    the memory that loading the modules freed again (about a fifth of the heap) would cost
    every connection. glibc only (malloc_trim); elsewhere nothing is done."""
    global _heap_trimmed
    if _heap_trimmed:
        return
    _heap_trimmed = True
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (ImportError, OSError, AttributeError):
        pass


def fork_child() -> int:
    """fork() for one connection; in the child, the parent's bookkeeping is dropped."""
    _trim_heap_once()
    gc.freeze()  # the parent's objects stay out of the child's collections: no copy-on-write storm
    try:
        pid = os.fork()
    except OSError as err:
        raise SocatError(f"fork(): {strerror(err)}") from None
    if pid == 0:
        _forked.clear()
        if LOG.enabled("I"):
            LOG.info(f"just born: child process {os.getpid()}")
        return 0
    _forked.add(pid)
    LOG.notice(f"forked off child process {pid}")
    return pid


def wait_readable(fd: int, timeout: float | None) -> bool:
    """select() on the listening socket, reaping children meanwhile; False at the timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        reap_forked()
        step = 0.1 if _forked else 1.0
        if deadline is not None:
            step = min(step, max(0.0, deadline - time.monotonic()))
        ready, _, _ = select.select([fd], [], [], step)
        if ready:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def accept_timeout_exit() -> None:
    """accept-timeout expired: socat warns and exits 0 (verified with 1.7.4.4)."""
    LOG.warn("accept: Connection timed out")
    LOG.notice("Waiting for child processes to terminate")
    raise SystemExit(0)


# ---------------------------------------------------------------- listening

def bind_listen_accept(ctx: OpenContext, opts: OptionValues, bind: Callable[[], socket.socket]) -> socket.socket:
    """The LISTEN addresses' sequence: `bind()` makes a bound socket, tried again as
    retry/forever/interval allow; then listen and accept (with fork: in the child), and the
    connected socket gets the options socat applies after accept."""
    retry = Retry.from_options(opts)
    attempt = 0
    while True:
        attempt += 1
        try:
            sock = bind()
            break
        except SocatError as err:
            if not retry.more(attempt):
                raise
            LOG.info(err.text)
            time.sleep(retry.interval)
    conn = listen_and_accept(ctx, opts, sock, [])
    apply_socket_options(conn, opts, prebind=False)
    apply_connected_options(conn, opts)
    return conn


def listen_and_accept(ctx: OpenContext, opts: OptionValues, sock: socket.socket,
                      on_close: list[Callable[[], None]]) -> socket.socket:
    """listen(), then accept_loop()."""
    backlog = int(opts.get(O.BACKLOG, 5))  # type: ignore[arg-type]
    try:
        sock.listen(backlog)
    except OSError as err:
        raise SocatError(f"listen({sock.fileno()}, {backlog}): {strerror(err)}") from None
    return accept_loop(ctx, opts, sock, on_close)


def accept_loop(ctx: OpenContext, opts: OptionValues, sock: socket.socket,
                on_close: list[Callable[[], None]]) -> socket.socket:
    """Accepts connections on a listening socket until one is permitted; with fork, each
    permitted connection is handed to a new child process, which returns it, while the
    parent keeps accepting (it never returns). Without fork the listening socket is closed
    after accept. (ACCEPT-FD enters here with an inherited socket that already listens.)"""
    family = sock.family
    local = sock.getsockname()
    dofork = opts.flag(O.FORK)
    timeout = opts.get(O.ACCEPT_TIMEOUT)
    # decided once: a forking parent's every turn builds no text that is not logged
    listening = f"listening on {sockaddr_info(family, local)}"
    notices, infos = LOG.enabled("N"), LOG.enabled("I")
    while True:
        LOG.notice(listening)
        wait_for_child_slot(opts) if dofork else None
        if not wait_readable(sock.fileno(), float(timeout) if timeout is not None else None):  # type: ignore[arg-type]
            sock.close()
            accept_timeout_exit()
        try:
            conn, peer = sock.accept()
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as err:
            raise SocatError(f"accept({sock.fileno()}, ...): {strerror(err)}") from None
        here = conn.getsockname()
        if notices:
            LOG.notice(f"accepting connection from {sockaddr_info(family, peer)} on {sockaddr_info(family, here)}")
        refusal = peer_refusal(opts, family, peer, sock.fileno(), here)
        if refusal:
            LOG.warn(f"refusing connection from {sockaddr_info(family, peer)} {refusal}")
            close_refused(conn)
            continue
        if infos:
            LOG.info(f"permitting connection from {sockaddr_info(family, peer)}")
        if dofork:
            if fork_child() != 0:
                conn.close()
                LOG.info("still listening")
                continue
            sock.close()
            on_close.clear()  # the parent owns the listening socket's clean-up (unlink-close)
        else:
            sock.close()
        set_address_env(ctx, "PEER", family, peer)
        set_address_env(ctx, "SOCK", family, here)
        return conn


def default_reuseaddr(opts: OptionValues) -> None:
    """socat 1.8 sets SO_REUSEADDR on listening sockets unless told otherwise (reuseaddr=, =0)."""
    if O.REUSEADDR not in opts:
        opts.values[O.REUSEADDR] = 1
        opts.occurrences.insert(0, (O.REUSEADDR, 1))


# ---------------------------------------------------------------- endpoints

def stream_endpoint(sock: socket.socket, opts: OptionValues, label: str, ctx: OpenContext,
                    keeps_boundaries: bool = False) -> Endpoint:
    """A connected socket as an Endpoint (the engine shuts it down with shutdown(SHUT_WR))."""
    fd = sock.detach()
    apply_fd_options(fd, opts)
    endpoint = Endpoint(label, fd if ctx.readable else fd, fd if ctx.writable else fd, policy_from_options(opts),
                        keeps_boundaries=keeps_boundaries)
    if keeps_boundaries:
        # a connected datagram socket is this process's alone: non-blocking, so that one
        # wake-up takes every datagram already queued (a burst), not one per poll
        os.set_blocking(fd, False)
        endpoint.batch = DATAGRAM_BATCH
    return endpoint


DATAGRAM_BATCH = 64


class DatagramEndpoint(Endpoint):
    """An unconnected datagram socket: each read is one datagram (recvfrom) and each write one
    datagram to the peer (sendto): a fixed peer (SENDTO) or the last sender (RECVFROM).
    `oneshot` ends the read side after the first datagram, as socat's RECVFROM does;
    `consumed` is told when it was read (the forking parent waits for that).
    `skip_ip_header`: an IPv4 raw socket delivers the IP header with every packet; socat
    strips it (XIOREAD_RECV_SKIPIP), and a packet with nothing behind it is EOF."""

    sock: socket.socket | None = None
    peer: Sockaddr | None = None
    follow_sender: bool = False
    oneshot: bool = False
    null_eof: bool = False
    skip_ip_header: bool = False
    # RECV: socat still writes what the other side sends, a sendto() with no address that
    # the kernel refuses (an error, exit 1); and the other side's EOF ends the relay
    receive_only: bool = False
    accept: Callable[[Sockaddr], bool] | None = None
    consumed: Callable[[], None] | None = None
    pending: list[tuple[bytes, Sockaddr]] | None = None
    # ip-recvttl, so-timestamp and the like: read with recvmsg() and log the ancillary
    # messages (packetinfo.py); a oneshot RECVFROM reported them when it peeked, and only
    # SOCKET-RECVFROM logs them again when it reads the datagram (as socat 1.7.4.4)
    ancillary: bool = False
    _got_one: bool = False

    def receive(self, size: int) -> list[bytes] | None:
        assert self.sock is not None
        if self._got_one and self.oneshot:
            return None
        if self.pending:
            data, sender = self.pending.pop(0)
        else:
            try:
                if self.ancillary:
                    from .packetinfo import receive

                    data, sender = receive(self.sock, max(size, 1))
                else:
                    data, sender = self.sock.recvfrom(max(size, 1))
            except BlockingIOError:
                return []
        if self.accept is not None and not self.accept(sender):
            return []
        LOG.notice(f"received packet with {len(data)} bytes from {sockaddr_info(self.sock.family, sender)}")
        if self.follow_sender:
            self.peer = sender
        if self.oneshot:
            self._got_one = True
            if self.consumed is not None:
                self.consumed()
            # the engine polls read_fd: from now on a descriptor at EOF, so that the end
            # of this one-datagram stream is seen at once (socat: XIOREAD_RECV_ONESHOT)
            eof_read, eof_write = os.pipe()
            os.close(eof_write)
            self.read_fd = eof_read
        if not data and self.null_eof:
            return None
        if self.skip_ip_header:
            data = _without_ip4_header(data, self.sock.fileno())
            if not data:
                return None  # socat's xioread() returns 0 bytes: EOF
        return [data]

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        if self.receive_only:
            from .rawsock import sendto_no_address

            try:
                sendto_no_address(self.sock.fileno(), data)
            except OSError as err:
                raise SocatError(f'sendto({self.sock.fileno()}, 0x{id(data):x}, {len(data)}, 0, AF=0 "<anon>", 0): '
                                 f"{strerror(err)}") from None
            return
        if self.peer is None:
            LOG.warn("no peer address to send the datagram to")
            return
        while True:
            try:
                self.sock.sendto(data, self.peer)
                return
            except BlockingIOError:
                select.select([], [self.sock.fileno()], [])

    def shutdown_write(self) -> None:
        """A datagram carries no EOF; shutdown() would also stop the socket a forking parent
        shares with its children, so nothing is done (socat neither), unless shut-null asks
        for an empty datagram (which a null-eof peer reads as EOF)."""
        if self.policy.shut == "null" and not self._closed_write:
            self.send(b"")
        self._closed_write = True

    def close(self) -> None:
        if self.sock is not None and not self._closed:
            self.sock.detach()
        super().close()


def _without_ip4_header(packet: bytes, fd: int) -> bytes:
    header = 4 * (packet[0] & 0x0F) if packet else 0
    if header > len(packet):
        LOG.warn(f"xioread({fd}, ...)/IP4: short packet")
        return b""
    return packet[header:]


def datagram_endpoint(sock: socket.socket, opts: OptionValues, label: str, ctx: OpenContext,
                      endpoint_class: type[DatagramEndpoint] | None = None, **fields: object) -> DatagramEndpoint:
    """`endpoint_class`: a DatagramEndpoint subclass (generic sockets report sendto() as socat)."""
    fd = sock.fileno()
    apply_fd_options(fd, opts)
    endpoint = (endpoint_class or DatagramEndpoint)(label, fd, fd, policy_from_options(opts), keeps_boundaries=True,
                                                    packet_size=0)
    endpoint.sock = sock
    endpoint.null_eof = opts.flag(O.NULL_EOF)
    endpoint.ancillary = not O.ANCILLARY_OPTIONS.isdisjoint(opts.values) and not fields.get("oneshot")
    for name, value in fields.items():
        setattr(endpoint, name, value)
    return endpoint


def recvfrom_peek(sock: socket.socket) -> Sockaddr:
    """Waits for the next datagram and returns its sender, leaving it queued."""
    while True:
        try:
            _data, sender = sock.recvfrom(1, socket.MSG_PEEK)
            return sender
        except InterruptedError:
            continue
        except OSError as err:
            raise SocatError(f"recvfrom({sock.fileno()}, ..., MSG_PEEK): {strerror(err)}") from None


def permitted_by_options(opts: OptionValues, family: int, fd: int = -1) -> Callable[[Sockaddr], bool]:
    """The sender check of socat's xiocheckpeer() for a RECVFROM loop: range=, sourceport=,
    lowport, tcpwrap (libwrap gets the socket `fd` and, as from socat, no local address),
    with socat's W line for a refused sender and I line for a permitted one."""
    check_unsupported(opts)

    def permitted(sender: Sockaddr) -> bool:
        refusal = peer_refusal(opts, family, sender, fd, None)
        if refusal:
            LOG.warn(f"refusing connection from {sockaddr_info(family, sender)} {refusal}")
            return False
        if O.RANGE_OPT in opts:
            LOG.info(f"permitting connection from {sockaddr_info(family, sender)} due to range option")
        return True

    return permitted


def recvfrom_loop(opts: OptionValues, sock: socket.socket, local_text: str,
                  permitted: Callable[[Sockaddr], bool],
                  handle: Callable[[Sockaddr, Callable[[], None] | None], Endpoint],
                  on_close: list[Callable[[], None]] | None = None, ctx: OpenContext | None = None) -> Endpoint:
    """socat's _xioopen_dgram_recvfrom(): waits for a datagram without reading it, checks
    its sender (a refused one is read and dropped), and returns `handle(sender, consumed)`,
    an endpoint that reads that one datagram. With fork a child returns it while the parent
    waits until the child has read the datagram (`consumed`), then waits for the next one.
    With ip-recvttl and the like, the datagram's ancillary messages are logged and set
    SOCAT_IP_TTL etc. for the programs `ctx` starts (packetinfo.py)."""
    dofork = opts.flag(O.FORK)
    ancillary = ctx is not None and not O.ANCILLARY_OPTIONS.isdisjoint(opts.values)
    LOG.info("starting recvfrom loop")
    while True:
        LOG.info("Recvfrom: Checking/waiting for next packet")
        LOG.notice(f"receiving {local_text}")
        if dofork:
            wait_for_child_slot(opts)
            while not wait_readable(sock.fileno(), None):
                pass
        sender = recvfrom_peek(sock)
        LOG.notice(f"receiving packet from {sockaddr_info(sock.family, sender)}")
        if ancillary:
            from .packetinfo import report_peeked

            report_peeked(sock, ctx)  # type: ignore[arg-type]
        if not permitted(sender):
            sock.recvfrom(1)  # dropped
            continue
        LOG.info(f"permitting packet from {sockaddr_info(sock.family, sender)}")
        if not dofork:
            return handle(sender, None)
        sync_read, sync_write = os.pipe()
        pid = fork_child()
        if pid == 0:
            os.close(sync_read)
            if on_close is not None:
                on_close.clear()  # the parent owns the bound name's clean-up

            def consumed() -> None:
                LOG.info("notifying parent that socket is ready again")
                os.close(sync_write)

            return handle(sender, consumed)
        os.close(sync_write)
        wait_consumed(sync_read, pid)
        LOG.info("continue listening")


def wait_consumed(sync_read: int, pid: int) -> None:
    """The forking RECVFROM parent waits until its child has read the datagram (or died),
    so that the same datagram does not fork another child (socat waits for SIGUSR1)."""
    while True:
        reap_forked()
        ready, _, _ = select.select([sync_read], [], [], 0.1)
        if ready or pid not in _forked:
            break
    os.close(sync_read)

