#!/usr/bin/env python3
"""Memory and CPU use of a process and all its descendants, from /proc (Linux), for bench/run.

A server here is one process (helm-cert-server) or a process tree (nginx: master plus workers), so every
figure is the sum over PID and its descendants, read from /proc/PID/status, /proc/PID/smaps_rollup and
/proc/PID/stat. Sums of RSS count pages shared between processes (nginx's master and workers share code and
configuration) more than once, so for a tree RSS is an upper bound; PSS divides shared pages fairly.

  proc_usage.py rss PID        -> "rss_kib=N hwm_kib=N pss_kib=N processes=N"
  proc_usage.py cpu PID        -> "cpu_us=N processes=N"   (user + system time, clock-tick resolution)
  proc_usage.py sample PID     -> samples RSS every --interval seconds until SIGTERM/SIGINT or --max-seconds,
                                  then prints "peak_rss_kib=N samples=N" (the largest summed VmRSS seen)
"""

import argparse
import os
import signal
import sys
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def descendants(root):
    """PID and every process below it (one pass over /proc; processes that vanish are skipped)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_us(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    # Fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and comm are cut off.
    return (int(fields[11]) + int(fields[12])) * 1_000_000 // CLOCK_TICKS


def require_alive(pid):
    if not os.path.exists(f"/proc/{pid}"):
        sys.exit(f"proc_usage: no process {pid} (it exited?)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["rss", "cpu", "sample"])
    parser.add_argument("pid", type=int)
    parser.add_argument("--interval", type=float, default=0.05, help="sample: seconds between samples")
    parser.add_argument("--max-seconds", type=float, default=900, help="sample: stop by itself after this long")
    args = parser.parse_args()
    require_alive(args.pid)

    if args.what == "rss":
        pids = descendants(args.pid)
        print(f"rss_kib={sum(status_kib(p, 'VmRSS') for p in pids)} hwm_kib={sum(status_kib(p, 'VmHWM') for p in pids)} "
              f"pss_kib={sum(pss_kib(p) for p in pids)} processes={len(pids)}")
    elif args.what == "cpu":
        pids = descendants(args.pid)
        print(f"cpu_us={sum(cpu_us(p) for p in pids)} processes={len(pids)}")
    else:
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        peak, samples = 0, 0
        deadline = time.monotonic() + args.max_seconds
        pids = descendants(args.pid)
        while not stop and time.monotonic() < deadline:
            if samples % 20 == 0:
                pids = descendants(args.pid)   # nginx may replace a worker; re-list now and then
            peak = max(peak, sum(status_kib(p, "VmRSS") for p in pids))
            samples += 1
            time.sleep(args.interval)
        print(f"peak_rss_kib={peak} samples={samples}", flush=True)


if __name__ == "__main__":
    main()
