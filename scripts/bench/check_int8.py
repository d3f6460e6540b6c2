"""Checks, before any timing, that ONNX Runtime's int8 graph (quantize_onnx_dynamic.py) computes nearly
the function of its fp32 graph.

    check_int8.py --onnx FILE.onnx --onnx-int8 FILE.int8.onnx --ort-dir DIR --workdir DIR --out RESULT.json
                  (--images FOLDER | --photo IMAGE) [--threads T] [--min-agreement 0.9]
                  [--min-correlation 0.99]

Both graphs run in ONNX Runtime through run_ort.mjs --check-input (the script that is timed), one image
per run (batch 1: the int8 graph's per-tensor activation scales are then those of one image).
--images FOLDER (a model with real weights): every photo of the folder (its labels.csv when there is one,
   which also gives the top-1 accuracy of both graphs), preprocessed as check_engines.py does (timm's eval
   transform with PIL: Resize(256, bicubic), CenterCrop(224), ToTensor, Normalize). Reports the top-1
   agreement of int8 with fp32 and the mean KL(fp32 || int8) of the softmax; fails when the agreement is
   below --min-agreement.
--photo IMAGE (random weights, whose top-1 means nothing): the three images of check_engines.py (two
   standard-normal, seed 1234, and the photo). Reports the correlation of the logits and their largest
   difference; fails when an image's correlation is below --min-correlation.
Both: fails when the int8 graph does not run or gives non-finite logits. Writes the numbers to --out
(with the quantizer's record, FILE.int8.json, when it exists), prints a one-line summary, exits 1 on a
failure.
"""
import argparse
import csv
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_SEED = 1234  # the noise images of check_engines.py
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def run_logits(onnx, ort_dir, check_input, threads):
    command = ["node", os.path.join(HERE, "run_ort.mjs"), "--onnx", onnx, "--ort-dir", ort_dir,
               "--batch", "1", "--threads", str(threads), "--warmup", "0", "--iterations", "0",
               "--check-input", check_input]
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        return None, f"{os.path.basename(onnx)}: run_ort.mjs exited with status {completed.returncode}"
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        return None, f"{os.path.basename(onnx)}: run_ort.mjs output is not JSON ({error})"
    return result, None


def softmax(logits):
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def photo_list(folder):
    """[(file, label or None)] from labels.csv when present, else every photo in the folder."""
    labels = os.path.join(folder, "labels.csv")
    if os.path.exists(labels):
        with open(labels, newline="") as f:
            return [(os.path.join(folder, row["file"]), int(row["class_index"])) for row in csv.DictReader(f)]
    return [(os.path.join(folder, name), None) for name in sorted(os.listdir(folder))
            if name.lower().endswith(PHOTO_SUFFIXES)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onnx", required=True, help="the fp32 graph")
    parser.add_argument("--onnx-int8", required=True, help="its int8 graph")
    parser.add_argument("--ort-dir", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--out", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", help="a folder of photos (real weights): top-1 agreement and KL")
    source.add_argument("--photo", help="one photo (random weights): logit correlation on three images")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-agreement", type=float, default=0.9)
    parser.add_argument("--min-correlation", type=float, default=0.99)
    args = parser.parse_args()

    sys.path.insert(0, HERE)
    from torch_models import eval_tensor

    os.makedirs(args.workdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.onnx))[0]
    labels = None
    if args.images:
        photos = photo_list(args.images)
        if not photos:
            raise SystemExit(f"check_int8: {args.images}: no photos")
        images = np.concatenate([eval_tensor(path).numpy() for path, _ in photos])
        names = [os.path.basename(path) for path, _ in photos]
        if all(label is not None for _, label in photos):
            labels = np.array([label for _, label in photos])
        check_input = os.path.join(args.workdir, f"{stem}.int8_photos.f32")
    else:
        photo = eval_tensor(args.photo).numpy()
        noise = np.random.default_rng(CHECK_SEED).standard_normal((2,) + photo.shape[1:], dtype=np.float32)
        images = np.concatenate([noise, photo])
        names = ["noise 1", "noise 2", os.path.basename(args.photo)]
        check_input = os.path.join(args.workdir, f"{stem}.int8_check_input.f32")
    images.astype("<f4").tofile(check_input)

    result = {"model": os.path.basename(args.onnx), "int8_model": os.path.basename(args.onnx_int8),
              "images": int(images.shape[0]),
              "image_source": os.path.basename(os.path.normpath(args.images)) if args.images
              else f"2 standard-normal + {os.path.basename(args.photo)}"}
    record = os.path.splitext(args.onnx_int8)[0] + ".json"
    if os.path.exists(record):
        with open(record) as f:
            result["quantization"] = json.load(f)

    failures = []
    fp32_run, error = run_logits(args.onnx, args.ort_dir, check_input, args.threads)
    if error:
        failures.append(error)
    int8_run, error = run_logits(args.onnx_int8, args.ort_dir, check_input, args.threads)
    if error:
        failures.append(f"the int8 graph does not run: {error}")
    if not failures:
        fp32 = np.asarray(fp32_run["check_logits"], dtype=np.float64)
        int8 = np.asarray(int8_run["check_logits"], dtype=np.float64)
        if fp32.shape != int8.shape:
            failures.append(f"logits shapes differ: fp32 {fp32.shape}, int8 {int8.shape}")
        elif not np.isfinite(int8).all():
            failures.append("the int8 graph gives non-finite logits")
    if not failures:
        result["onnxruntime_version"] = int8_run["engine_version"]
        diff = np.abs(fp32 - int8)
        correlation = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(fp32, int8)])
        result["max_abs_logit_diff"] = float(diff.max())
        result["mean_abs_logit_diff"] = float(diff.mean())
        result["max_abs_logit"] = float(np.abs(fp32).max())
        result["min_logit_correlation"] = float(correlation.min())
        result["mean_logit_correlation"] = float(correlation.mean())
        if args.images:
            p, q = softmax(fp32), softmax(int8)
            kl = (p * (np.log(np.maximum(p, 1e-300)) - np.log(np.maximum(q, 1e-300)))).sum(axis=1)
            top_fp32, top_int8 = fp32.argmax(axis=1), int8.argmax(axis=1)
            agree = top_fp32 == top_int8
            result["top1_agreement"] = float(agree.mean())
            result["top1_agreeing_images"] = int(agree.sum())
            result["mean_kl_fp32_int8"] = float(kl.mean())
            result["max_kl_fp32_int8"] = float(kl.max())
            result["min_agreement"] = args.min_agreement
            result["disagreeing_images"] = [
                {"image": names[i], "fp32_top1": int(top_fp32[i]), "int8_top1": int(top_int8[i]),
                 "kl": float(kl[i])} for i in np.flatnonzero(~agree)]
            if labels is not None:
                result["top1_accuracy_fp32"] = float((top_fp32 == labels).mean())
                result["top1_accuracy_int8"] = float((top_int8 == labels).mean())
            if agree.mean() < args.min_agreement:
                failures.append(f"top-1 agreement {agree.mean():.2f} is below {args.min_agreement}")
        else:
            result["per_image"] = [
                {"image": name, "logit_correlation": float(c), "max_abs_logit_diff": float(d.max())}
                for name, c, d in zip(names, correlation, diff)]
            result["min_correlation"] = args.min_correlation
            if correlation.min() < args.min_correlation:
                failures.append(f"logit correlation {correlation.min():.3f} is below {args.min_correlation}")
    result["failures"] = failures
    result["passed"] = not failures
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    if failures:
        print(f"check_int8: FAIL {stem}: " + "; ".join(failures))
        sys.exit(1)
    if args.images:
        summary = (f"top-1 agreement {result['top1_agreeing_images']}/{result['images']} photos, mean KL "
                   f"{result['mean_kl_fp32_int8']:.2e} (max {result['max_kl_fp32_int8']:.2e})")
        if labels is not None:
            summary += (f", top-1 accuracy fp32 {result['top1_accuracy_fp32']:.2f}, "
                        f"int8 {result['top1_accuracy_int8']:.2f}")
    else:
        summary = f"logit correlation >= {result['min_logit_correlation']:.4f} on {result['images']} images"
    print(f"check_int8: OK   {stem}: ORT int8 vs ORT fp32: {summary}, max |logit diff| "
          f"{result['max_abs_logit_diff']:.3f} (logits up to {result['max_abs_logit']:.1f})")


if __name__ == "__main__":
    main()
