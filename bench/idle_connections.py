#!/usr/bin/env python3
"""Opens many idle TLS keep-alive connections to one HTTPS server on loopback and holds them, for bench/run.

Each connection: TCP connect, TLS handshake (resuming the thread's newest session when it can, to spare CPU;
the server keeps the same per-connection state either way), one keep-alive `GET PATH` read to the end of its
body, then nothing. Connections are opened by --threads threads, each in turn, so there is no burst beyond
the listen backlog. A connection counts as accepted when its request got a 200.

Protocol with the caller (stdout lines, flushed):
  OPENED accepted=N failed=N seconds=S    once every connection was tried; the caller now measures
  STILL_OPEN N                            after stdin reaches end of file (or --hold-seconds passed): how many
                                          are still open (not closed or reset by the server)
The caller (bench/run) runs this as a coprocess, measures RSS and another client's latency meanwhile, then
closes our stdin. Every loop is bounded: --open-seconds for opening, --hold-seconds for holding.
"""

import argparse
import resource
import select
import socket
import ssl
import sys
import threading
import time


def raise_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        print(f"idle_connections: only {soft} file descriptors allowed (ulimit -n), {needed} wanted",
              file=sys.stderr, flush=True)


def read_response(tls):
    """Reads one response (head + Content-Length body); returns the status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(16384)
        if not chunk:
            raise ConnectionError("server closed before the response head ended")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = tls.recv(16384)
        if not chunk:
            raise ConnectionError("server closed in the middle of the body")
        body += chunk
    return head.split(b"\r\n", 1)[0].decode(errors="replace")


class Opener:
    def __init__(self, args):
        self.args = args
        self.context = ssl.create_default_context(cafile=args.cafile)
        self.request = (f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + (f"Authorization: Bearer {args.token}\r\n" if args.token else "")
                        + "\r\n").encode()
        self.lock = threading.Lock()
        self.open = []
        self.failed = 0
        self.errors = {}

    def run(self, count, deadline):
        session = None
        for _ in range(count):
            if time.monotonic() > deadline:
                with self.lock:
                    self.failed += 1
                    self.errors["gave up: --open-seconds passed"] = self.errors.get("gave up: --open-seconds passed", 0) + 1
                continue
            raw = None
            try:
                raw = socket.create_connection(("127.0.0.1", self.args.port), timeout=10)
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                tls = self.context.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
                tls.sendall(self.request)
                status = read_response(tls)
                if not status.startswith("HTTP/1.1 200"):
                    raise ConnectionError(f"status {status!r}")
                session = tls.session or session
                with self.lock:
                    self.open.append(tls)
            except (OSError, ssl.SSLError, ValueError) as error:
                if raw is not None:
                    raw.close()
                key = type(error).__name__ + ": " + str(error)[:120]
                with self.lock:
                    self.failed += 1
                    self.errors[key] = self.errors.get(key, 0) + 1


def still_open(connections):
    """Connections the server has not closed: not readable (a close or reset makes a socket readable)."""
    poller = select.poll()
    by_fd = {}
    for tls in connections:
        try:
            fd = tls.fileno()
        except OSError:
            continue
        by_fd[fd] = tls
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    closed = {fd for fd, _ in poller.poll(0)}
    return len(by_fd) - len(closed)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True, help="PEM that verifies the server certificate")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--path", default="/readyz")
    parser.add_argument("--token", default="", help="bearer token, if PATH needs one")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--open-seconds", type=float, default=120, help="give up opening after this long")
    parser.add_argument("--hold-seconds", type=float, default=50, help="hold at most this long after OPENED")
    args = parser.parse_args()
    raise_file_limit(args.count + 64)

    opener = Opener(args)
    started = time.monotonic()
    deadline = started + args.open_seconds
    shares = [args.count // args.threads + (1 if i < args.count % args.threads else 0) for i in range(args.threads)]
    threads = [threading.Thread(target=opener.run, args=(n, deadline)) for n in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    for error, count in sorted(opener.errors.items(), key=lambda item: -item[1])[:5]:
        print(f"idle_connections: {count} x {error}", file=sys.stderr, flush=True)
    print(f"OPENED accepted={len(opener.open)} failed={opener.failed} seconds={seconds:.2f}", flush=True)

    select.select([sys.stdin], [], [], args.hold_seconds)   # the caller closes stdin when it is done
    print(f"STILL_OPEN {still_open(opener.open)}", flush=True)
    for tls in opener.open:
        tls.close()


if __name__ == "__main__":
    main()
