#!/usr/bin/env python3
"""Prints bench/run's results as Markdown tables: medians over rounds and the ratio service/nginx.

  table.py RESULTS.tsv INFO.txt

RESULTS.tsv: one figure per line, `ROUND<TAB>SERVER<TAB>METRIC<TAB>VALUE`, SERVER `service` or `nginx`, ROUND a
number for the A/B rounds or `-` for the measurements made once. A metric `X_errors` counts failed requests
of row X in that round; any marks the row. INFO.txt: `key=value` lines (what was run, where, when).
A figure that is missing prints as `–` (and says why when INFO names a reason, e.g. `kube_reason=`).
Metrics `attack_NAME_FIELD` (round `-`) are bench/attack.py's fields and make the "under attack" table; the other
tables are printed only when there are figures for them (`bench/run --only attack` has none).
"""

import statistics
import sys

# (metric, label, unit, better, target). better: "higher" or "lower"; the ratio is always service / nginx.
COMPARED = [
    ("ka_tar_rps", "keep-alive req/s, bundle.tar.gz", "rps", "higher", "≥ 1.0 × nginx"),
    ("ka_key_rps", "keep-alive req/s, key.pem", "rps", "higher", "≥ 1.0 × nginx"),
    ("close_rps", "`Connection: close` req/s, bundle.tar.gz (a new connection each; wrk resumes its TLS session)", "rps", "higher", "≥ 1.0 × nginx"),
    ("full_rate", "full handshakes/s (Python client offering no session, + 1 request each)", "rps", "higher", "≥ 1.0 × nginx"),
    ("resumed_rate", "resumed handshakes/s (TLS 1.3 ticket, + 1 request each)", "rps", "higher", "≥ 1.0 × nginx"),
    ("ka_tar_p50_ms", "p50 latency at saturation, keep-alive bundle.tar.gz (ms)", "ms", "lower", "–"),
    ("ka_tar_p99_ms", "p99 latency at saturation, keep-alive bundle.tar.gz (ms)", "ms", "lower", "≤ nginx"),
    ("lat_p50_ms", "p50 latency at {rate} req/s, bundle.tar.gz (ms)", "ms", "lower", "–"),
    ("lat_p99_ms", "p99 latency at {rate} req/s, bundle.tar.gz (ms)", "ms", "lower", "≤ nginx"),
    ("peak_rss_mib", "peak RSS under load (MiB)", "mib", "lower", "–"),
    ("ka_tar_cpu_us", "server CPU per keep-alive request, bundle.tar.gz (µs)", "us", "lower", "–"),
    ("close_cpu_us", "server CPU per `Connection: close` request, resumed session (µs)", "us", "lower", "–"),
    ("full_cpu_us", "server CPU per full handshake + request (µs)", "us", "lower", "–"),
    ("resumed_cpu_us", "server CPU per resumed handshake + request (µs)", "us", "lower", "–"),
]

ONCE = [
    ("idle_rss_mib", "RSS at idle, after start and one request of each kind (MiB)", "mib", "≤ 16 MiB"),
    ("idle_pss_mib", "PSS at idle (MiB; shared pages split between processes)", "mib", "–"),
    ("conn_accepted", "{idle} idle TLS keep-alive connections: accepted", "count", "all"),
    ("conn_still_open", "… still open after the measurements", "count", "all"),
    ("conn_rss_mib", "… RSS while holding them (MiB)", "mib", "≤ 150 MiB"),
    ("conn_probe_p99_ms", "… p99 of another client meanwhile (ms, {probe_rate} req/s)", "ms", "< 10 ms"),
    ("ready_ms", "process start to first `/readyz` 200, directory source (ms, median of {ready_runs})", "ms", "≤ 100 ms"),
    ("kube_initial", "Kubernetes API requests from start to ready (list + watch)", "count", "–"),
    ("kube_during", "Kubernetes API requests during {kube_requests} bundle requests", "count", "0"),
]


# (attack, label (a format over the attack's fields), what else to show (a function of its fields), the bound
# issue 12 wants).
def closed_in_time(v):
    return f"{v['closed']} of {v['connections']} closed" + (
        f", the last after {v['max_open_s']} s" if v.get("max_open_s", "none") != "none" else "")


ATTACKS = [
    ("pipeline", "{connections} connections pipelining `GET /openapi.yaml` × {requests}, never reading (4 KiB "
     "receive buffer)", lambda v: f"{int(v['requests_sent']):,} requests taken", "RSS ≤ 100 MiB"),
    ("crlf_stream", "{connections} connections streaming `\\r\\n` for {seconds} s",
     lambda v: f"{float(v['mib_sent']):,.0f} MiB taken, {v['reopened']} reconnects", "RSS ≤ 100 MiB, p99 < 1,000 ms"),
    ("crlf_prefix", "1 MiB of `\\r\\n`, then `GET /readyz`", lambda v: f"answer {v['status']}", "400 or 431"),
    ("fd_exhaustion", "`RLIMIT_NOFILE` {nofile}, {waiting} connections waiting (polite client: one keep-alive "
     "connection)", lambda v: f"server CPU {int(v['cpu_ms']):,} ms in {int(v['window_ms']):,} ms", "no busy loop"),
    ("per_client", "{attempted} connections from one address, polite client from 127.0.0.2",
     lambda v: f"{v['held']} held open", "held ≤ the per-client cap"),
    ("mute", "{connections} TCP connections sending nothing, for {seconds} s", closed_in_time,
     "all closed by the timeout (10 s)"),
    ("no_client_hello", "{connections} connections stopping inside the ClientHello, for {seconds} s", closed_in_time,
     "all closed by the timeout (10 s)"),
    ("slowloris", "{connections} connections sending a head a byte a second, for {seconds} s", closed_in_time,
     "all closed by the timeout (10 s)"),
]


def attack_table(fields):
    """fields: (server, attack) -> {field: text}. Prints the "under attack" table."""
    print("Under attack (bench/attack.py; each attack against a freshly started server, a polite client asking for "
          "`/readyz` ten times a second meanwhile, each time on a new connection; RSS: the peak of VmRSS, for nginx "
          "master + workers; p99: of the polite client's requests, a failed one counting as 5,000 ms):")
    print()
    print("| attack | helm-cert-server: peak RSS (MiB) | polite p99 (ms) | nginx: peak RSS (MiB) | polite p99 (ms) "
          "| also (service; nginx) | bound (issue 12) |")
    print("|---|---:|---:|---:|---:|---|---|")
    for attack, label, also, bound in ATTACKS:
        service, nginx = fields.get(("service", attack), {}), fields.get(("nginx", attack), {})
        if not service and not nginx:
            continue
        cells, extras = [], []
        for values in (service, nginx):
            if not values:
                cells += ["–", "–"]
                extras.append("–")
                continue
            rss = values.get("peak_rss_kib")
            cells.append(f"{float(rss) / 1024:.1f}" if rss not in (None, "") else "–")
            p99 = values.get("polite_p99_ms", "none")
            p99 = "–" if p99 == "none" else f"{float(p99):,.0f}"
            failed = int(float(values.get("polite_failed", "0") or 0))
            cells.append(p99 + (f" ({failed} failed)" if failed else ""))
            try:
                text = also(values)
            except (KeyError, ValueError):
                text = "–"
            if values.get("died"):
                text += " (died!)"
            extras.append(text)
        try:
            shown = label.format(**(service or nginx))
        except KeyError:
            shown = label
        print(f"| {shown} | {' | '.join(cells)} | {extras[0]}; {extras[1]} | {bound} |")


def fmt(value, unit):
    if value is None:
        return "–"
    if unit == "rps":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:.2f}"
    if unit == "mib":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def thousands(text):
    return f"{int(text):,}" if text.isdigit() else text


def main():
    results_path, info_path = sys.argv[1], sys.argv[2]
    info = {}
    with open(info_path) as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                info[key] = value
    per_round = {}   # (server, metric) -> [values]
    once = {}        # (server, metric) -> value
    attacked = {}    # (server, attack) -> {field: text}
    with open(results_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            rnd, server, metric, value = parts
            attack = next((a for a, *_ in ATTACKS if metric.startswith(f"attack_{a}_")), None)
            if attack:
                attacked.setdefault((server, attack), {})[metric[len(f"attack_{attack}_"):]] = value
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            if rnd == "-":
                once[(server, metric)] = number
            else:
                per_round.setdefault((server, metric), []).append(number)

    def median(server, metric):
        values = per_round.get((server, metric))
        return statistics.median(values) if values else None

    def errors(server, metric):
        """Failed requests (all rounds) of the load row a metric comes from."""
        for row in ("ka_tar", "ka_key", "close", "full", "resumed", "lat"):
            if metric.startswith(row + "_"):
                return int(sum(per_round.get((server, row + "_errors"), [])))
        return 0

    if per_round or once:
        rounds = info.get("rounds", "?")
        print(f"helm-cert-server vs nginx {info.get('nginx_version', '?')}: medians of {rounds} round(s) "
              f"(A = service, B = nginx, A B A B), {info.get('duration', '?')} s per row, "
              f"wrk -t{info.get('threads', '?')} -c{info.get('connections', '?')} keep-alive; in brackets the lowest and "
              f"highest round; ratio = service / nginx of the medians.")
        print()
        print("| row | helm-cert-server | nginx | ratio | target |")
        print("|---|---:|---:|---:|---|")
        for metric, label, unit, better, target in COMPARED:
            service, nginx = median("service", metric), median("nginx", metric)
            ratio = f"{service / nginx:.2f}" if service is not None and nginx else "–"
            cells = []
            for server, value in (("service", service), ("nginx", nginx)):
                text = fmt(value, unit)
                values = per_round.get((server, metric), [])
                if len(values) > 1:
                    text += f" ({fmt(min(values), unit)}–{fmt(max(values), unit)})"
                failed = errors(server, metric)
                if failed:
                    text += f" ({failed} failed requests!)"
                cells.append(text)
            label = label.format(rate=thousands(info.get("rate", "?")))
            print(f"| {label} | {cells[0]} | {cells[1]} | {ratio} | {target} |")
        achieved = [(s, median(s, "lat_rps")) for s in ("service", "nginx")]
        achieved = [f"{value:,.0f} ({server})" for server, value in achieved if value is not None]
        if achieved:
            print()
            print(f"Latency rows: offered about {thousands(info.get('rate', '?'))} req/s, achieved "
                  f"{' and '.join(achieved)} req/s.")
        tls = [info.get(f"tls_{s}") for s in ("service", "nginx")]
        if any(tls):
            print()
            print(f"TLS negotiated by a default client: service {tls[0] or '–'}; nginx {tls[1] or '–'}.")

        print()
        print("| measured once | helm-cert-server | nginx | target |")
        print("|---|---:|---:|---|")
        for metric, label, unit, target in ONCE:
            label = label.format(**{k: thousands(info.get(k, "?")) for k in ("idle", "probe_rate", "ready_runs", "kube_requests")})
            service, nginx = once.get(("service", metric)), once.get(("nginx", metric))
            service_text = fmt(service, unit)
            if metric.startswith("kube_"):
                nginx_text = "n/a"
                if service is None and info.get("kube_reason"):
                    service_text = f"– ({info['kube_reason']})"
            else:
                nginx_text = fmt(nginx, unit)
            print(f"| {label} | {service_text} | {nginx_text} | {target} |")
        if once.get(("service", "kube_bundle_requests")) is not None:
            print()
            print(f"Kubernetes row: {once[('service', 'kube_bundle_requests')]:,.0f} bundle requests completed "
                  f"during the count.")

    if attacked:
        if per_round or once:
            print()
        attack_table(attacked)


if __name__ == "__main__":
    main()
