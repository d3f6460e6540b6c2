#!/usr/bin/python3
"""Cost of windowed attention against full attention, measured with `vitscope bench --profile`.

    scripts/bench_window.py [--vitscope build/vitscope] [--model deit_tiny_patch16_224]
                            [--windows 1,3,5,7,9,15,27] [--batch 1] [--threads 2] [--rounds 3]
                            [--iterations 30] [--grid 14] [--prefix 1]

For each window k (and full attention, k = 0) it runs `vitscope bench --profile --window k` in
--rounds alternating rounds (so that every setting meets the machine's drift alike) and prints a
Markdown table: the keys a query sees on average (over all queries of the 224×224 input: prefix
tokens see all T tokens, patch queries the clipped k×k window plus the prefix tokens), that as a
share of full attention's, the attention stage's time per batch (mean over the profiled runs; the
median of the rounds) and its ratio to full attention, and the whole forward pass's median time per
image. Windowed attention skips invisible keys: gathering a query segment's keys costs memory
traffic that full attention does not have, so the time falls less than the keys do.
"""
import argparse
import re
import statistics
import subprocess
import sys


def visible_keys(k, grid=14, prefix=1):
    """Mean keys per query for a k×k window (0: full attention) on a grid×grid patch grid."""
    tokens = prefix + grid * grid
    if k == 0:
        return float(tokens)
    h = k // 2
    span = [min(grid - 1, i + h) - max(0, i - h) + 1 for i in range(grid)]
    patch_keys = sum(a * b for a in span for b in span) + prefix * grid * grid
    return (prefix * tokens + patch_keys) / tokens


def run(vitscope, model, k, batch, threads, iterations):
    out = subprocess.run([vitscope, "bench", "--model", model, "--batch", str(batch), "--threads",
                          str(threads), "--iterations", str(iterations), "--warmup", "3", "--profile",
                          "--window", str(k)], check=True, capture_output=True, text=True).stdout
    attention = float(re.search(r"^\s+attention\s+([\d.]+) ms/batch", out, re.M).group(1))
    per_image = float(re.search(r"([\d.]+) ms/image", out).group(1))
    return attention, per_image


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vitscope", default="build/vitscope")
    parser.add_argument("--model", default="deit_tiny_patch16_224")
    parser.add_argument("--windows", default="1,3,5,7,9,15,27")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--grid", type=int, default=14, help="patch grid side at the model's input size")
    parser.add_argument("--prefix", type=int, default=1, help="class (and distillation) tokens")
    args = parser.parse_args()
    windows = [0] + [int(k) for k in args.windows.split(",")]
    samples = {k: [] for k in windows}
    for r in range(args.rounds):
        for k in windows:
            samples[k].append(run(args.vitscope, args.model, k, args.batch, args.threads, args.iterations))
            print(f"round {r + 1}, window {k}: attention {samples[k][-1][0]:.3f} ms/batch", file=sys.stderr)
    full_attention = statistics.median(a for a, _ in samples[0])
    keys_of = lambda k: visible_keys(k, args.grid, args.prefix)  # noqa: E731
    print(f"{args.model}, batch {args.batch}, {args.threads} threads, {args.rounds} rounds of "
          f"{args.iterations} runs\n")
    print("| window | keys per query | share of full | attention ms/batch | attention / full | "
          "forward ms/image |")
    print("|---:|---:|---:|---:|---:|---:|")
    for k in windows:
        attention = statistics.median(a for a, _ in samples[k])
        forward = statistics.median(f for _, f in samples[k])
        keys = keys_of(k)
        print(f"| {'full' if k == 0 else k} | {keys:.1f} | {keys / keys_of(0):.2f} | {attention:.3f} "
              f"| {attention / full_attention:.2f} | {forward:.3f} |")


if __name__ == "__main__":
    main()
