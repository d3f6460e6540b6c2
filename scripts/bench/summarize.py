"""Turns one run of scripts/bench_peers.sh (a folder of raw JSON results) into a Markdown table.

    summarize.py RESULTS_DIR --models deit_tiny,deit_small,vit_base,mobilenet_v1,resnet18,resnet50

Reads RESULTS_DIR/<model>_b<batch>_t<threads>_<engine>[_r<round>].json (engine: vitscope,
vitscopebf, vitscopeint8, onnxruntime, onnxruntimeint8, pytorch, pytorchdefault, vitscopebase; engines measured
in several rounds have one file per round), RESULTS_DIR/check_<model>.json,
RESULTS_DIR/check_int8_<model>.json and RESULTS_DIR/load.tsv; prints the table and writes it
to RESULTS_DIR/table.md. An engine measured in rounds is reported as the median of its per-round
medians, and the vitscope/ORT column also gives the range of the per-round ratios. An engine that was
not measured for a row (the CNNs have no bf16 or int8 runs) shows "—", and so do its ratios. When another
build of vitscope was timed too (vitscopebase: bench_peers.sh --baseline-build), a second table sets
it against this one, row by row.
"""
import argparse
import glob
import json
import os
import re
import statistics

ENGINES = ("vitscope", "onnxruntime", "pytorch")
BF16_ENGINE = "vitscopebf"  # vitscope --precision bf16
INT8_ENGINE = "vitscopeint8"  # vitscope --precision int8
ORT_INT8_ENGINE = "onnxruntimeint8"  # ONNX Runtime on the dynamically quantized graph (quantize_onnx_dynamic.py)
TORCH_DEFAULT_ENGINE = "pytorchdefault"  # PyTorch as installed (OpenMP's default wait policy)
BASELINE_ENGINE = "vitscopebase"  # another build of vitscope, fp32 (--baseline-build)
RESULT_NAME = re.compile(
    r"^(?P<model>.+)_b(?P<batch>\d+)_t(?P<threads>\d+)_(?P<engine>[a-z][a-z0-9]*)(?:_r(?P<round>\d+))?\.json$")
DESCRIPTIONS = {
    "deit_tiny": "DeiT-Tiny/16 (real weights)",
    "deit_small": "DeiT-Small/16 (random weights)",
    "vit_base": "ViT-Base/16 (random weights)",
    "mobilenet_v1": "MobileNet v1 0.75/224 (real weights)",
    "resnet18": "ResNet-18 (random weights)",
    "resnet50": "ResNet-50 (random weights)",
}

CNNS = ("mobilenet_v1", "resnet18", "resnet50")  # timed in fp32 only


def load_results(folder):
    """{(model, batch, threads): {engine: {round: result}}} (round 0 when measured once)"""
    table = {}
    for path in glob.glob(os.path.join(folder, "*_b*_t*_*.json")):
        match = RESULT_NAME.match(os.path.basename(path))
        if not match or match["engine"] not in ENGINES + (BF16_ENGINE, INT8_ENGINE, ORT_INT8_ENGINE,
                                                          TORCH_DEFAULT_ENGINE, BASELINE_ENGINE):
            continue
        with open(path) as f:
            result = json.load(f)
        key = (match["model"], int(match["batch"]), int(match["threads"]))
        table.setdefault(key, {}).setdefault(match["engine"], {})[int(match["round"] or 0)] = result
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


def over_rounds(results, engine, field="median_ms_per_image"):
    """A field of the engine's result (by default its median ms per image); over several rounds,
    the median of the per-round values."""
    rounds = results.get(engine)
    values = [r[field] for r in (rounds or {}).values() if r.get(field) is not None]
    return statistics.median(values) if values else None


def round_ratios(results, numerator, denominator):
    """'min–max' of numerator/denominator over the rounds both were measured in, or '—'."""
    a, b = results.get(numerator, {}), results.get(denominator, {})
    ratios = sorted(a[r]["median_ms_per_image"] / b[r]["median_ms_per_image"]
                    for r in a if r in b and r > 0)
    return f"{ratios[0]:.2f}–{ratios[-1]:.2f}" if len(ratios) > 1 else "—"


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
        path = os.path.join(folder, f"check_int8_{model}.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            check = json.load(f)
        if not check["passed"]:
            lines.append(f"- {model} int8: FAILED — {'; '.join(check['failures'])}")
            continue
        text = f"- {model} int8: passed — ONNX Runtime int8 vs ONNX Runtime fp32"
        quantization = check.get("quantization")
        if quantization:
            text += f" ({quantization['quantized_nodes']} MatMul/Conv nodes in int8, weights {quantization['granularity']})"
        if "top1_agreement" in check:
            text += (f" on {check['images']} photos of {check['image_source']}: top-1 agreement "
                     f"{check['top1_agreeing_images']}/{check['images']}, mean KL(fp32 || int8) "
                     f"{check['mean_kl_fp32_int8']:.1e} (max {check['max_kl_fp32_int8']:.1e})")
            if "top1_accuracy_fp32" in check:
                text += (f", top-1 accuracy fp32 {check['top1_accuracy_fp32']:.2f}, "
                         f"int8 {check['top1_accuracy_int8']:.2f}")
        else:
            text += (f" on {check['images']} images ({check['image_source']}): logit correlation "
                     f">= {check['min_logit_correlation']:.4f}")
        text += (f", max |logit diff| {check['max_abs_logit_diff']:.2f} "
                 f"(logits up to {check['max_abs_logit']:.1f})")
        lines.append(text)
    return lines


def ort_int8_granularity(folder, models):
    """How the int8 graphs' weights were quantized (from the int8 checks' record of the quantizer)."""
    found = set()
    for model in models:
        path = os.path.join(folder, f"check_int8_{model}.json")
        if os.path.exists(path):
            with open(path) as f:
                found.add(json.load(f).get("quantization", {}).get("granularity", "?"))
    return "/".join(sorted(found)) if found else "?"


def baseline_lines(table, keys):
    """The before/after table, when a baseline build was timed in the same rounds; else nothing."""
    rows = [key for key in keys if BASELINE_ENGINE in table[key]]
    if not rows:
        return []
    lines = [
        "",
        "Before and after, timed in the same alternating rounds (fp32): the baseline build (before) and "
        "this build (after), each the median of its round medians; ORT as in the table above.",
        "",
        "| model | batch | threads | before ms/img | after ms/img | after/before | after/before per round "
        "| before/ORT | after/ORT |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in rows:
        model, batch, threads = key
        results = table[key]
        before, after, ort = (over_rounds(results, e) for e in (BASELINE_ENGINE, "vitscope", "onnxruntime"))
        lines.append(
            f"| {DESCRIPTIONS.get(model, model)} | {batch} | {threads} | {fmt(before)} | {fmt(after)} "
            f"| {fmt(ratio(after, before))} | {round_ratios(results, 'vitscope', BASELINE_ENGINE)} "
            f"| {fmt(ratio(before, ort))} | {fmt(ratio(after, ort))} |")
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
    rounds = 1
    for results in table.values():
        for engine, by_round in results.items():
            result = next(iter(by_round.values()))
            versions.setdefault(engine, result.get("engine_version"))
            rounds = max(rounds, len(by_round))
        if "pytorch" in results:
            torch_wait_policy = next(iter(results["pytorch"].values())).get("environment", {}).get(
                "OMP_WAIT_POLICY", "?")
    lines = [
        "| model | batch | threads | vitscope ms/img | ONNX Runtime ms/img | PyTorch ms/img "
        "| vitscope/ORT | vitscope/ORT per round | vitscope/PyTorch | PyTorch as installed ms/img "
        "| vitscope/PyTorch as installed | vitscope GFLOP/s | vitscope bf16 ms/img | bf16/ORT fp32 "
        "| int8 ms/img | ORT int8 ms/img | int8/ORT fp32 | int8/ORT int8 | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        model, batch, threads = key
        results = table[key]
        ours, ort, torch = (over_rounds(results, e) for e in ENGINES)
        gflops = over_rounds(results, "vitscope", "gflops")
        bf16 = over_rounds(results, BF16_ENGINE)
        int8, ort_int8 = over_rounds(results, INT8_ENGINE), over_rounds(results, ORT_INT8_ENGINE)
        torch_default = over_rounds(results, TORCH_DEFAULT_ENGINE)
        lines.append(
            f"| {DESCRIPTIONS.get(model, model)} | {batch} | {threads} | {fmt(ours)} | {fmt(ort)} | {fmt(torch)} "
            f"| {fmt(ratio(ours, ort))} | {round_ratios(results, 'vitscope', 'onnxruntime')} "
            f"| {fmt(ratio(ours, torch))} | {fmt(torch_default)} "
            f"| {fmt(ratio(ours, torch_default))} | {fmt(gflops, 1)} | {fmt(bf16)} "
            f"| {fmt(ratio(bf16, ort))} | {fmt(int8)} | {fmt(ort_int8)} | {fmt(ratio(int8, ort))} "
            f"| {fmt(ratio(int8, ort_int8))} | {fmt(loads.get(key), 1)} |")
    lines += [
        "",
        "Median forward-pass time per image (batch median / batch size); ratio < 1: vitscope is faster. "
        + (f"vitscope (fp32, bf16, int8) and ONNX Runtime (fp32, int8) were measured in {rounds} alternating "
           "rounds per row: "
           "each is the median of its round medians, and \"per round\" is the range of the paired ratios. "
           "PyTorch was measured once per row. " if rounds > 1 else "") +
        "load avg: the 1-minute load average when the row's engines started (2 cores).",
        "Engines: vitscope, ONNX Runtime " + str(versions.get("onnxruntime", "?")) + " (onnxruntime-node, CPU), "
        "PyTorch " + str(versions.get("pytorch", "?")) + " (eager, OpenBLAS pthreads, "
        "OMP_WAIT_POLICY=" + torch_wait_policy + "); \"PyTorch as installed\": the same without OMP_WAIT_POLICY "
        "(2 threads only; with 1 thread the two are the same).",
    ]
    if any(INT8_ENGINE in results or ORT_INT8_ENGINE in results for results in table.values()):
        lines.append(
            "int8: vitscope --precision int8 (every linear layer in int8 with int32 sums: qkv, proj, fc1, fc2, the "
            "patch embedding and the head; weights per output channel, activations per token, symmetric; "
            "attention's products in bf16). "
            "ORT int8: ONNX Runtime on the graph scripts/bench/quantize_onnx_dynamic.py writes as quantize_dynamic "
            "would (qkv, proj, fc1, fc2: weights int8 symmetric " + ort_int8_granularity(args.results, models)
            + ", activations uint8 per tensor quantized at run time, fused by ONNX Runtime into DynamicQuantizeMatMul; "
            "attention, patch embedding and head fp32). Ratios int8/ORT: vitscope int8's time over ONNX Runtime's; "
            "< 1: vitscope is faster.")
    if any(model in CNNS for model, _, _ in keys):
        lines.append("CNNs (MobileNet v1, ResNets): vitscope runs them in fp32 only (--precision bf16 or int8 on a "
                     "CNN is an error), and ONNX Runtime has no int8 graph of them, so their bf16 and int8 columns "
                     "are \"—\".")
    lines += baseline_lines(table, keys)
    checks = check_lines(args.results, models)
    if checks:
        lines += ["", "Agreement checks (before timing):"] + checks
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.results, "table.md"), "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
