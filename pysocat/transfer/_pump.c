/* The packet pump: the per-packet path of a framed tunnel in C (see pump.py for why).
 *
 * pump(packet_rfd, packet_wfd, stream_rfd, stream_wfd, stream_is_socket, packet_read_size,
 *      header_size, max_length, wire_max, packet_buffer, stream_buffer, leftover, stream_read_size,
 *      timeout_ms, up_counters, down_counters, wakeup_fd, vnet, caps, pi_len, l3_offset)
 *
 * Relays both directions between a packet descriptor (one read is one packet, one write
 * is one packet) and a framed stream (a big-endian 2- or 4-byte length, then the packet)
 * until something happens that the Python engine must handle, and returns what it did:
 *
 *   (reason, errno, size, leftover, up_packets, up_bytes, down_packets, down_bytes, unsent, oversize)
 *
 * up: packet side to stream; down: stream to packet side. *_bytes count packet bytes
 * (no headers). size: the length of the read or write that failed (with errno).
 * leftover: how many bytes at the start of stream_buffer are the start of a frame not yet
 * whole (for DECODER: the frames not yet delivered). unsent: the rest of a frame the
 * stream has not taken yet (the engine writes it before anything else), or None.
 * oversize: the packet no frame can carry (OVERSIZE), or None.
 *
 * A frame the stream takes only in part is finished here: the packet side is not read
 * meanwhile, the stream is read on, and poll() waits for room, as the engine would.
 *
 * up_counters, down_counters: the engine's statistics of each direction (objects with
 * `packets` and `bytes`), brought up to date here, without running any Python code,
 * before Python's signal handlers run (SIGUSR1's statistics) and before returning.
 * wakeup_fd: the read end of Python's signal wakeup pipe (or -1), polled too, so that a
 * signal arriving outside poll() is not left waiting. At a signal Python's handlers run
 * and the pump goes on; a handler that raises (exit on SIGTERM) ends the pump with its
 * exception, and what it held (the start of a frame, a frame's unsent rest) is dropped,
 * as socat drops its buffer when it exits on a signal.
 *
 * vnet: the frames carry a TUN's virtio-net header (tun-offload, both ends agreed; caps
 * are the agreed capability bits, pysocat.framing.Cap). The header crosses the wire in
 * big-endian order: it is turned around here both ways, and every header received is
 * checked as pysocat.framing.vnet_header_problem does, hdr_len recomputed. This check may
 * only be stricter than Python's (a test compares them): a header it does not pass goes
 * to the engine with the frames behind it (DECODER), which writes it or reports why not.
 *
 * The loop holds no GIL and never blocks but in poll(): the stream is written without
 * waiting (MSG_DONTWAIT, or a non-blocking descriptor), and anything unusual (an error,
 * EOF, a hang-up, a full descriptor, a signal, the timeout) ends it before anything more
 * is read, so the Python engine goes on exactly where the pump stopped. Every length read
 * from the stream is checked against max_length before a byte of the frame is used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <stdint.h>
#include <unistd.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

enum reason {
    R_IDLE = 0,           /* the timeout passed without data */
    R_SIGNAL,             /* poll() or a read was interrupted: Python's handlers run, then the pump goes on */
    R_HANDOVER,           /* an EOF, hang-up or error is coming: the engine reads it itself */
    R_OVERSIZE,           /* a packet larger than a frame carries: the engine reports it */
    R_DECODER,            /* leftover starts with a frame the decoder must deliver or report:
                             a bad header, an empty packet, or the packet side was full */
    R_PACKET_EOF,         /* the packet side read 0 bytes */
    R_PACKET_READ_ERROR,
    R_PACKET_WRITE_ERROR, /* the frame was dropped; the errno says why */
    R_STREAM_READ_ERROR,
    R_STREAM_WRITE_ERROR,
};

#define PACKETS_PER_WAKEUP 64 /* packets read from a non-blocking packet side per poll() */

struct pump {
    int packet_rfd, packet_wfd, stream_rfd, stream_wfd, stream_is_socket, packet_nonblocking;
    Py_ssize_t packet_read_size, stream_read_size, header_size, stream_capacity;
    unsigned long max_length, wire_max;
    unsigned char *packet_buffer, *stream_buffer;
    Py_ssize_t leftover;
    int timeout_ms, wakeup_fd;
    unsigned long long reported[4]; /* what the counters were given so far */
    int vnet;
    unsigned int caps;
    Py_ssize_t pi_len, l3_offset;
    /* results */
    int reason, error;
    Py_ssize_t size;
    unsigned long long up_packets, up_bytes, down_packets, down_bytes;
    /* the rest of a frame the stream has not taken yet: header rest, then packet rest */
    const unsigned char *unsent_head, *unsent_body;
    Py_ssize_t unsent_head_len, unsent_body_len;
    Py_ssize_t oversize_len; /* R_OVERSIZE: the packet, in packet_buffer */
    unsigned char header[4];
};

static unsigned long frame_length(const unsigned char *p, Py_ssize_t size)
{
    if (size == 2)
        return (unsigned long)p[0] << 8 | p[1];
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static ssize_t write_stream(struct pump *pp, struct iovec *iov, int count)
{
    if (pp->stream_is_socket) {
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = count;
        return sendmsg(pp->stream_wfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    return writev(pp->stream_wfd, iov, count);
}

/* virtio-net header offload (see the comment at the top); the constants are
 * pysocat.framing's. */
#define VNET_HDR_SIZE 10
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_UDP_L4 5
#define GSO_ECN 0x80
#define CAP_CSUM 1u
#define CAP_TSO4 2u
#define CAP_TSO6 4u
#define CAP_ECN 8u
#define CAP_USO 0x30u /* USO4 | USO6 */
#define MAX_SEGMENTS 0xFFFF
#define UDP_MAX_SEGMENTS 128

static unsigned int be16(const unsigned char *p) { return (unsigned int)p[0] << 8 | p[1]; }

static void put_native16(unsigned char *p, unsigned int value)
{
    uint16_t v = (uint16_t)value;
    memcpy(p, &v, 2);
}

static unsigned int native16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* Whether a received frame's header may reach the kernel; if so `native` is that header
 * in the host's byte order, hdr_len recomputed for a segmented packet. The frame itself
 * is left as it came: where the TUN takes it only later, the engine checks it again. */
static int vnet_sound(const struct pump *pp, const unsigned char *frame, size_t length,
                      unsigned char native[VNET_HDR_SIZE])
{
    size_t pi = (size_t)pp->pi_len, i;
    if (length < pi + VNET_HDR_SIZE)
        return 0;
    const unsigned char *h = frame + pi, *packet = h + VNET_HDR_SIZE;
    size_t size = length - pi - VNET_HDR_SIZE;
    unsigned int flags = h[0], gso = h[1], base = gso & ~GSO_ECN;
    int zero = 1;
    for (i = 2; i < VNET_HDR_SIZE; i++)
        zero &= h[i] == 0;
    memcpy(native, h, VNET_HDR_SIZE);
    if (zero && gso == GSO_NONE && !(flags & ~VNET_F_DATA_VALID))
        return 1;  /* nothing offloaded: the header reads the same in either byte order */
    unsigned int hdr_len = be16(h + 2), gso_size = be16(h + 4), csum_start = be16(h + 6), csum_offset = be16(h + 8);
    unsigned int needed = base == GSO_TCPV4 ? CAP_TSO4 : base == GSO_TCPV6 ? CAP_TSO6 : base == GSO_UDP_L4 ? CAP_USO : 0;
    if (base != GSO_NONE && needed == 0)
        return 0;  /* an unknown gso_type */
    if ((gso & GSO_ECN) && (!(pp->caps & CAP_ECN) || (base != GSO_TCPV4 && base != GSO_TCPV6)))
        return 0;
    if (needed && !(pp->caps & needed))
        return 0;
    if (flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID))
        return 0;
    int needs_csum = flags & VNET_F_NEEDS_CSUM;
    if (needs_csum) {
        if (!(pp->caps & CAP_CSUM) || csum_start >= size || (size_t)csum_start + csum_offset + 2 > size)
            return 0;
    } else if (csum_start || csum_offset) {
        return 0;
    }
    if (base == GSO_NONE) {
        if (gso_size || hdr_len > size)
            return 0;
    } else {
        size_t l3 = (size_t)pp->l3_offset, transport;
        if (!needs_csum || gso_size == 0 || l3 >= size)
            return 0;
        unsigned int version = packet[l3] >> 4;
        if (version != (base == GSO_TCPV4 ? 4u : base == GSO_TCPV6 ? 6u : version) || (version != 4 && version != 6))
            return 0;
        if (csum_start < l3 + (version == 4 ? 20 : 40))
            return 0;
        if (csum_offset != (base == GSO_UDP_L4 ? 6u : 16u))
            return 0;
        if (base == GSO_UDP_L4) {
            transport = 8;
        } else {
            if ((size_t)csum_start + 13 > size)
                return 0;
            transport = (size_t)(packet[csum_start + 12] >> 4) * 4;
            if (transport < 20)
                return 0;
        }
        size_t end = csum_start + transport;
        if (end >= size)
            return 0;  /* no payload (or the header runs past the packet) */
        size_t segments = (size - end + gso_size - 1) / gso_size;
        if (segments > (base == GSO_UDP_L4 ? UDP_MAX_SEGMENTS : MAX_SEGMENTS))
            return 0;
        hdr_len = (unsigned int)end;
    }
    put_native16(native + 2, hdr_len);
    put_native16(native + 4, gso_size);
    put_native16(native + 6, csum_start);
    put_native16(native + 8, csum_offset);
    return 1;
}

/* A packet from the TUN: its header in the wire's byte order, in place. 0: no header. */
static int vnet_to_wire(const struct pump *pp, unsigned char *packet, size_t length)
{
    size_t pi = (size_t)pp->pi_len;
    if (length < pi + VNET_HDR_SIZE)
        return 0;
    unsigned char *h = packet + pi;
    for (int field = 2; field < VNET_HDR_SIZE; field += 2) {
        unsigned int value = native16(h + field);
        h[field] = value >> 8;
        h[field + 1] = value & 0xff;
    }
    return 1;
}

/* Writes what `iov` holds without waiting; returns the bytes written, 0 when the stream
 * is full, -1 on an error (reason set). */
static ssize_t write_now(struct pump *pp, struct iovec *iov, int count, Py_ssize_t total)
{
    ssize_t written;
    do
        written = write_stream(pp, iov, count);
    while (written < 0 && errno == EINTR);
    if (written >= 0)
        return written;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    pp->reason = R_STREAM_WRITE_ERROR;
    pp->error = errno;
    pp->size = total;
    return -1;
}

/* Keeps what a write left of the header and packet, from `written` bytes on. */
static void keep_unsent(struct pump *pp, const unsigned char *head, Py_ssize_t head_len,
                        const unsigned char *body, Py_ssize_t body_len, Py_ssize_t written)
{
    if (written < head_len) {
        pp->unsent_head = head + written;
        pp->unsent_head_len = head_len - written;
        pp->unsent_body = body;
        pp->unsent_body_len = body_len;
    } else {
        pp->unsent_head_len = 0;
        pp->unsent_body = body + (written - head_len);
        pp->unsent_body_len = body_len - (written - head_len);
    }
}

/* The rest of a frame, once poll() saw room. Returns 1 to go on, 0 when the pump stops. */
static int flush_unsent(struct pump *pp)
{
    struct iovec iov[2];
    Py_ssize_t total = pp->unsent_head_len + pp->unsent_body_len;
    iov[0].iov_base = (void *)pp->unsent_head;
    iov[0].iov_len = pp->unsent_head_len;
    iov[1].iov_base = (void *)pp->unsent_body;
    iov[1].iov_len = pp->unsent_body_len;
    ssize_t written = write_now(pp, iov, 2, total);
    if (written < 0) {
        pp->unsent_head_len = pp->unsent_body_len = 0;  /* the stream is broken: nothing is retried */
        return 0;
    }
    keep_unsent(pp, pp->unsent_head, pp->unsent_head_len, pp->unsent_body, pp->unsent_body_len, written);
    return 1;
}

/* One packet from the packet side onto the stream. Returns 1 to go on, 0 when the pump
 * stops (reason set). */
static int send_packet(struct pump *pp, Py_ssize_t length)
{
    Py_ssize_t hs = pp->header_size, total = hs + length;
    unsigned long n = (unsigned long)length;
    struct iovec iov[2];

    if (n > pp->wire_max || (pp->vnet && !vnet_to_wire(pp, pp->packet_buffer, length))) {
        pp->reason = R_OVERSIZE;  /* the engine's path reports it */
        pp->oversize_len = length;
        return 0;
    }
    if (hs == 2) {
        pp->header[0] = n >> 8;
        pp->header[1] = n & 0xff;
    } else {
        pp->header[0] = n >> 24;
        pp->header[1] = (n >> 16) & 0xff;
        pp->header[2] = (n >> 8) & 0xff;
        pp->header[3] = n & 0xff;
    }
    iov[0].iov_base = pp->header;
    iov[0].iov_len = hs;
    iov[1].iov_base = pp->packet_buffer;
    iov[1].iov_len = length;
    ssize_t written = write_now(pp, iov, 2, total);
    if (written < 0)
        return 0;
    pp->up_packets++;  /* handed over, as the engine counts: what the stream does not take yet is kept */
    pp->up_bytes += length;
    if (written < total)
        keep_unsent(pp, pp->header, hs, pp->packet_buffer, length, written);
    return 1;
}

/* After a read that failed: 1 to go on (nothing there yet), 0 when the pump stops. */
static int read_failed(struct pump *pp, int reason, Py_ssize_t size)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 1;
    if (errno == EINTR) {
        pp->reason = R_SIGNAL;
        return 0;
    }
    pp->reason = reason;
    pp->error = errno;
    pp->size = size;
    return 0;
}

/* What the packet side has, onto the stream. */
static int pump_up(struct pump *pp)
{
    int count;
    for (count = 0; count < PACKETS_PER_WAKEUP; count++) {
        ssize_t got = read(pp->packet_rfd, pp->packet_buffer, pp->packet_read_size);
        if (got < 0)
            return read_failed(pp, R_PACKET_READ_ERROR, pp->packet_read_size);
        if (got == 0) {
            pp->reason = R_PACKET_EOF;
            return 0;
        }
        if (!send_packet(pp, got))
            return 0;
        if (!pp->packet_nonblocking || pp->unsent_head_len + pp->unsent_body_len > 0)
            return 1;  /* a blocking descriptor: one read per poll(); a full stream: no more */
    }
    return 1;
}

/* What the stream has, as packets onto the packet side. */
static int pump_down(struct pump *pp)
{
    Py_ssize_t hs = pp->header_size, room = pp->stream_capacity - pp->leftover, pos = 0, end;
    unsigned char *buffer = pp->stream_buffer;
    ssize_t got;

    if (room > pp->stream_read_size)
        room = pp->stream_read_size;
    got = read(pp->stream_rfd, buffer + pp->leftover, room);
    if (got < 0)
        return read_failed(pp, R_STREAM_READ_ERROR, room);
    if (got == 0) {
        pp->reason = R_HANDOVER;  /* EOF stays readable: the engine reads it again */
        return 0;
    }
    end = pp->leftover + got;
    while (end - pos >= hs) {
        unsigned long length = frame_length(buffer + pos, hs);
        if (length > pp->max_length || length == 0) {
            /* a bad header, or an empty packet (the engine decides whether it may
             * cross): the decoder takes it from here */
            pp->reason = R_DECODER;
            break;
        }
        if ((unsigned long)(end - pos - hs) < length)
            break;
        unsigned char *frame = buffer + pos + hs, native[VNET_HDR_SIZE];
        struct iovec parts[3] = {{frame, length}, {NULL, 0}, {NULL, 0}};
        int count = 1;
        if (pp->vnet) {
            if (!vnet_sound(pp, frame, length, native)) {
                pp->reason = R_DECODER;  /* the engine checks it again, and writes it or says why not */
                break;
            }
            size_t pi = (size_t)pp->pi_len;  /* packet information, the header in host order, the packet */
            parts[0].iov_len = pi;
            parts[1].iov_base = native;
            parts[1].iov_len = VNET_HDR_SIZE;
            parts[2].iov_base = frame + pi + VNET_HDR_SIZE;
            parts[2].iov_len = length - pi - VNET_HDR_SIZE;
            count = 3;
        }
        ssize_t written;
        do
            written = writev(pp->packet_wfd, parts, count);
        while (written < 0 && errno == EINTR);
        if (written < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
                pp->reason = R_DECODER;
                break;
            }
            pp->reason = R_PACKET_WRITE_ERROR;
            pp->error = errno;
            pp->size = length;
            pos += hs + length;  /* that frame is lost, as on the engine's own path */
            break;
        }
        pp->down_packets++;
        pp->down_bytes += length;
        pos += hs + length;
    }
    pp->leftover = end - pos;
    if (pos > 0 && pp->leftover > 0)
        memmove(buffer, buffer + pos, pp->leftover);
    return pp->reason == R_IDLE;
}

static void run(struct pump *pp)
{
    struct pollfd fds[4];
    for (;;) {
        int unsent = pp->unsent_head_len + pp->unsent_body_len > 0, count = 4;
        fds[0].fd = unsent ? -1 : pp->packet_rfd;  /* the packet side waits for the stream's room */
        fds[0].events = POLLIN;
        fds[1].fd = pp->stream_rfd;
        fds[1].events = POLLIN | POLLRDHUP;
        fds[2].fd = -1;  /* the stream's own write descriptor, when it has one */
        fds[2].events = POLLOUT;
        fds[3].fd = pp->wakeup_fd;
        fds[3].events = POLLIN;
        fds[0].revents = fds[1].revents = fds[2].revents = fds[3].revents = 0;
        if (unsent && pp->stream_wfd == pp->stream_rfd)
            fds[1].events |= POLLOUT;
        else if (unsent)
            fds[2].fd = pp->stream_wfd;
        int ready = poll(fds, count, pp->timeout_ms);
        if (ready < 0) {
            pp->reason = errno == EINTR ? R_SIGNAL : R_HANDOVER;
            return;
        }
        if (ready == 0) {
            pp->reason = R_IDLE;
            return;
        }
        if (fds[3].revents) {
            char drain[64];
            while (read(pp->wakeup_fd, drain, sizeof drain) > 0)
                ;  /* the signal numbers: Python's handlers know them already */
            pp->reason = R_SIGNAL;
            return;
        }
        if ((fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) ||
                (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL | POLLRDHUP)) ||
                (fds[2].revents & (POLLERR | POLLHUP | POLLNVAL))) {
            pp->reason = R_HANDOVER;
            return;
        }
        if (((fds[1].revents | fds[2].revents) & POLLOUT) && !flush_unsent(pp))
            return;
        if ((fds[1].revents & POLLIN) && !pump_down(pp))
            return;
        if ((fds[0].revents & POLLIN) && !pump_up(pp))
            return;
    }
}

/* Adds `delta` to the integer attribute `name` of `counters`. */
static int add_to(PyObject *counters, const char *name, unsigned long long delta)
{
    if (delta == 0)
        return 0;
    PyObject *value = PyObject_GetAttrString(counters, name);
    if (value == NULL)
        return -1;
    PyObject *step = PyLong_FromUnsignedLongLong(delta);
    PyObject *sum = step == NULL ? NULL : PyNumber_Add(value, step);
    Py_DECREF(value);
    Py_XDECREF(step);
    if (sum == NULL)
        return -1;
    int failed = PyObject_SetAttrString(counters, name, sum);
    Py_DECREF(sum);
    return failed;
}

/* Brings the engine's statistics up to date (with the GIL held). */
static int account(struct pump *pp, PyObject *up, PyObject *down)
{
    unsigned long long now[4] = {pp->up_packets, pp->up_bytes, pp->down_packets, pp->down_bytes};
    if (add_to(up, "packets", now[0] - pp->reported[0]) < 0 || add_to(up, "bytes", now[1] - pp->reported[1]) < 0 ||
            add_to(down, "packets", now[2] - pp->reported[2]) < 0 ||
            add_to(down, "bytes", now[3] - pp->reported[3]) < 0)
        return -1;
    memcpy(pp->reported, now, sizeof now);
    return 0;
}

static PyObject *pump(PyObject *self, PyObject *args)
{
    struct pump pp;
    Py_buffer packet_buffer, stream_buffer;
    PyObject *unsent, *oversize, *up_counters, *down_counters;

    memset(&pp, 0, sizeof pp);
    if (!PyArg_ParseTuple(args, "iiiipnnkkw*w*nniOOipInn", &pp.packet_rfd, &pp.packet_wfd, &pp.stream_rfd,
                          &pp.stream_wfd, &pp.stream_is_socket, &pp.packet_read_size, &pp.header_size,
                          &pp.max_length, &pp.wire_max, &packet_buffer, &stream_buffer, &pp.leftover,
                          &pp.stream_read_size, &pp.timeout_ms, &up_counters, &down_counters,
                          &pp.wakeup_fd, &pp.vnet, &pp.caps, &pp.pi_len, &pp.l3_offset))
        return NULL;
    if ((pp.header_size != 2 && pp.header_size != 4) || pp.packet_read_size <= 0 ||
            pp.packet_read_size > packet_buffer.len || pp.leftover < 0 || pp.stream_read_size <= 0 ||
            pp.leftover + pp.stream_read_size > stream_buffer.len ||
            (Py_ssize_t)pp.max_length + pp.header_size > stream_buffer.len) {
        PyBuffer_Release(&packet_buffer);
        PyBuffer_Release(&stream_buffer);
        PyErr_SetString(PyExc_ValueError, "pump: buffer sizes do not fit the frame format");
        return NULL;
    }
    pp.packet_buffer = packet_buffer.buf;
    pp.stream_buffer = stream_buffer.buf;
    pp.stream_capacity = stream_buffer.len;
    int flags = fcntl(pp.packet_rfd, F_GETFL);
    pp.packet_nonblocking = flags >= 0 && (flags & O_NONBLOCK);

    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        run(&pp);
        Py_END_ALLOW_THREADS
        if (account(&pp, up_counters, down_counters) < 0 ||
                (pp.reason == R_SIGNAL && PyErr_CheckSignals() < 0)) {
            PyBuffer_Release(&packet_buffer);
            PyBuffer_Release(&stream_buffer);
            return NULL;
        }
        if (pp.reason != R_SIGNAL)
            break;
        pp.reason = R_IDLE;
    }

    unsent = Py_None;
    oversize = Py_None;
    Py_INCREF(unsent);
    Py_INCREF(oversize);
    if (pp.unsent_head_len + pp.unsent_body_len > 0) {
        Py_DECREF(unsent);
        unsent = PyBytes_FromStringAndSize(NULL, pp.unsent_head_len + pp.unsent_body_len);
        if (unsent != NULL) {
            memcpy(PyBytes_AS_STRING(unsent), pp.unsent_head, pp.unsent_head_len);
            memcpy(PyBytes_AS_STRING(unsent) + pp.unsent_head_len, pp.unsent_body, pp.unsent_body_len);
        }
    }
    if (pp.reason == R_OVERSIZE) {
        Py_DECREF(oversize);
        oversize = PyBytes_FromStringAndSize((const char *)pp.packet_buffer, pp.oversize_len);
    }
    PyBuffer_Release(&packet_buffer);
    PyBuffer_Release(&stream_buffer);
    if (unsent == NULL || oversize == NULL) {
        Py_XDECREF(unsent);
        Py_XDECREF(oversize);
        return NULL;
    }
    return Py_BuildValue("iinnKKKKNN", pp.reason, pp.error, pp.size, pp.leftover, pp.up_packets, pp.up_bytes,
                         pp.down_packets, pp.down_bytes, unsent, oversize);
}

/* check_vnet(frame, caps, pi_len, l3_offset): the frame as it would reach the TUN, or
 * None where the pump leaves it to the engine (for the tests that compare it with Python). */
static PyObject *check_vnet(PyObject *self, PyObject *args)
{
    Py_buffer frame;
    struct pump pp;
    memset(&pp, 0, sizeof pp);
    if (!PyArg_ParseTuple(args, "y*Inn", &frame, &pp.caps, &pp.pi_len, &pp.l3_offset))
        return NULL;
    unsigned char native[VNET_HDR_SIZE];
    if (pp.pi_len < 0 || pp.l3_offset < 0 || !vnet_sound(&pp, frame.buf, (size_t)frame.len, native)) {
        PyBuffer_Release(&frame);
        Py_RETURN_NONE;
    }
    PyObject *copy = PyBytes_FromStringAndSize(frame.buf, frame.len);
    if (copy != NULL)
        memcpy(PyBytes_AS_STRING(copy) + pp.pi_len, native, VNET_HDR_SIZE);
    PyBuffer_Release(&frame);
    return copy;
}

static PyMethodDef methods[] = {
    {"pump", pump, METH_VARARGS, "Relays a packet descriptor and a framed stream until the engine is needed."},
    {"check_vnet", check_vnet, METH_VARARGS, "The pump's check of a received offload frame (for tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pump", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__pump(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
#define REASON(name) PyModule_AddIntConstant(m, #name, R_##name)
    REASON(IDLE); REASON(SIGNAL); REASON(HANDOVER); REASON(OVERSIZE); REASON(DECODER);
    REASON(PACKET_EOF); REASON(PACKET_READ_ERROR); REASON(PACKET_WRITE_ERROR);
    REASON(STREAM_READ_ERROR); REASON(STREAM_WRITE_ERROR);
    return m;
}
