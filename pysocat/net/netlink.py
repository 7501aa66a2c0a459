"""Interface configuration over rtnetlink: the only module that imports pyroute2.

Why netlink and not `ip` or ioctl: one code path for IPv4 and IPv6 addresses (socat's
SIOCSIFADDR ioctl knows IPv4 only), MTU and flags, with errors that carry the kernel's
errno. pyroute2 costs about 0.2 s to import, so it is imported here, lazily, when an
interface is really configured: a one-liner that opens no TUN never pays for it.
"""
from __future__ import annotations

import errno as _errno
import ipaddress
import os
from ..record import dataclass, field
from typing import Any

from ..errors import SocatError

IFF_UP = 0x1
IFF_PERSIST = 0x800  # tun's own flag (TUNGETIFF), not an interface flag
IFA_F_NODAD = 0x02


@dataclass(frozen=True)
class InterfaceAddress:
    """An address to put on the interface: `198.18.0.1/24` or `fd00::1/64`."""

    address: str
    prefixlen: int

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.address).version

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass
class LinkConfig:
    """What to do to one interface; flags as (set, clear) masks like socat's iff_opts."""

    name: str
    addresses: list[InterfaceAddress] = field(default_factory=list)
    set_flags: int = 0
    clear_flags: int = 0
    mtu: int | None = None
    no_dad: bool = False  # IPv6 addresses usable at once (a point-to-point TUN has no neighbours)


@dataclass
class LinkState:
    index: int
    name: str
    flags: int
    mtu: int


def _iproute() -> Any:
    try:
        from pyroute2 import IPRoute
    except ImportError as err:  # pragma: no cover - pyroute2 is a dependency
        raise SocatError(f"interface configuration needs pyroute2: {err}") from None
    return IPRoute()


def _netlink_error(call: str, err: Exception) -> SocatError:
    code = getattr(err, "code", None) or getattr(err, "errno", None)
    reason = os.strerror(code) if isinstance(code, int) and code > 0 else str(err)
    return SocatError(f"{call}: {reason}")


def _state(ipr: Any, index: int) -> LinkState:
    msg = ipr.link("get", index=index)[0]
    return LinkState(index, msg.get_attr("IFLA_IFNAME"), int(msg["flags"]), int(msg.get_attr("IFLA_MTU")))


def link_state(name: str) -> LinkState | None:
    """The interface's index, flags and MTU, or None when it does not exist."""
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=name)
        return _state(ipr, found[0]) if found else None


def configure_link(config: LinkConfig, log: Any = None) -> tuple[LinkState, LinkState]:
    """MTU, then addresses, then flags (socat's order: addresses before iff-up), so the
    interface comes up complete. Returns the state before and after; SocatError on failure."""
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=config.name)
        if not found:
            raise SocatError(f'netlink: interface "{config.name}" not found')
        index = found[0]
        before = _state(ipr, index)
        if config.mtu is not None and config.mtu != before.mtu:
            try:
                ipr.link("set", index=index, mtu=config.mtu)
            except Exception as err:  # NetlinkError or OSError
                raise _netlink_error(f'netlink RTM_NEWLINK("{config.name}", mtu={config.mtu})', err) from None
        for addr in config.addresses:
            kwargs: dict[str, Any] = {"index": index, "address": addr.address, "prefixlen": addr.prefixlen}
            if addr.version == 6 and config.no_dad:
                kwargs["flags"] = IFA_F_NODAD
            try:
                ipr.addr("add", **kwargs)
            except Exception as err:
                if getattr(err, "code", None) == _errno.EEXIST:
                    continue  # a persistent device that already has it
                raise _netlink_error(f'netlink RTM_NEWADDR("{config.name}", "{addr}")', err) from None
        if config.set_flags or config.clear_flags:
            merged = (before.flags | config.set_flags) & ~config.clear_flags
            if log is not None:
                log(f'"{config.name}": system set flags: 0x{before.flags:x}')
                log(f'"{config.name}": xio merged flags: 0x{merged:x}')
            try:
                ipr.link("set", index=index, flags=merged, change=config.set_flags | config.clear_flags)
            except Exception as err:
                raise _netlink_error(f'netlink RTM_NEWLINK("{config.name}", flags=0x{merged:x})', err) from None
        after = _state(ipr, index)
        if log is not None:
            log(f"\"{config.name}\": resulting flags: 0x{after.flags & 0xffff:x}")
        return before, after


def delete_link(name: str) -> bool:
    """Removes the interface if it still exists; returns whether it did. Never raises:
    it runs at exit, when there is nobody left to tell."""
    try:
        with _iproute() as ipr:
            found = ipr.link_lookup(ifname=name)
            if not found:
                return False
            ipr.link("del", index=found[0])
            return True
    except Exception:
        return False


def parse_interface_address(text: str) -> InterfaceAddress:
    """`<if-addr>/<bits>`: IPv4 `198.18.0.1/24`, IPv6 in brackets `[fd00::1]/64`.

    The wording of the errors follows socat's xioparsenetwork()."""
    if "/" not in text:
        raise SocatError(f'xioparsenetwork_ip4("{text}",,): missing netmask delimiter')
    host, _, bits = text.rpartition("/")
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed:
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = ipaddress.ip_address(_resolve(host, 6 if bracketed else 4))
    limit = 32 if address.version == 4 else 128
    if not bits.isdigit():
        raise SocatError(f'netmask "{text}" is not a number of bits')
    if int(bits) > limit:
        raise SocatError(f'netmask "{text}" is too large')
    return InterfaceAddress(str(address), int(bits))


def _resolve(host: str, version: int) -> str:
    """A host name for the interface address, as socat allows (first answer of the family)."""
    import socket

    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    try:
        return str(socket.getaddrinfo(host, None, family)[0][4][0])
    except socket.gaierror as err:
        raise SocatError(f'getaddrinfo("{host}", "NULL", {{1,0,0,0}}, {{}}): {err.strerror}') from None


__all__ = ["InterfaceAddress", "LinkConfig", "LinkState", "configure_link", "delete_link", "link_state",
           "parse_interface_address"]
