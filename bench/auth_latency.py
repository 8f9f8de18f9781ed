#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Auth latency of a running tarn: a valid, an unknown, a wrong-but-well-formed and a revoked token, each over one
keep-alive connection, side by side with an unauthenticated /health request as the floor.
Usage: bench/auth_latency.py URL ADMIN_TOKEN [REQUESTS]"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def timed(conn, path, token, n):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    samples, status = [], None
    for _ in range(n):
        t0 = time.perf_counter_ns()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        status = resp.status
    samples.sort()
    return status, statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main():
    url, admin = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    conn.request("POST", "/api/2.0/token/create", body=json.dumps({"comment": "bench"}),
                 headers={"Authorization": f"Bearer {admin}"})
    created = json.loads(conn.getresponse().read())
    conn.request("POST", "/api/2.0/token/delete", body=json.dumps({"token_id": created["token_info"]["token_id"]}),
                 headers={"Authorization": f"Bearer {admin}"})
    conn.getresponse().read()
    cases = [
        ("/health, no auth (floor)", "/health", None),
        ("valid token", "/api/2.0/preview/scim/v2/Me", admin),
        ("unknown token", "/api/2.0/preview/scim/v2/Me", "dapi" + "0" * 32),
        ("wrong token, admin prefix", "/api/2.0/preview/scim/v2/Me", admin[:-1] + ("0" if admin[-1] != "0" else "1")),
        ("revoked token", "/api/2.0/preview/scim/v2/Me", created["token_value"]),
    ]
    print(f"{'case':30} {'status':>6} {'median ms':>10} {'p99 ms':>8}   ({n} requests each, one keep-alive connection)")
    for name, path, token in cases:
        status, median, p99 = timed(conn, path, token, n)
        print(f"{name:30} {status:>6} {median:>10.3f} {p99:>8.3f}")


if __name__ == "__main__":
    main()
