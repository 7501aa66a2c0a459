"""A framed TUN tunnel end through pysocat's Python API, until the CLI wires `framed`.

    python -m tests.tun.framed_tunnel TUN-ADDRESS STREAM-ADDRESS [rfc4571|wide|udp|offload]

Opens the TUN, opens the stream address, wraps it in FramedEndpoint, chooses the TUN's
MTU for a framed transport (auto-MTU) and relays. This is exactly the wiring the engine
needs for `TUN:... TCP:...,framed`.
"""
from __future__ import annotations

import sys

import pysocat
from pysocat.errors import SocatError
from pysocat.framing import FrameFormat
from pysocat.log import LOG
from pysocat.net.mtu import MtuInputs, Transport
from pysocat.transfer.framed import FramedEndpoint


def main(argv: list[str]) -> int:
    try:
        return run(argv)
    except SocatError as err:
        LOG.log(err.level, err.text)
        return 1


def run(argv: list[str]) -> int:
    LOG.min_level = 2  # -d -d: notices (the chosen MTU); info would log every packet
    mode = argv[2] if len(argv) > 2 else "rfc4571"
    tun = pysocat.open_address(argv[0])
    if mode == "udp":  # not framed: auto-MTU from the path MTU of the connected UDP socket
        from pysocat.net.pmtu import path_mtu

        stream = pysocat.open_address(argv[1])
        known = path_mtu(stream.read_fd) if stream.read_fd is not None else None
        inputs = MtuInputs(transport=Transport.UDP, path_mtu=known[0] if known else None,
                           ip_version=known[1] if known else 4)
    elif mode == "offload":  # tun-offload on the TUN; HELLOs, then wide frames with virtio headers
        from pysocat.transfer.framed import OffloadFramedEndpoint

        stream = OffloadFramedEndpoint.handshake(pysocat.open_address(argv[1]), tun)
        inputs = MtuInputs(transport=Transport.FRAMED, frame_max=FrameFormat.WIDE.default_max)
    else:
        fmt = FrameFormat.WIDE if mode == "wide" else FrameFormat.RFC4571
        stream = FramedEndpoint.wrap(pysocat.open_address(argv[1]), fmt)
        inputs = MtuInputs(transport=Transport.FRAMED, frame_max=fmt.default_max)
    tun.apply_auto_mtu(inputs)  # type: ignore[attr-defined]
    try:
        pysocat.relay(tun, stream)
    finally:
        stream.close()
        tun.close()
    return 1 if LOG.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
