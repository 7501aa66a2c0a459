/* The smallest C TUN relay, for bench/tun_latency.py: what a relay costs per packet when no
 * interpreter runs (the floor the packet pump, pysocat/transfer/_pump.c, is measured against).
 * A yardstick, not a tool: no error handling, run only inside the benchmark's own namespaces.
 *
 *     _minimal_relay udp|framed LOCAL-TUNNEL-ADDRESS listen|PEER-UNDERLAY-ADDRESS PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_tun.h>
int main(int argc, char **argv) {
  int framed = strcmp(argv[1], "framed") == 0;
  const char *addr = argv[2], *peer = argv[3]; int port = atoi(argv[4]);
  int tun = open("/dev/net/tun", O_RDWR);
  struct ifreq ifr; memset(&ifr, 0, sizeof ifr); ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(tun, TUNSETIFF, &ifr) < 0) { perror("tun"); return 1; }
  char cmd[256];
  snprintf(cmd, sizeof cmd, "ip link set %s mtu %s && ip addr add %s/24 dev %s && ip link set %s up", ifr.ifr_name, framed ? "65000" : "1472", addr, ifr.ifr_name, ifr.ifr_name);
  if (system(cmd)) return 1;
  struct sockaddr_in sa = {0}; sa.sin_family = AF_INET; sa.sin_port = htons(port);
  int s; static unsigned char buf[70000], pend[1<<20]; size_t plen = 0;
  if (!framed) {
    s = socket(AF_INET, SOCK_DGRAM, 0);
    if (strcmp(peer, "listen") == 0) { bind(s, (void*)&sa, sizeof sa); struct sockaddr_in from; socklen_t fl = sizeof from;
      ssize_t n = recvfrom(s, buf, sizeof buf, 0, (void*)&from, &fl); connect(s, (void*)&from, fl); write(tun, buf, n); }
    else { inet_pton(AF_INET, peer, &sa.sin_addr); connect(s, (void*)&sa, sizeof sa); }
  } else {
    if (strcmp(peer, "listen") == 0) { int l = socket(AF_INET, SOCK_STREAM, 0); int one = 1; setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, 4);
      bind(l, (void*)&sa, sizeof sa); listen(l, 1); s = accept(l, 0, 0); }
    else { s = socket(AF_INET, SOCK_STREAM, 0); inet_pton(AF_INET, peer, &sa.sin_addr); if (connect(s, (void*)&sa, sizeof sa)) { perror("connect"); return 1; } }
    int one = 1; setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, 4);
  }
  struct pollfd p[2] = {{tun, POLLIN, 0}, {s, POLLIN, 0}};
  for (;;) {
    poll(p, 2, -1);
    if (p[0].revents) { ssize_t n = read(tun, buf, sizeof buf);
      if (framed) { unsigned char h[2] = {n >> 8, n & 255}; struct iovec v[2] = {{h, 2}, {buf, n}}; writev(s, v, 2); }
      else write(s, buf, n); }
    if (p[1].revents) {
      if (!framed) { ssize_t n = read(s, buf, sizeof buf); write(tun, buf, n); }
      else { ssize_t n = read(s, pend + plen, sizeof pend - plen); if (n <= 0) return 0; plen += n; size_t off = 0;
        while (plen - off >= 2) { size_t L = pend[off] << 8 | pend[off+1]; if (plen - off < 2 + L) break; write(tun, pend + off + 2, L); off += 2 + L; }
        memmove(pend, pend + off, plen - off); plen -= off; }
    }
  }
}
