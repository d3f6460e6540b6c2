"""Turns one run of scripts/bench_peers.sh (a folder of raw JSON results) into a Markdown table.

    summarize.py RESULTS_DIR --models deit_tiny,deit_small,vit_base

Reads RESULTS_DIR/<model>_b<batch>_t<threads>_<engine>.json (engine: vitscope, onnxruntime,
pytorch), RESULTS_DIR/check_<model>.json and RESULTS_DIR/load.tsv; prints the table and writes it to
RESULTS_DIR/table.md.
"""
import argparse
import glob
import json
import os
import re
import statistics

ENGINES = ("vitscope", "onnxruntime", "pytorch")
BF16_ENGINE = "vitscopebf"  # vitscope --precision bf16
TORCH_DEFAULT_ENGINE = "pytorchdefault"  # PyTorch as installed (OpenMP's default wait policy)
RESULT_NAME = re.compile(r"^(?P<model>.+)_b(?P<batch>\d+)_t(?P<threads>\d+)_(?P<engine>[a-z]+)\.json$")
DESCRIPTIONS = {
    "deit_tiny": "DeiT-Tiny/16 (real weights)",
    "deit_small": "DeiT-Small/16 (random weights)",
    "vit_base": "ViT-Base/16 (random weights)",
}


def load_results(folder):
    """{(model, batch, threads): {engine: result}}"""
    table = {}
    for path in glob.glob(os.path.join(folder, "*_b*_t*_*.json")):
        match = RESULT_NAME.match(os.path.basename(path))
        if not match or match["engine"] not in ENGINES + (BF16_ENGINE, TORCH_DEFAULT_ENGINE):
            continue
        with open(path) as f:
            result = json.load(f)
        key = (match["model"], int(match["batch"]), int(match["threads"]))
        table.setdefault(key, {})[match["engine"]] = result
    return table


def load_average(folder):
    """{(model, batch, threads): mean 1-minute load average when its engines started}"""
    samples = {}
    path = os.path.join(folder, "load.tsv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                model, batch, threads, _engine, load = line.split()
                samples.setdefault((model, int(batch), int(threads)), []).append(float(load))
    return {key: statistics.mean(values) for key, values in samples.items()}


def fmt(value, digits=2):
    return "—" if value is None else f"{value:.{digits}f}"


def ratio(numerator, denominator):
    return None if numerator is None or not denominator else numerator / denominator


def per_image(results, engine):
    result = results.get(engine)
    return None if result is None else result.get("median_ms_per_image")


def check_lines(folder, models):
    lines = []
    for model in models:
        path = os.path.join(folder, f"check_{model}.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            check = json.load(f)
        ort, vs = check["ort_vs_torch"], check["vitscope_vs_torch"]
        probability = vs["max_abs_probability_diff"]
        lines.append(
            f"- {model}: {'passed' if check['passed'] else 'FAILED'} — ONNX Runtime vs PyTorch max |logit diff| "
            f"{ort['max_abs_logit_diff']:.1e} over {ort['images']} images (logits up to {ort['max_abs_logit']:.1f}); "
            f"vitscope vs PyTorch on {check['photo']}: top-5 {'identical' if vs['same_top5'] else 'DIFFERENT'} "
            f"{vs['vitscope_top5']}, max |probability diff| "
            f"{'—' if probability is None else f'{probability:.1e}'} "
            f"(top-1 p = {vs['torch_top5_probabilities'][0]:.3f})")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--models", default=",".join(DESCRIPTIONS))
    args = parser.parse_args()
    models = args.models.split(",")

    table = load_results(args.results)
    loads = load_average(args.results)
    order = {m: i for i, m in enumerate(models)}
    keys = sorted(table, key=lambda k: (order.get(k[0], len(order)), k[0], k[1], -k[2]))

    versions, torch_wait_policy = {}, "?"
    for results in table.values():
        for engine, result in results.items():
            versions.setdefault(engine, result.get("engine_version"))
        if "pytorch" in results:
            torch_wait_policy = results["pytorch"].get("environment", {}).get("OMP_WAIT_POLICY", "?")
    lines = [
        "| model | batch | threads | vitscope ms/img | ONNX Runtime ms/img | PyTorch ms/img "
        "| vitscope/ORT | vitscope/PyTorch | PyTorch as installed ms/img | vitscope/PyTorch as installed "
        "| vitscope GFLOP/s | vitscope bf16 ms/img | bf16/ORT fp32 | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        model, batch, threads = key
        results = table[key]
        ours, ort, torch = (per_image(results, e) for e in ENGINES)
        gflops = results.get("vitscope", {}).get("gflops")
        bf16 = per_image(results, BF16_ENGINE)
        torch_default = per_image(results, TORCH_DEFAULT_ENGINE)
        lines.append(
            f"| {DESCRIPTIONS.get(model, model)} | {batch} | {threads} | {fmt(ours)} | {fmt(ort)} | {fmt(torch)} "
            f"| {fmt(ratio(ours, ort))} | {fmt(ratio(ours, torch))} | {fmt(torch_default)} "
            f"| {fmt(ratio(ours, torch_default))} | {fmt(gflops, 1)} | {fmt(bf16)} "
            f"| {fmt(ratio(bf16, ort))} | {fmt(loads.get(key), 1)} |")
    lines += [
        "",
        "Median forward-pass time per image (batch median / batch size); ratio < 1: vitscope is faster. "
        "load avg: the 1-minute load average when the row's engines started (2 cores).",
        "Engines: vitscope, ONNX Runtime " + str(versions.get("onnxruntime", "?")) + " (onnxruntime-node, CPU), "
        "PyTorch " + str(versions.get("pytorch", "?")) + " (eager, OpenBLAS pthreads, "
        "OMP_WAIT_POLICY=" + torch_wait_policy + "); \"PyTorch as installed\": the same without OMP_WAIT_POLICY "
        "(2 threads only; with 1 thread the two are the same).",
    ]
    checks = check_lines(args.results, models)
    if checks:
        lines += ["", "Agreement checks (before timing):"] + checks
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.results, "table.md"), "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
