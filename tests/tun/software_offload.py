"""pysocat with the offload fallback's TUNSETOFFLOAD 0 left out, for the test that makes
every packet from the TUN go through the software path (pysocat.net.segment): the kernel
keeps handing over GSO super-packets and partial checksums, and pysocat must finish them.

    python -m tests.tun.software_offload PYSOCAT-ARGUMENTS...
"""
from __future__ import annotations

import sys

from pysocat.addresses import tun
from pysocat.cli import main

_set_offload = tun.TunEndpoint.set_offload


def _keep_offload(self: tun.TunEndpoint, bits: int) -> None:
    if bits != 0:
        _set_offload(self, bits)


if __name__ == "__main__":
    tun.TunEndpoint.set_offload = _keep_offload  # type: ignore[method-assign]
    sys.argv[0] = "pysocat"
    sys.exit(main())
