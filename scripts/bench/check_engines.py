"""Checks, before any timing, that vitscope, ONNX Runtime and PyTorch compute the same function.

    check_engines.py --weights FILE.safetensors [--arch vit|resnet18|resnet50|mobilenet_v1] [--heads N]
                     --onnx FILE.onnx --vitscope BIN --ort-dir DIR --photo IMAGE --workdir DIR
                     --out RESULT.json [--threads T]

--arch (default vit; --heads N with it): the model, as in export_onnx.py and run_torch.py.
1. ONNX Runtime against PyTorch: the logits of three images (two standard-normal, fixed seed, and the
   photo after the model's eval preprocessing), each produced by the very scripts that are timed
   (run_ort.mjs and run_torch.py with --check-input): max |difference| <= 1e-3.
2. vitscope against PyTorch: `vitscope classify --format json --topk 5` on the photo against the
   softmax of PyTorch's logits for the PIL-preprocessed photo (torch_models.eval_tensor: Resize(256),
   CenterCrop(224), ToTensor, Normalize, bicubic with ImageNet's mean and std, MobileNet bilinear with
   0.5 and 0.5, as vitscope preprocesses these files): the same five classes in the same order,
   probabilities within 1e-3. Before it, the transform is checked to be vitscope's: the "preprocess"
   line of `vitscope info FILE` (interpolation, crop_pct, mean, std) must be torch_models.PREPROCESS's
   for --arch (vitscope takes it from weights/models.json by file name, else from the architecture).
Writes the agreement numbers to --out, prints a one-line summary, and exits 1 when a check fails.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LOGIT_TOLERANCE = 1e-3
PROBABILITY_TOLERANCE = 1e-3
TOP_K = 5
CHECK_SEED = 1234


def run_json(command):
    """Runs a command that prints one JSON line on stdout; its stderr passes through."""
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"check_engines: {' '.join(command)} exited with status {completed.returncode}")
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise SystemExit(f"check_engines: {command[0]}: output is not JSON ({error}): {completed.stdout[:200]!r}")


def vitscope_preprocess(vitscope, weights, heads_args):
    """(interpolation, crop_pct, mean, std) of vitscope's preprocessing of the file: the line
    'preprocess  resize bicubic, crop_pct 0.875, mean (a, b, c), std (d, e, f)' of `vitscope info`."""
    completed = subprocess.run([vitscope, "info", weights] + heads_args, stdout=subprocess.PIPE, text=True)
    match = re.search(r"^preprocess\s+resize (\w+), crop_pct ([0-9.]+), mean \(([^)]*)\), std \(([^)]*)\)",
                      completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or not match:
        raise SystemExit(f"check_engines: no 'preprocess' line in `{vitscope} info {weights}` "
                         f"(status {completed.returncode})")
    def triple(text):
        return tuple(float(v) for v in text.split(","))

    return match[1], float(match[2]), triple(match[3]), triple(match[4])


def softmax(logits):
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--arch", default="vit")
    parser.add_argument("--heads", type=int, help="attention heads (--arch vit)")
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--vitscope", required=True)
    parser.add_argument("--ort-dir", required=True)
    parser.add_argument("--photo", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    sys.path.insert(0, HERE)
    from torch_models import ARCHS, PREPROCESS, eval_tensor
    if args.arch not in ARCHS or (args.arch == "vit") != bool(args.heads):
        parser.error(f"--arch: one of {', '.join(ARCHS)}; --heads N with vit and only with vit")
    heads_args = ["--heads", str(args.heads)] if args.heads else []  # vitscope knows a CNN by its tensors
    model_args = ["--arch", args.arch] + heads_args

    ours = PREPROCESS[args.arch]
    theirs = vitscope_preprocess(args.vitscope, args.weights, heads_args)
    if (theirs[0] != ours.interpolation or abs(theirs[1] - ours.crop_pct) > 1e-6
            or not np.allclose(theirs[2], ours.mean, rtol=0, atol=1e-6)
            or not np.allclose(theirs[3], ours.std, rtol=0, atol=1e-6)):
        raise SystemExit(f"check_engines: vitscope preprocesses {os.path.basename(args.weights)} as {theirs}, "
                         f"the check's PyTorch side as {(ours.interpolation, ours.crop_pct, ours.mean, ours.std)} "
                         "(scripts/bench/torch_models.py PREPROCESS)")

    os.makedirs(args.workdir, exist_ok=True)
    photo = eval_tensor(args.photo, args.arch).numpy()
    noise = np.random.default_rng(CHECK_SEED).standard_normal((2,) + photo.shape[1:], dtype=np.float32)
    images = np.concatenate([noise, photo]).astype("<f4")
    stem = os.path.splitext(os.path.basename(args.weights))[0]
    check_input = os.path.join(args.workdir, f"{stem}.check_input.f32")
    images.tofile(check_input)

    # 1. ONNX Runtime versus PyTorch on the same three images.
    common = ["--batch", "1", "--threads", str(args.threads), "--warmup", "0", "--iterations", "0",
              "--check-input", check_input]
    torch_run = run_json([sys.executable, os.path.join(HERE, "run_torch.py"), "--weights", args.weights]
                         + model_args + common)
    ort_run = run_json(["node", os.path.join(HERE, "run_ort.mjs"), "--onnx", args.onnx,
                        "--ort-dir", args.ort_dir] + common)
    torch_logits = np.asarray(torch_run["check_logits"], dtype=np.float64)
    ort_logits = np.asarray(ort_run["check_logits"], dtype=np.float64)
    if torch_logits.shape != ort_logits.shape:
        raise SystemExit(f"check_engines: logits shapes differ: PyTorch {torch_logits.shape}, "
                         f"ONNX Runtime {ort_logits.shape}")
    ort_diff = float(np.abs(torch_logits - ort_logits).max())

    # 2. vitscope versus PyTorch on the photo (PyTorch's logits of the photo are the third row).
    vitscope_run = run_json([args.vitscope, "classify", "--format", "json", "--topk", str(TOP_K),
                             "--model", args.weights] + heads_args + [
                             "--threads", str(args.threads), args.photo])
    (row,) = vitscope_run["results"]
    if row.get("status") != "ok":
        raise SystemExit(f"check_engines: vitscope could not classify {args.photo}: {row.get('error')}")
    vitscope_classes = [p["class_index"] for p in row["predictions"]]
    vitscope_probs = np.array([p["probability"] for p in row["predictions"]])
    torch_probs_all = softmax(torch_logits[2])
    order = np.argsort(-torch_probs_all, kind="stable")
    torch_classes = [int(i) for i in order[:TOP_K]]
    torch_probs = torch_probs_all[order[:TOP_K]]
    same_classes = vitscope_classes == torch_classes
    prob_diff = float(np.abs(vitscope_probs - torch_probs).max()) if same_classes else None
    # How far apart the ranked probabilities are: a check on near-ties would be luck, not agreement.
    ranked = torch_probs_all[order[:TOP_K + 1]]
    min_gap = float((ranked[:-1] - ranked[1:]).min())

    ok = ort_diff <= LOGIT_TOLERANCE and same_classes and prob_diff <= PROBABILITY_TOLERANCE
    result = {
        "weights": os.path.basename(args.weights),
        "photo": os.path.basename(args.photo),
        "arch": args.arch,
        "preprocess": dict(PREPROCESS[args.arch]._asdict()),
        "ort_vs_torch": {
            "images": int(images.shape[0]),
            "max_abs_logit_diff": ort_diff,
            "max_abs_logit": float(np.abs(torch_logits).max()),
            "tolerance": LOGIT_TOLERANCE,
            "onnxruntime_version": ort_run["engine_version"],
            "torch_version": torch_run["engine_version"],
        },
        "vitscope_vs_torch": {
            "torch_top5": torch_classes,
            "vitscope_top5": vitscope_classes,
            "torch_top5_probabilities": [float(p) for p in torch_probs],
            "vitscope_top5_probabilities": [float(p) for p in vitscope_probs],
            "same_top5": same_classes,
            "max_abs_probability_diff": prob_diff,
            "tolerance": PROBABILITY_TOLERANCE,
            "min_gap_between_ranked_probabilities": min_gap,
        },
        "passed": bool(ok),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    summary = (f"{stem}: ORT vs PyTorch max |logit diff| {ort_diff:.2e} (logits up to "
               f"{result['ort_vs_torch']['max_abs_logit']:.1f}); vitscope vs PyTorch on "
               f"{os.path.basename(args.photo)}: top-5 {vitscope_classes} "
               f"{'==' if same_classes else '!='} {torch_classes}")
    if same_classes:
        summary += f", max |probability diff| {prob_diff:.2e} (top-1 p = {torch_probs[0]:.3f})"
    print(("check_engines: OK   " if ok else "check_engines: FAIL ") + summary)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
