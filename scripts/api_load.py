#!/usr/bin/env python3
"""Investigator-API load for scripts/bench-api.sh.

first-pages: the first page of GET /api/v1/alerts unfiltered and with each filter, one
request at a time on a keep-alive connection; prints percentiles per query (ms) as JSON.
steady: a fixed rate of mixed investigator requests (lists, an alert's detail, a case,
the rules' figures) from a schedule, so a slow answer does not lower the offered rate.
"""
import argparse, http.client, json, threading, time

FIRST_PAGES = [
    ("unfiltered", "/api/v1/alerts"),
    ("status=open", "/api/v1/alerts?status=open"),
    ("severity=critical", "/api/v1/alerts?severity=critical"),
    ("rule=impossible_travel", "/api/v1/alerts?rule=impossible_travel"),
    ("assignee=analyst-3", "/api/v1/alerts?assignee=analyst-3"),
    ("account=acc-4240", "/api/v1/alerts?account=acc-4240"),
    ("cases status=open", "/api/v1/cases?status=open"),
]


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def get(conn, path, token):
    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
    return body


def first_pages(args):
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    result = {}
    for name, path in FIRST_PAGES:
        for _ in range(20):  # warm the connection, the plan cache and the buffers
            get(conn, path, args.token)
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            get(conn, path, args.token)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        result[name] = {"requests": len(times), "p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2),
                        "max_ms": round(times[-1], 2)}
    print(json.dumps(result, indent=1))


def steady(args):
    conn0 = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    page = json.loads(get(conn0, "/api/v1/alerts?limit=100", args.token))
    alert_ids = [item["id"] for item in page["items"]] or [1]
    case_ids = [item["case_id"] for item in page["items"]] or [1]
    paths = ["/api/v1/alerts", "/api/v1/alerts?status=open", "/api/v1/cases?status=open", None, None, "/api/v1/alerts?severity=high"]
    threads, results, lock = 8, [], threading.Lock()
    interval = threads / float(args.rate)
    deadline = time.monotonic() + args.seconds

    def worker(index):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        due = time.monotonic() + index * interval / threads
        n = index
        while due < deadline:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            path = paths[n % len(paths)]
            if path is None:
                path = f"/api/v1/alerts/{alert_ids[n % len(alert_ids)]}" if n % 2 else f"/api/v1/cases/{case_ids[n % len(case_ids)]}"
            start = time.perf_counter()
            get(conn, path, args.token)
            with lock:
                results.append((time.perf_counter() - start) * 1000)
            n += threads
            due += interval

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.sort()
    print(json.dumps({"requests": len(results), "offered_per_second": args.rate, "achieved_per_second": round(len(results) / args.seconds, 1),
                      "p50_ms": round(percentile(results, 50), 2), "p99_ms": round(percentile(results, 99), 2)}))


parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=["first-pages", "steady"])
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--requests", type=int, default=2000)
parser.add_argument("--rate", type=float, default=200)
parser.add_argument("--seconds", type=float, default=20)
args = parser.parse_args()
first_pages(args) if args.mode == "first-pages" else steady(args)
