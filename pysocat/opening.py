"""From specs to Endpoints: resolve against the registry, open single or dual addresses."""
from __future__ import annotations

import os

from .addresses.common import OpenContext, apply_process_options
from .compat import current as compat_level
from .endpoint import Endpoint
from .options import Group
from .registry import ResolvedAddress, ResolvedDual, Resolved, resolve
from .spec import Spec


def base_environment(program: str) -> dict[str, str]:
    """socat's variables for children; SOCAT_* always (scripts expect them), plus the
    program-name prefix when it differs (socat uses only the upper-cased program name)."""
    prefixes = {"SOCAT"} | {program.upper().replace("-", "_")}
    env: dict[str, str] = {}
    for prefix in prefixes:
        env[f"{prefix}_PID"] = str(os.getpid())
        env[f"{prefix}_PPID"] = os.environ.get(f"{prefix}_PPID", str(os.getpid()))
        env[f"{prefix}_VERSION"] = compat_level().socat_version
    return env


def open_resolved(resolved: Resolved, readable: bool, writable: bool, program: str = "pysocat") -> Endpoint:
    if isinstance(resolved, ResolvedDual):
        reader = _open_single(resolved.reader, True, False, program) if readable else None
        writer = _open_single(resolved.writer, False, True, program) if writable else None
        return _combine(reader, writer)
    return _open_single(resolved, readable, writable, program)


def _open_single(addr: ResolvedAddress, readable: bool, writable: bool, program: str) -> Endpoint:
    ctx = OpenContext(readable=readable, writable=writable, environment=base_environment(program), program=program)
    endpoint = addr.type.opener(addr, ctx)
    if Group.FORK not in addr.type.groups:
        # socat applies PROCESS options (setsid, su, chroot, chdir...) to itself once the
        # address is open (in a forking listener: in the child); a program's address
        # (EXEC, SYSTEM, SHELL) applies them to the program instead
        apply_process_options(addr.options)
    return endpoint  # type: ignore[return-value]


def _combine(reader: Endpoint | None, writer: Endpoint | None) -> Endpoint:
    """A dual address: reads from the first part, writes to the second."""
    from .record import replace

    from .endpoint import TransferPolicy

    read_policy = reader.policy if reader else TransferPolicy()
    write_policy = writer.policy if writer else TransferPolicy()
    policy = replace(write_policy, read_lineterm=read_policy.read_lineterm, ignoreeof=read_policy.ignoreeof,
                     readbytes=read_policy.readbytes, escape=read_policy.escape)
    combined = DualEndpoint(
        f"{reader.label if reader else '-'}!!{writer.label if writer else '-'}",
        reader.read_fd if reader else None,
        writer.write_fd if writer else None,
        policy,
        keeps_boundaries=bool(reader and reader.keeps_boundaries),
        read_eof_errnos=reader.read_eof_errnos if reader else (),
        owns_fds=False,
        packet_size=reader.packet_size if reader else 0,
    )
    combined.on_close.extend(part.close for part in (reader, writer) if part is not None)
    combined.read_part = reader
    combined.write_part = writer
    return combined


class DualEndpoint(Endpoint):
    """Reads through the first part and writes through the second, so each part keeps its
    own way of reading, writing (a datagram sendto, a frame) and shutting down."""

    read_part: Endpoint | None = None
    write_part: Endpoint | None = None

    def receive(self, size: int) -> list[bytes] | None:
        if self.read_part is None:
            return None
        return self.read_part.receive(size)

    def buffered(self) -> bool:
        return self.read_part is not None and self.read_part.buffered()

    def send(self, data: bytes) -> None:
        if self.write_part is not None:
            self.write_part.send(data)

    def shutdown_write(self) -> None:
        if self.write_part is not None:
            self.write_part.shutdown_write()
            self.write_fd = self.write_part.write_fd


def open_spec(spec: Spec, readable: bool = True, writable: bool = True, check_groups: bool = True) -> Endpoint:
    return open_resolved(resolve(spec, check_groups), readable, writable)
