#!/usr/bin/env python3
"""Resumed TLS handshakes per second against one HTTPS server on loopback, for bench/run.

Each client process makes one full handshake to get a session, then loops until --seconds have passed: new TCP
connection, TLS handshake offering the newest session (TLS 1.3 ticket or 1.2 session), one
`GET PATH` with `Connection: close`, read to the end, close. A connection counts only if its status is 200 and
the server really resumed (`SSLSocket.session_reused`); full handshakes and failures are counted apart, so a
server that ignores tickets shows up as `reused` far below `connections`, not as a fast number.

The client runs in Python, so one connection costs the client more CPU than the server; --processes spreads
the clients over processes. To see the server's own cost, bench/run also reads the server's CPU time (from
/proc) over the same interval and divides by the resumed connections.

Prints "RESUMED connections=N reused=N full=N failed=N seconds=S rate=R" (rate = reused per second).

With --full the client never offers a session: every connection is a full handshake, and it prints
"FULL connections=N reused=N full=N failed=N seconds=S rate=R" (rate = full handshakes per second). wrk can't
measure those: it keeps its SSL object across reconnects (`SSL_clear`), so its `Connection: close` connections
resume their TLS session.
"""

import argparse
import multiprocessing
import socket
import ssl
import sys
import time


def request_bytes(path, token):
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Connection: close\r\n\r\n").encode()


def one_connection(context, port, request, session):
    """One connection; returns (ok, reused, session)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls:
            tls.sendall(request)
            chunks = []
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            response = b"".join(chunks)
            ok = response.startswith(b"HTTP/1.1 200 ")
            return ok, tls.session_reused, tls.session


def client(args, results):
    context = ssl.create_default_context(cafile=args.cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    request = request_bytes(args.path, args.token)
    connections = reused = full = failed = 0
    session = None
    started = time.monotonic()
    deadline = started + args.seconds
    while time.monotonic() < deadline:
        try:
            ok, was_reused, new_session = one_connection(context, args.port, request, session)
        except (OSError, ssl.SSLError):
            failed += 1
            session = None
            continue
        connections += 1
        if not ok:
            failed += 1
        elif was_reused:
            reused += 1
        else:
            full += 1
        if not args.full:
            session = new_session or session
    results.put((connections, reused, full, failed, time.monotonic() - started))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True, help="PEM that verifies the server certificate")
    parser.add_argument("--token", required=True)
    parser.add_argument("--path", default="/v1/bundles/helm/key.pem")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--tls12", action="store_true", help="cap at TLS 1.2 (session IDs/tickets of 1.2)")
    parser.add_argument("--full", action="store_true", help="never offer a session: full handshakes only")
    args = parser.parse_args()

    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=client, args=(args, results)) for _ in range(args.processes)]
    for worker in workers:
        worker.start()
    connections = reused = full = failed = 0
    rate = seconds = 0.0
    for _ in workers:
        c, r, f, x, elapsed = results.get(timeout=args.seconds + 30)
        connections, reused, full, failed = connections + c, reused + r, full + f, failed + x
        rate += (f if args.full else r) / elapsed  # each client's own rate, summed: start-up is not counted
        seconds = max(seconds, elapsed)
    for worker in workers:
        worker.join(timeout=10)
    print(f"{'FULL' if args.full else 'RESUMED'} connections={connections} reused={reused} full={full} failed={failed} "
          f"seconds={seconds:.3f} rate={rate:.1f}", flush=True)
    if connections == 0:
        sys.exit("resumed_handshakes: no connection succeeded")


if __name__ == "__main__":
    main()
