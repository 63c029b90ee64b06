#!/usr/bin/env python3
"""Least-loaded against round-robin routing on a loopback cluster of real flover processes.

For each policy (flover.cluster.routing) this starts a frontend (flover serve, role frontend) and two
workers (flover node) on 127.0.0.1, waits until the frontend's /ready lists both serving, then sends
the same seeded stream of completions: Poisson arrivals, output lengths drawn from a heavy-tailed
(uneven) distribution, greedy, ignore_eos. It reports each request's end-to-end latency and the
mean, median and p90 per policy, and the ratio of the means. Policies alternate over ROUNDS rounds.

Usage: scripts/bench-cluster-routing.py [FLOVER]   (default Flover.Host/bin/Release/net10.0/flover)
Environment: ROUNDS [2], REQUESTS [48], RATE [8] requests/s, PRESET [tiny], SEED [1].
"""
import json, os, random, re, statistics, sys, threading, time, urllib.request

from flover_loopback import complete, free_port, start as start_process, wait_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOVER = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Flover.Host/bin/Release/net10.0/flover")
ROUNDS = int(os.environ.get("ROUNDS", "2"))
REQUESTS = int(os.environ.get("REQUESTS", "48"))
RATE = float(os.environ.get("RATE", "8"))
PRESET = os.environ.get("PRESET", "tiny")
SEED = int(os.environ.get("SEED", "1"))


def start(command, seed_port, port, *settings):
    return start_process(FLOVER, PRESET, command, seed_port, port, "flover.engine.threads = 1", *settings)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def workload():
    rng = random.Random(SEED)
    gaps = [rng.expovariate(RATE) for _ in range(REQUESTS)]
    # Uneven lengths: most short, a few long (Pareto-like), capped by the tiny preset's 256 positions.
    lengths = [min(230, int(8 * rng.paretovariate(1.2))) for _ in range(REQUESTS)]
    return gaps, lengths


def run(policy):
    seed = free_port()
    routing = f"flover.cluster.routing = {policy}"
    frontend = start("serve", seed, seed, "akka.cluster.roles = [frontend]", routing)
    workers = [start("node", seed, 0, "akka.cluster.roles = [worker]") for _ in range(2)]
    try:
        base = wait_line(frontend, "flover serve: ready at ", 120).split()[4]
        for w in workers:
            wait_line(w, "flover node: worker ", 120)
        while True:
            try:
                ready = get(base + "/ready")
                if len([w for w in ready.get("workers", []) if w["serving"]]) == 2:
                    break
            except Exception:
                pass
            time.sleep(0.2)
        gaps, lengths = workload()
        latencies = [None] * REQUESTS
        threads = []

        def one(i):
            t0 = time.perf_counter()
            complete(base, f"Request {i} of the routing benchmark:", lengths[i])
            latencies[i] = time.perf_counter() - t0

        for i in range(REQUESTS):
            time.sleep(gaps[i])
            t = threading.Thread(target=one, args=(i,))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        return latencies, sum(lengths)
    finally:
        for p in [frontend, *workers]:
            p.kill()
            p.wait()


def main():
    results = {"least-loaded": [], "round-robin": []}
    for r in range(ROUNDS):
        for policy in (["least-loaded", "round-robin"] if r % 2 == 0 else ["round-robin", "least-loaded"]):
            load = os.getloadavg()[0]
            latencies, tokens = run(policy)
            mean = statistics.mean(latencies)
            results[policy].append(mean)
            print(f"round {r + 1} {policy:12} load {load:4.2f}: {REQUESTS} requests, {tokens} tokens; latency mean {mean:.3f} s, "
                  f"median {statistics.median(latencies):.3f} s, p90 {sorted(latencies)[int(0.9 * REQUESTS) - 1]:.3f} s", flush=True)
    ll, rr = statistics.mean(results["least-loaded"]), statistics.mean(results["round-robin"])
    print(f"mean latency over rounds: least-loaded {ll:.3f} s, round-robin {rr:.3f} s; round-robin / least-loaded = {rr / ll:.2f}x")


if __name__ == "__main__":
    main()
