#!/usr/bin/env python3
"""Simulates N Vigil nodes consuming account partitions of a stream (docs/scaling.md).

A fluid model in 10 ms steps, seeded and deterministic. Transactions arrive at --rate,
spread over --partitions account partitions by a skewed (Zipf-like) weight, as
accounts are. Each node owns partitions and acks up to --node-capacity records a second
(measured here: one node's closed-loop rate); every record also pays the cross-account
re-key hop (card, device, ip windows on their own partitions), which costs capacity
(--rekey-cost, a fraction of a record's work) and latency (--rekey-ms). At --kill-at one
node dies: its partitions wait for the stream's consumer lease to expire (--lease) and
for the new owners to rebuild their state (--rebuild-per-partition seconds), while the
stream keeps their records; then the survivors drain the backlog with their spare capacity.

Prints, per node count: sustained acks/s, the worst partition's extra ack delay at the
failover, the time until the backlog is gone, and whether the survivors can keep up.
Usage: scripts/scaling_sim.py [--nodes 1,2,4,8,16] [--rate 150000] ...
"""
import argparse
import random


def weights(partitions, seed):
    rng = random.Random(seed)
    raw = [1.0 / (i + 1) ** 0.6 for i in range(partitions)]
    rng.shuffle(raw)
    total = sum(raw)
    return [w / total for w in raw]


def simulate(nodes, args):
    step = 0.01
    share = weights(args.partitions, args.seed)
    owner = [p % nodes for p in range(args.partitions)]
    per_record = 1.0 + args.rekey_cost
    capacity = args.node_capacity / per_record  # records a second a node completes
    backlog = [0.0] * args.partitions
    acked = 0.0
    down_until = {}
    killed = None
    worst_delay = 0.0
    drained_at = None
    t = 0.0
    while t < args.duration:
        if killed is None and nodes > 1 and t >= args.kill_at:
            killed = 0
            moved = [p for p in range(args.partitions) if owner[p] == killed]
            survivors = list(range(1, nodes))
            per_node = {}
            for i, p in enumerate(moved):
                owner[p] = survivors[i % len(survivors)]
                per_node[owner[p]] = per_node.get(owner[p], 0) + 1
            # New owners rebuild the moved partitions one after another.
            for p in moved:
                down_until[p] = t + args.lease + args.rebuild_per_partition * per_node[owner[p]]
        for p in range(args.partitions):
            backlog[p] += args.rate * share[p] * step
        load = [[] for _ in range(nodes)]
        for p in range(args.partitions):
            if down_until.get(p, 0) <= t and backlog[p] > 0 and owner[p] != killed:
                load[owner[p]].append(p)
        for n, parts in enumerate(load):
            if n == killed or not parts:
                continue
            budget = capacity * step
            want = sum(backlog[p] for p in parts)
            done = min(budget, want)
            for p in parts:
                take = done * backlog[p] / want
                backlog[p] -= take
                acked += take
        for p in range(args.partitions):
            # Little's law: the wait of a partition's newest record.
            delay = backlog[p] / max(args.rate * share[p], 1e-9)
            worst_delay = max(worst_delay, delay)
        if killed is not None and drained_at is None and t > args.kill_at + args.lease:
            if all(b < args.rate * share[p] * 0.05 for p, b in enumerate(backlog)):
                drained_at = t
        t += step
    # Per node: a node given hot partitions saturates even when the total would do.
    node_load = [0.0] * nodes
    for p in range(args.partitions):
        node_load[owner[p]] += args.rate * share[p]
    keeps_up = all(node_load[n] <= capacity for n in range(nodes) if n != killed)
    busiest = max(node_load[n] for n in range(nodes) if n != killed) / capacity
    return {
        "nodes": nodes,
        "acks_per_s": acked / args.duration,
        "worst_extra_delay_s": worst_delay,
        "recovered_after_s": (drained_at - args.kill_at) if drained_at is not None else None,
        "survivors_keep_up": keeps_up,
        "busiest": busiest,
        "ack_latency_ms": args.node_ms + args.rekey_ms,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", default="1,2,4,8,16")
    parser.add_argument("--rate", type=float, default=150_000, help="offered transactions a second")
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--node-capacity", type=float, default=36_000, help="acks/s of one node (docs/benchmarks.md)")
    parser.add_argument("--rekey-cost", type=float, default=0.25, help="extra work per record for the card/device/ip hop")
    parser.add_argument("--rekey-ms", type=float, default=2.0, help="latency of the re-key hop (publish, consume)")
    parser.add_argument("--node-ms", type=float, default=3.0, help="p50 ack latency of one node at moderate load")
    parser.add_argument("--lease", type=float, default=3.0, help="seconds until a dead node's partitions are reassigned")
    parser.add_argument("--rebuild-per-partition", type=float, default=0.15, help="seconds to rebuild one partition's state")
    parser.add_argument("--kill-at", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print("| nodes | offered/s | acked/s (mean over run) | worst ack delay | backlog gone after the kill | busiest survivor | p50 ack incl. re-key |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for nodes in [int(n) for n in args.nodes.split(",")]:
        r = simulate(nodes, args)
        recovered = "n/a (no failover)" if nodes == 1 else (f"{r['recovered_after_s']:.1f} s" if r["recovered_after_s"] is not None else "never")
        print(
            f"| {nodes} | {args.rate:,.0f} | {r['acks_per_s']:,.0f} | {r['worst_extra_delay_s']:.1f} s | {recovered} | "
            f"{r['busiest']:.0%} of capacity | {r['ack_latency_ms']:.0f} ms |"
        )


if __name__ == "__main__":
    main()
