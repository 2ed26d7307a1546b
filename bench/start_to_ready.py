#!/usr/bin/env python3
"""Time from starting a server process to its first `200` on /readyz over HTTPS, for bench/run.

  start_to_ready.py --port P --cafile CA.pem [--runs N] -- COMMAND ARGS...

Each run: note the monotonic clock, start COMMAND (which must listen on 127.0.0.1:P), then poll every
--poll-ms: connect, TLS handshake, `GET /readyz`, until a 200 (refused connections and non-200 answers are
retried). The time includes exec, dynamic linking, reading the bundle and binding the port. Then the process
gets SIGTERM (SIGKILL after 5 s) and is reaped before the next run. Bounded by --timeout per run.

Prints "READY runs=N median_ms=M min_ms=M max_ms=M killed_after_sigterm=N" (and exits non-zero if a run never got ready).
"""

import argparse
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time

child = None
killed = 0   # runs whose process ignored SIGTERM for 5 s


def stop(process):
    global killed
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            killed += 1
            process.kill()
            process.wait()


def ready(context, port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                return tls.recv(64).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False


def main():
    global child
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--poll-ms", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=20, help="seconds one run may take to get ready")
    parser.add_argument("--log", default="/dev/null", help="append the process's stdout and stderr here")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        sys.exit("start_to_ready: give the server command after --")

    def on_signal(signum, _frame):
        if child is not None:
            stop(child)
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    context = ssl.create_default_context(cafile=args.cafile)
    times = []
    with open(args.log, "ab") as log:
        for run in range(args.runs):
            started = time.monotonic()
            child = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            deadline = started + args.timeout
            while True:
                if ready(context, args.port):
                    times.append((time.monotonic() - started) * 1000)
                    break
                if child.poll() is not None:
                    sys.exit(f"start_to_ready: run {run + 1}: the process exited with {child.returncode} before ready")
                if time.monotonic() > deadline:
                    stop(child)
                    sys.exit(f"start_to_ready: run {run + 1}: not ready after {args.timeout} s")
                time.sleep(args.poll_ms / 1000)
            stop(child)
            child = None
    print(f"READY runs={len(times)} median_ms={statistics.median(times):.1f} min_ms={min(times):.1f} "
          f"max_ms={max(times):.1f} killed_after_sigterm={killed}", flush=True)


if __name__ == "__main__":
    main()
