#!/usr/bin/env python3
"""Hostile clients against one HTTP(S) server on loopback, with a polite client beside them, for the hostile-client
tests (Tests/HostileClientTests) and the "under attack" section of bench/run.

  attack.py ATTACK --port PORT --pid PID [options]

The attacks (issue 12's table, plus the slow and silent clients a server must close on time):

  pipeline         --connections N (300) connections with a small receive buffer (--rcvbuf, 4096 bytes), each
                   sending `GET --pipeline-path` --requests R (200) times pipelined, never reading; held --seconds
  crlf-stream      N (32) connections streaming `\\r\\n` as fast as they can for --seconds; a connection the server
                   closes is opened again (an attacker would)
  crlf-prefix      one connection: 1 MiB of `\\r\\n`, then `GET --path`; reports the status it got
  fd-exhaustion    the server's RLIMIT_NOFILE (every process of its tree) lowered to --nofile (64), then N (100)
                   connections that wait (connect, send nothing); reports the server's CPU time over --seconds
  per-client       N (300) connections from --attack-source (127.0.0.1), one after another, each: handshake, one
                   keep-alive `GET --path`, then silence; reports how many got their answer and stayed open
  mute             N (20) TCP connections that send nothing; reports how many the server closed, and when
  no-client-hello  N (20) connections that send the first bytes of a TLS record and stop
  slowloris        N (20) connections that finish the handshake, then send a request head a byte every
                   --trickle seconds (1)

Attacking connections come from 127.0.1.1, 127.0.1.2, … (100 from each: see PER_SOURCE), per-client's from
--attack-source. Meanwhile the polite client makes --polite-rate (10) requests a second for `GET --path`, each on a new connection
from --polite-source (127.0.0.1); for fd-exhaustion on one keep-alive connection opened before the attack (no new
connection can be accepted then, by design). A request that fails or takes longer than --polite-timeout (5 s)
counts as failed, with the timeout as its latency. RSS is the summed VmRSS of PID and its descendants
(/proc/PID/status, sampled every 50 ms; nginx: master and workers, an upper bound), CPU their utime + stime.

Prints one line, `ATTACK name=… peak_rss_kib=… polite_ok=… polite_failed=… polite_p99_ms=… …` plus the attack's
own fields (see each function), flushed; diagnostics go to standard error. Loopback only; every loop is bounded
by --seconds or a fixed deadline; every socket it opens is closed before it exits. Asserts nothing: the caller does.
"""

import argparse
import multiprocessing
import resource
import select
import socket
import ssl
import sys
import threading
import time

from idle_connections import raise_file_limit, read_response
from proc_usage import cpu_us, descendants, status_kib

LOOPBACK = ("127.", "::1")
# Attacking connections other than per-client's come from 127.0.1.1, 127.0.1.2, … (the polite client's default
# 127.0.0.1 is none of them), at most this many from each: under a per-client cap (issue 12: 256 by default), so
# each attack measures what it is meant to (backpressure, the head limit, …), not the cap.
PER_SOURCE = 100


def spread(index):
    """The source address of the index-th attacking connection."""
    return f"127.0.1.{index // PER_SOURCE + 1}"


def client_context():
    """TLS as a client that does not check the server's certificate: attackers don't, and loopback is trusted."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Target:
    """Where the server listens and how to open a connection to it."""

    def __init__(self, args):
        self.host, self.port, self.plain = args.host, args.port, args.plain
        self.context = None if args.plain else client_context()

    def tcp(self, source="127.0.0.1", rcvbuf=None, timeout=5.0):
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)   # before connect: the window
            if source and ":" not in self.host:
                sock.bind((source, 0))
            sock.connect((self.host, self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except BaseException:
            sock.close()
            raise

    def connect(self, source="127.0.0.1", rcvbuf=None, timeout=5.0):
        """A connection ready for HTTP: TCP, then (unless --plain) a completed TLS handshake."""
        sock = self.tcp(source, rcvbuf, timeout)
        if self.plain:
            return sock
        try:
            return self.context.wrap_socket(sock, server_hostname=None)
        except BaseException:
            sock.close()
            raise


def request_bytes(path, keep_alive=True):
    return (f"GET {path} HTTP/1.1\r\nHost: localhost\r\n"
            + ("" if keep_alive else "Connection: close\r\n") + "\r\n").encode()


class Sampler(threading.Thread):
    """Peak summed VmRSS of PID and its descendants, every 50 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self):
        samples, pids = 0, descendants(self.pid)
        while not self.stop.is_set():
            if samples % 20 == 0:
                pids = descendants(self.pid)
            self.peak = max(self.peak, sum(status_kib(p, "VmRSS") for p in pids))
            samples += 1
            self.stop.wait(0.05)


FORK = multiprocessing.get_context("fork")


class Polite(FORK.Process):
    """A well-behaved client: --polite-rate requests a second, each timed from connect (or send) to full answer.

    Its own process, so the attack's Python (one interpreter lock) never delays it: what it measures is the
    server. `start()` returns once it is ready (for keep-alive: connected); `finish()` stops it and returns its
    figures."""

    def __init__(self, target, args, keep_alive=False):
        super().__init__(daemon=True)
        self.target, self.args, self.keep_alive = target, args, keep_alive
        self.stop_event = FORK.Event()
        self.results, self.report = FORK.Pipe(duplex=False)
        self.latencies, self.failed, self.errors = [], 0, {}
        self.connection = None

    def start(self):
        super().start()
        if not self.results.poll(self.args.polite_timeout + 5):
            raise SystemExit("attack: the polite client did not get ready")
        ready = self.results.recv()
        if ready != "ready":
            raise SystemExit(f"attack: the polite client could not start: {ready}")

    def one(self):
        if self.keep_alive:
            if self.connection is None:
                self.connection = self.target.connect(self.args.polite_source, timeout=self.args.polite_timeout)
            self.connection.sendall(request_bytes(self.args.path))
            return read_response(self.connection)
        with self.target.connect(self.args.polite_source, timeout=self.args.polite_timeout) as connection:
            connection.sendall(request_bytes(self.args.path, keep_alive=False))
            return read_response(connection)

    def run(self):
        try:
            if self.keep_alive:
                self.connection = self.target.connect(self.args.polite_source, timeout=self.args.polite_timeout)
        except (OSError, ssl.SSLError) as error:
            self.report.send(f"{type(error).__name__}: {error}")
            return
        self.report.send("ready")
        interval = 1.0 / self.args.polite_rate
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                status = self.one()
                if not status.startswith("HTTP/1.1 200"):
                    raise ConnectionError(f"status {status!r}")
                elapsed = time.monotonic() - started
                if elapsed > self.args.polite_timeout:
                    raise TimeoutError("answer slower than --polite-timeout")
                self.latencies.append(elapsed)
            except (OSError, ssl.SSLError, ValueError) as error:
                self.failed += 1
                self.latencies.append(self.args.polite_timeout)
                key = type(error).__name__ + ": " + str(error)[:100]
                self.errors[key] = self.errors.get(key, 0) + 1
                if self.connection is not None:
                    self.connection.close()
                    self.connection = None
            next_at = max(next_at + interval, time.monotonic())
            self.stop_event.wait(next_at - time.monotonic())
        if self.connection is not None:
            self.connection.close()
        self.report.send((self.latencies, self.failed, self.errors))

    def finish(self):
        """Stops the client (after the request in flight) and returns its fields."""
        self.stop_event.set()
        if self.results.poll(self.args.polite_timeout + 5):
            self.latencies, self.failed, self.errors = self.results.recv()
        else:
            print("attack: the polite client did not report", file=sys.stderr, flush=True)
        self.join(5)
        if self.is_alive():
            self.kill()
        ordered = sorted(self.latencies)
        p99 = ordered[max(0, -(-len(ordered) * 99 // 100) - 1)] if ordered else None   # nearest rank
        for error, count in sorted(self.errors.items(), key=lambda item: -item[1])[:3]:
            print(f"attack: polite client: {count} x {error}", file=sys.stderr, flush=True)
        return {"polite_ok": len(ordered) - self.failed, "polite_failed": self.failed,
                "polite_p99_ms": f"{p99 * 1000:.1f}" if p99 is not None else "none"}


def close_all(connections):
    for connection in connections:
        try:
            connection.close()
        except OSError:
            pass


def send_some(connection, data):
    """Sends what the socket takes now without blocking; returns the bytes taken, or None if the peer is gone."""
    try:
        return connection.send(data)
    except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError, InterruptedError):
        return 0
    except (OSError, ssl.SSLError):
        return None


def hold_until(end):
    time.sleep(max(0.0, end - time.monotonic()))


# ---------------------------------------------------------------------------------------------------------
# The attacks. Each returns its own fields; the polite client and the RSS sampler run around it.

def attack_pipeline(target, args):
    """requests_sent: pipelined requests the server's socket took (it reads them all unless it pushes back);
    connections: opened; open_s: how long opening them took."""
    blob = request_bytes(args.pipeline_path) * args.requests
    connections, left, refused = [], {}, 0
    deadline = time.monotonic() + args.open_seconds
    for index in range(args.connections):
        if time.monotonic() > deadline:
            break
        try:
            connection = target.connect(spread(index), rcvbuf=args.rcvbuf)
        except (OSError, ssl.SSLError):
            continue
        connection.setblocking(False)
        connections.append(connection)
        left[connection] = blob
    opened = time.monotonic()
    end = opened + args.seconds
    while left and time.monotonic() < end:
        _, writable, _ = select.select([], list(left), [], 0.1)
        for connection in writable:
            taken = send_some(connection, left[connection])
            if taken is None:
                refused += len(left[connection])
                del left[connection]
            elif taken:
                left[connection] = left[connection][taken:]
                if not left[connection]:
                    del left[connection]
    hold_until(end)
    unsent = sum(len(data) for data in left.values()) + refused
    sent = len(connections) * len(blob) - unsent
    close_all(connections)
    return {"connections": len(connections), "requests": args.requests,
            "requests_sent": sent // len(request_bytes(args.pipeline_path)),
            "open_s": f"{opened - (deadline - args.open_seconds):.1f}"}


def attack_crlf_stream(target, args):
    """mib_sent: `\\r\\n` the server's sockets took; reopened: connections the server closed (opened again)."""
    chunk = b"\r\n" * 8192
    connections, sent, reopened = [], 0, 0
    end = time.monotonic() + args.seconds

    def open_one(index):
        connection = target.connect(spread(index), timeout=2.0)
        connection.setblocking(False)
        return connection

    for index in range(args.connections):
        try:
            connections.append(open_one(index))
        except (OSError, ssl.SSLError):
            pass
    while connections and time.monotonic() < end:
        _, writable, _ = select.select([], connections, [], 0.1)
        for connection in writable:
            taken = send_some(connection, chunk)
            if taken is None:
                connections.remove(connection)
                connection.close()
                if time.monotonic() < end:
                    try:
                        connections.append(open_one(reopened % args.connections))
                        reopened += 1
                    except (OSError, ssl.SSLError):
                        pass
            else:
                sent += taken
    close_all(connections)
    return {"connections": args.connections, "mib_sent": f"{sent / 1048576:.1f}", "reopened": reopened}


def attack_crlf_prefix(target, args):
    """status: the status code answered to 1 MiB of `\\r\\n` followed by `GET --path`, or `none` if the server
    closed without answering; sent_kib: how much of it the server took before that."""
    connection = target.connect(spread(0), timeout=10.0)
    payload = b"\r\n" * (512 * 1024) + request_bytes(args.path, keep_alive=False)
    sent = [0]

    def sender():   # on its own thread: the server may answer (and close) before it has read it all
        try:
            view = memoryview(payload)
            while sent[0] < len(payload):
                sent[0] += connection.send(view[sent[0]:sent[0] + 65536])
        except (OSError, ssl.SSLError, ValueError):
            pass

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    status = "none"
    try:
        line = read_response(connection)
        status = line.split(" ")[1] if line.count(" ") >= 1 else "none"
    except (OSError, ssl.SSLError, ValueError, ConnectionError) as error:
        print(f"attack: crlf-prefix: no answer ({type(error).__name__}: {error})", file=sys.stderr, flush=True)
    thread.join(10)
    connection.close()
    return {"status": status, "sent_kib": sent[0] // 1024}


def attack_fd_exhaustion(target, args):
    """cpu_ms: the server's CPU time (all its processes) over the measured window; window_ms: its length;
    nofile: the soft RLIMIT_NOFILE set; waiting: connections opened (the kernel queues those not accepted)."""
    for pid in descendants(args.pid):
        _, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (args.nofile, hard))
    connections = []
    for index in range(args.connections):
        try:
            connections.append(target.tcp(spread(index), timeout=2.0))
        except OSError:
            break
    time.sleep(0.2)   # the accepts the limit allows happen now; the window measures what follows
    pids = descendants(args.pid)
    cpu_before, wall_before = sum(cpu_us(pid) for pid in pids), time.monotonic()
    time.sleep(args.seconds)
    cpu_after, wall_after = sum(cpu_us(pid) for pid in pids), time.monotonic()
    close_all(connections)
    return {"cpu_ms": (cpu_after - cpu_before) // 1000, "window_ms": int((wall_after - wall_before) * 1000),
            "nofile": args.nofile, "waiting": len(connections)}


def still_open(connections):
    """Connections the server has not closed (a close or reset makes a socket readable; a TLS session ticket
    does too, so readable ones are read to tell)."""
    count = 0
    for connection in connections:
        readable, _, _ = select.select([connection], [], [], 0)
        if not readable:
            count += 1
            continue
        try:
            connection.setblocking(False)
            if connection.recv(4096):
                count += 1   # data, not a close
        except (ssl.SSLWantReadError, BlockingIOError):
            count += 1
        except (OSError, ssl.SSLError):
            pass
    return count


def attack_per_client(target, args):
    """attempted: connections opened from --attack-source; answered: got their 200; held: still open at the end
    (the server keeps them). With a per-client cap C, held ≤ C."""
    connections, answered = [], 0
    deadline = time.monotonic() + args.open_seconds
    for _ in range(args.connections):
        if time.monotonic() > deadline:
            break
        try:
            connection = target.connect(args.attack_source, timeout=2.0)
        except (OSError, ssl.SSLError):
            continue
        connections.append(connection)
        try:
            connection.sendall(request_bytes(args.path))
            if read_response(connection).startswith("HTTP/1.1 200"):
                answered += 1
        except (OSError, ssl.SSLError, ValueError, ConnectionError):
            pass
    hold_until(time.monotonic() + args.seconds)
    held = still_open(connections)
    close_all(connections)
    return {"attempted": args.connections, "answered": answered, "held": held}


def attack_slow(target, args, kind):
    """closed: connections the server closed within --seconds; max_open_s: the longest any stayed open before the
    server closed it (from connect; for slowloris from the end of the handshake, when the head timeout starts)."""
    connections, opened_at, closed_after = [], {}, {}
    head = request_bytes(args.path)[:-2] + b"X-Padding: " + b"a" * 4096
    for index in range(args.connections):
        try:
            if kind == "slowloris":
                connection = target.connect(spread(index), timeout=5.0)
            else:
                connection = target.tcp(spread(index), timeout=5.0)
                if kind == "no-client-hello":
                    # A TLS handshake record header announcing 512 bytes, and the start of a ClientHello.
                    connection.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]))
        except (OSError, ssl.SSLError):
            continue
        connection.setblocking(False)
        connections.append(connection)
        opened_at[connection] = time.monotonic()
    end = time.monotonic() + args.seconds
    next_byte, position = time.monotonic(), 0
    while time.monotonic() < end and len(closed_after) < len(connections):
        if kind == "slowloris" and time.monotonic() >= next_byte:
            for connection in connections:
                if connection not in closed_after:
                    send_some(connection, head[position:position + 1])
            position = min(position + 1, len(head) - 1)
            next_byte += args.trickle
        open_ones = [c for c in connections if c not in closed_after]
        readable, _, _ = select.select(open_ones, [], [], 0.05)
        for connection in readable:
            try:
                if connection.recv(4096):
                    continue
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (OSError, ssl.SSLError):
                pass
            closed_after[connection] = time.monotonic() - opened_at[connection]
    close_all(connections)
    longest = max(closed_after.values()) if closed_after else None
    return {"connections": len(connections), "closed": len(closed_after),
            "max_open_s": f"{longest:.1f}" if longest is not None else "none"}


ATTACKS = {
    "pipeline": (attack_pipeline, {"connections": 300, "seconds": 3}),
    "crlf-stream": (attack_crlf_stream, {"connections": 32, "seconds": 4}),
    "crlf-prefix": (attack_crlf_prefix, {"connections": 1, "seconds": 0}),
    "fd-exhaustion": (attack_fd_exhaustion, {"connections": 100, "seconds": 3}),
    "per-client": (attack_per_client, {"connections": 300, "seconds": 1}),
    "mute": (lambda t, a: attack_slow(t, a, "mute"), {"connections": 20, "seconds": 13}),
    "no-client-hello": (lambda t, a: attack_slow(t, a, "no-client-hello"), {"connections": 20, "seconds": 13}),
    "slowloris": (lambda t, a: attack_slow(t, a, "slowloris"), {"connections": 20, "seconds": 13}),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("attack", choices=sorted(ATTACKS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server's process (RSS and CPU from /proc)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--plain", action="store_true", help="plain HTTP (default: HTTPS)")
    parser.add_argument("--connections", type=int, help="attacking connections (default: per attack, above)")
    parser.add_argument("--seconds", type=float, help="how long the attack runs or holds (default: per attack)")
    parser.add_argument("--requests", type=int, default=200, help="pipeline: requests per connection")
    parser.add_argument("--pipeline-path", default="/openapi.yaml")
    parser.add_argument("--rcvbuf", type=int, default=4096, help="pipeline: attackers' SO_RCVBUF")
    parser.add_argument("--nofile", type=int, default=64, help="fd-exhaustion: the server's new soft limit")
    parser.add_argument("--trickle", type=float, default=1.0, help="slowloris: seconds between bytes")
    parser.add_argument("--attack-source", default="127.0.0.1", help="per-client: the attackers' address")
    parser.add_argument("--path", default="/readyz", help="what the polite client (and crlf-prefix) asks for")
    parser.add_argument("--polite-source", default="127.0.0.1")
    parser.add_argument("--polite-rate", type=float, default=10)
    parser.add_argument("--polite-timeout", type=float, default=5)
    parser.add_argument("--open-seconds", type=float, default=30, help="give up opening connections after this")
    args = parser.parse_args()
    function, defaults = ATTACKS[args.attack]
    args.connections = args.connections if args.connections is not None else defaults["connections"]
    args.seconds = args.seconds if args.seconds is not None else defaults["seconds"]
    if args.connections > 900:
        sys.exit("attack: at most 900 connections (select() takes descriptors below 1024)")
    for address in (args.host, args.polite_source, args.attack_source):
        if not address.startswith(LOOPBACK):
            sys.exit(f"attack: {address} is not a loopback address; this tool only attacks loopback")
    raise_file_limit(args.connections + 256)

    target = Target(args)
    sampler = Sampler(args.pid)
    sampler.start()
    polite = Polite(target, args, keep_alive=args.attack == "fd-exhaustion")
    polite.start()
    try:
        fields = function(target, args)
    finally:
        polite_fields = polite.finish()
        sampler.stop.set()
        sampler.join(5)
    fields = {"name": args.attack, "seconds": f"{args.seconds:g}", "peak_rss_kib": sampler.peak, **polite_fields,
              **fields}
    print("ATTACK " + " ".join(f"{key}={value}" for key, value in fields.items()), flush=True)


if __name__ == "__main__":
    main()
