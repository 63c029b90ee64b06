#!/usr/bin/env python3
"""Decode step time of tensor parallelism across real processes on loopback, beside the same group in one process.

For each configuration this starts flover processes on 127.0.0.1: TP 1 (one flover serve), TP N in one
process (one flover serve, flover.parallel.tensor = N), and TP N across N processes (N - 1 shard nodes,
flover node with role shard, and a flover serve holding rank 0 and the decode loop, the others listed in
flover.parallel.nodes; collectives over the TCP mesh, plans over Akka.Remote). After a warm-up it sends
BATCH greedy completions of STEPS tokens at once (ignore_eos) for each batch size and reads the engine's
flover_iteration_seconds histogram from /metrics before and after: the mean decode-loop iteration (one
fused step, its prefill included once per request) in ms. Configurations alternate over ROUNDS rounds.

Kernel threads: TP 1 and TP N in one process get THREADS (each shard THREADS / N, at least 1); across
processes every rank's process gets 1, as the ranks of one process with THREADS = N would.

Usage: scripts/bench-tp-processes.py [FLOVER]   (default Flover.Host/bin/Release/net10.0/flover)
Environment: ROUNDS [2], STEPS [64], BATCHES [1,8], PRESET [gpt2], THREADS [2], TP [2,3].
"""
import json, os, re, sys, threading, time, urllib.error, urllib.request

from flover_loopback import complete, free_port, start as start_process, wait_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOVER = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Flover.Host/bin/Release/net10.0/flover")
ROUNDS = int(os.environ.get("ROUNDS", "2"))
STEPS = int(os.environ.get("STEPS", "64"))
BATCHES = [int(b) for b in os.environ.get("BATCHES", "1,8").split(",")]
PRESET = os.environ.get("PRESET", "gpt2")
THREADS = int(os.environ.get("THREADS", "2"))
TPS = [int(t) for t in os.environ.get("TP", "2,3").split(",")]


def start(command, seed_port, port, *settings):
    return start_process(FLOVER, PRESET, command, seed_port, port, "flover.engine.min-step-interval = 0s", *settings)


def iterations(base):
    """(sum in seconds, count) of flover_iteration_seconds."""
    with urllib.request.urlopen(base + "/metrics", timeout=30) as r:
        text = r.read().decode()
    total = float(re.search(r"^flover_iteration_seconds_sum(?:\{[^}]*\})? (\S+)$", text, re.M).group(1))
    count = float(re.search(r"^flover_iteration_seconds_count(?:\{[^}]*\})? (\S+)$", text, re.M).group(1))
    return total, count


def batch(base, size, tokens):
    threads = [threading.Thread(target=complete, args=(base, f"Request {i} of the step-time benchmark:", tokens)) for i in range(size)]
    for t in threads: t.start()
    for t in threads: t.join()


def measure(tp, across):
    seed = free_port()
    processes = []
    try:
        if across:
            ports = [free_port() for _ in range(tp - 1)]
            shards = [start("node", ports[0], p, "akka.cluster.roles = [shard]", f"flover.parallel.tensor = {tp}", "flover.engine.threads = 1") for p in ports]
            processes += shards
            for s in shards:
                wait_line(s, "flover node: shard node ", 300)
            nodes = ", ".join(f'"akka.tcp://flover@127.0.0.1:{p}"' for p in ports)
            serve = start("serve", ports[0], 0, f"flover.parallel.tensor = {tp}", f"flover.parallel.nodes = [{nodes}]", "flover.engine.threads = 1")
        else:
            serve = start("serve", seed, seed, f"flover.parallel.tensor = {tp}", f"flover.engine.threads = {THREADS}")
        processes.append(serve)
        base = wait_line(serve, "flover serve: ready at ", 300).split()[4]
        # Warm-up (JIT, placement across nodes): retried while the group is being placed.
        for _ in range(120):
            try:
                batch(base, max(BATCHES), 8)
                break
            except urllib.error.HTTPError:
                time.sleep(1)
        result = {}
        for size in BATCHES:
            before = iterations(base)
            batch(base, size, STEPS)
            after = iterations(base)
            result[size] = 1000 * (after[0] - before[0]) / (after[1] - before[1])
        return result
    finally:
        for p in processes:
            p.kill()
            p.wait()


def main():
    configs = [(1, False)] + [(tp, across) for tp in TPS for across in (False, True)]
    rows = {c: [] for c in configs}
    for r in range(ROUNDS):
        for c in configs:
            rows[c].append(measure(*c))
            print(f"round {r + 1} TP {c[0]} {'across ' + str(c[0]) + ' processes' if c[1] else 'one process'}: "
                  + ", ".join(f"batch {b} {rows[c][-1][b]:.1f} ms" for b in BATCHES), flush=True)
    print(f"\nmean iteration ms (each round), {PRESET}, {STEPS} tokens per request")
    for c, results in rows.items():
        name = f"TP {c[0]} " + (f"across {c[0]} processes" if c[1] else "one process")
        print(f"{name:28}" + "".join(f" | batch {b}: " + ", ".join(f"{x[b]:.1f}" for x in results) for b in BATCHES))


if __name__ == "__main__":
    main()
