"""One end of a TUN tunnel through the pysocat command line, as the tunnel tests start it.

    python -m tests.tun.framed_tunnel TUN-ADDRESS STREAM-ADDRESS [rfc4571|wide|udp|offload|unframed]

Translates the mode into the options a user writes and runs `pysocat -d -d TUN STREAM`:
rfc4571 adds `,framed`, wide `,framed=wide`, offload `,framed` (the TUN carries
tun-offload itself), udp nothing (a datagram transport keeps boundaries already), unframed
nothing (socat's own command, which loses them over a stream).
"""
from __future__ import annotations

import os
import sys

from tests.conftest import pysocat_command

OPTIONS = {"rfc4571": ",framed", "wide": ",framed=wide", "offload": ",framed", "udp": "", "unframed": ""}


def main(argv: list[str]) -> int:
    mode = argv[2] if len(argv) > 2 else "rfc4571"
    command = pysocat_command() + ["-d", "-d", argv[0], argv[1] + OPTIONS[mode]]
    os.execv(command[0], command)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
