#!/usr/bin/python3
"""Report of scripts/decode/draft_accuracy.sh: how far `--decode draft` moves a model's outputs
away from the exact decode's, image by image.

    /usr/bin/python3 scripts/decode/draft_accuracy_report.py
        [--models deit_tiny_patch16_224,mobilenet_v1_0.75_224] [--results .cache/draft_accuracy]
        [--hires .cache/hires_photos/photos] [--imagenet ../shared/images/imagenet-100]
        [--resamples 10000] [--seed 20240]

Reads <results>/<model>.<set>.<exact|draft>.jsonl (`vitscope batch --topk 1000` rows: path, status,
classes, the 1000 class indices by falling probability, and probabilities, to 6 significant
digits), for set = hires and imagenet. For each model x set, over the images whose row is ok in
both runs (p: the exact run's probability vector, q: the draft run's, each rebuilt over the 1000
classes from classes + probabilities):
  n            images ok in both runs;
  touched      JPEGs the draft run decodes at a scale s above 1. As vitscope (and Pillow's
               Image.draft) chooses it, from the STORED size W x H read from the JPEG header (EXIF
               orientation plays no part): the resize target for the model's preprocess (a square
               input: shorter side S = floor(input / crop_pct), longer side int(S * long / short);
               otherwise floor(input_w / crop_pct) x floor(input_h / crop_pct)), then
               m = min(W // target_w, H // target_h) and s = the largest of 8, 4, 2 not above m,
               else 1. Non-JPEG files (PNG, ...) and CMYK JPEGs (decoded by OpenCV) are never
               touched. (vitscope also falls back to 1 for JPEGs a few pixels wide, which s > 1
               cannot reach: it needs at least twice the target);
  differ       images whose p and q are not identical (any class's printed probability differs);
               an untouched image that differs is flagged as unexpected;
  top-1 agree  fraction with argmax q == argmax p (the first class of each row), with a 95% Wilson
               score interval;
  top-5 overlap  mean over the images of |top5(p) & top5(q)| / 5;
  KL           KL(p || q) = sum_i p_i (ln max(p_i, 1e-12) - ln max(q_i, 1e-12)) in nats: its mean
               with a 95% percentile bootstrap interval (--resamples resamples of the images with
               replacement, random.Random(--seed)), its median and maximum (0 for identical
               outputs: an untouched image contributes 0 to the mean);
  max |dp1|    the largest |max_i p_i - max_i q_i| (the two runs' top-1 probabilities, whatever
               their classes; report.json also gives the largest |p_c - q_c| for c = argmax p);
  accuracy     (imagenet only) top-1 accuracy against labels.csv's class_index, exact and draft.
Also the distribution of draft scales and, for hires, the photos whose top-1 class changed (for
imagenet they are in report.json).

Prints Markdown tables and writes them to <results>/report.md, the numbers (per image too) to
<results>/report.json. Standard library only.
"""
import argparse
import collections
import csv
import json
import math
import os
import random
import statistics
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SETS = ("hires", "imagenet")
EPS = 1e-12
Z95 = 1.959963984540054


# ---- image headers and the draft scale ---------------------------------------------------------

def image_info(path):
    """(format, width, height, components) from the file's content; size None when unknown."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png", None, None, None
    if data[:2] != b"\xff\xd8":
        return "other", None, None, None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return "jpeg", width, height, data[i + 9]
        i += 2 + length
    return "jpeg", None, None, None


def resize_target(preprocess, width, height):
    """(target_w, target_h) of vitscope's resize_target / timm's eval Resize for a stored size."""
    in_h, in_w = preprocess["input_size"]
    crop_pct = preprocess["crop_pct"]
    if in_h == in_w:
        size = math.floor(in_h / crop_pct)
        if width <= height:
            return size, int(size * height / width)
        return int(size * width / height), size
    return math.floor(in_w / crop_pct), math.floor(in_h / crop_pct)


def draft_scale(info, preprocess):
    fmt, width, height, components = info
    if fmt != "jpeg" or width is None or components == 4:
        return 1
    target_w, target_h = resize_target(preprocess, width, height)
    m = min(width // target_w, height // target_h)
    for s in (8, 4, 2):
        if m >= s:
            return s
    return 1


# ---- statistics ----------------------------------------------------------------------------------

def wilson(k, n, z=Z95):
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def quantile(sorted_values, q):
    """Linear interpolation between order statistics (numpy's default)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo])


def bootstrap_mean(values, resamples, seed):
    rng = random.Random(seed)
    n = len(values)
    means = sorted(math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples))
    return quantile(means, 0.025), quantile(means, 0.975)


def kl(p, q):
    return math.fsum(pi * (math.log(max(pi, EPS)) - math.log(max(qi, EPS)))
                     for pi, qi in zip(p, q) if pi > 0)


# ---- inputs --------------------------------------------------------------------------------------

def read_rows(path, folder):
    """{path relative to the folder: row}, and the settings written beside the result file."""
    rows = {}
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            rows[os.path.relpath(row["path"], folder)] = row
    with open(path + ".settings.json") as f:
        settings = json.load(f)
    return rows, settings


def vector(row, classes=1000):
    p = [0.0] * classes
    for c, prob in zip(row["classes"], row["probabilities"]):
        p[c] = prob
    return p


def compare(model, set_name, folder, results, preprocess, labels, args):
    runs = {}
    for decode in ("exact", "draft"):
        path = os.path.join(results, f"{model}.{set_name}.{decode}.jsonl")
        rows, settings = read_rows(path, folder)
        # The settings name the decode only when it is not the default exact one.
        if ("decode draft" in settings.get("preprocess", "")) != (decode == "draft"):
            sys.exit(f"draft_accuracy_report: {path}.settings.json is not that of a {decode} decode")
        runs[decode] = rows
    exact, draft = runs["exact"], runs["draft"]
    not_ok = {d: sorted(f for f, r in runs[d].items() if r["status"] != "ok") for d in runs}
    files = sorted(f for f in exact if f in draft and exact[f]["status"] == "ok" and draft[f]["status"] == "ok")
    if not files:
        sys.exit(f"draft_accuracy_report: no image ok in both runs for {model} / {set_name}")

    images = []
    for f in files:
        e, d = exact[f], draft[f]
        p, q = vector(e), vector(d)
        info = image_info(os.path.join(folder, f))
        top1_e, top1_d = e["classes"][0], d["classes"][0]
        images.append({
            "file": f,
            "format": info[0],
            "stored_size": [info[1], info[2]],
            "draft_scale": draft_scale(info, preprocess),
            "differ": p != q,
            "exact_top1": top1_e, "exact_top1_label": e["labels"][0], "exact_top1_prob": p[top1_e],
            "draft_top1": top1_d, "draft_top1_label": d["labels"][0], "draft_top1_prob": q[top1_d],
            "draft_prob_of_exact_top1": q[top1_e],
            "top5_overlap": len(set(e["classes"][:5]) & set(d["classes"][:5])) / 5,
            "kl": kl(p, q),
            "true_class": labels.get(f) if labels is not None else None,
        })

    n = len(images)
    kls = [im["kl"] for im in images]
    agree = sum(im["exact_top1"] == im["draft_top1"] for im in images)
    worst_kl = max(images, key=lambda im: im["kl"])
    worst_dp = max(images, key=lambda im: abs(im["exact_top1_prob"] - im["draft_top1_prob"]))
    worst_dc = max(images, key=lambda im: abs(im["exact_top1_prob"] - im["draft_prob_of_exact_top1"]))
    touched = [im for im in images if im["draft_scale"] > 1]
    summary = {
        "model": model, "set": set_name, "n": n,
        "not_ok": not_ok,
        "touched": len(touched),
        "draft_scales": dict(sorted(collections.Counter(im["draft_scale"] for im in images).items())),
        "differ": sum(im["differ"] for im in images),
        "untouched_but_differ": [im["file"] for im in images if im["draft_scale"] == 1 and im["differ"]],
        "top1_agree": agree, "top1_agree_fraction": agree / n, "top1_agree_wilson95": wilson(agree, n),
        "top5_overlap_mean": statistics.fmean(im["top5_overlap"] for im in images),
        "kl_mean": statistics.fmean(kls),
        "kl_mean_bootstrap95": bootstrap_mean(kls, args.resamples, args.seed),
        "kl_median": statistics.median(kls),
        "kl_max": worst_kl["kl"], "kl_max_file": worst_kl["file"],
        "kl_mean_touched": statistics.fmean(im["kl"] for im in touched) if touched else None,
        "max_abs_dtop1_prob": abs(worst_dp["exact_top1_prob"] - worst_dp["draft_top1_prob"]),
        "max_abs_dtop1_prob_file": worst_dp["file"],
        "max_abs_dprob_of_exact_top1": abs(worst_dc["exact_top1_prob"] - worst_dc["draft_prob_of_exact_top1"]),
        "max_abs_dprob_of_exact_top1_file": worst_dc["file"],
        "changed_top1": [{k: im[k] for k in ("file", "draft_scale", "exact_top1", "exact_top1_label",
                                             "exact_top1_prob", "draft_top1", "draft_top1_label",
                                             "draft_top1_prob")}
                         for im in images if im["exact_top1"] != im["draft_top1"]],
        "bootstrap": {"resamples": args.resamples, "seed": args.seed},
    }
    if labels is not None:
        missing = [im["file"] for im in images if im["true_class"] is None]
        if missing:
            sys.exit(f"draft_accuracy_report: no label for {missing[:3]} in labels.csv")
        summary["accuracy_exact"] = sum(im["exact_top1"] == im["true_class"] for im in images)
        summary["accuracy_draft"] = sum(im["draft_top1"] == im["true_class"] for im in images)
    return summary, images


# ---- output --------------------------------------------------------------------------------------

def fmt_g(x):
    return f"{x:.3g}"


def markdown(summaries):
    out = ["## `--decode draft` against the exact decode", "",
           "| model | set | n | touched | differ | top-1 agree [95% Wilson] | top-5 overlap "
           "| mean KL nats [95% bootstrap] | median KL | max KL | max \\|Δp top-1\\| "
           "| top-1 acc exact | top-1 acc draft |",
           "|---|---|--:|--:|--:|---|--:|---|--:|--:|--:|--:|--:|"]
    for s in summaries:
        lo, hi = s["top1_agree_wilson95"]
        klo, khi = s["kl_mean_bootstrap95"]
        acc = (f"{s['accuracy_exact']}/{s['n']} | {s['accuracy_draft']}/{s['n']}"
               if "accuracy_exact" in s else "– | –")
        out.append(f"| {s['model']} | {s['set']} | {s['n']} | {s['touched']} | {s['differ']} "
                   f"| {s['top1_agree']}/{s['n']} = {s['top1_agree_fraction']:.3f} [{lo:.3f}, {hi:.3f}] "
                   f"| {s['top5_overlap_mean']:.3f} | {fmt_g(s['kl_mean'])} [{fmt_g(klo)}, {fmt_g(khi)}] "
                   f"| {fmt_g(s['kl_median'])} | {fmt_g(s['kl_max'])} | {s['max_abs_dtop1_prob']:.4f} | {acc} |")
    out += ["", "Draft scales (images per scale):", "",
            "| model | set | 1 | 1/2 | 1/4 | 1/8 |", "|---|---|--:|--:|--:|--:|"]
    for s in summaries:
        c = {int(k): v for k, v in s["draft_scales"].items()}
        out.append(f"| {s['model']} | {s['set']} | " + " | ".join(str(c.get(k, 0)) for k in (1, 2, 4, 8)) + " |")
    out += ["", "Photos of the hires set whose top-1 class changed:", "",
            "| model | photo | draft scale | exact top-1 (p) | draft top-1 (p) |", "|---|---|--:|---|---|"]
    any_changed = False
    for s in summaries:
        if s["set"] != "hires":
            continue
        for c in s["changed_top1"]:
            any_changed = True
            out.append(f"| {s['model']} | {c['file']} | 1/{c['draft_scale']} "
                       f"| {c['exact_top1']} {c['exact_top1_label']} ({c['exact_top1_prob']:.4f}) "
                       f"| {c['draft_top1']} {c['draft_top1_label']} ({c['draft_top1_prob']:.4f}) |")
    if not any_changed:
        out.append("| (none) | | | | |")
    notes = []
    for s in summaries:
        for d, files in s["not_ok"].items():
            if files:
                notes.append(f"- {s['model']} / {s['set']}: {len(files)} rows not ok in the {d} run: "
                             + ", ".join(files[:5]))
        if s.get("photos_missing"):
            notes.append(f"- {s['model']} / {s['set']}: not in the folder: " + ", ".join(s["photos_missing"]))
        if s["untouched_but_differ"]:
            notes.append(f"- UNEXPECTED: {s['model']} / {s['set']}: {len(s['untouched_but_differ'])} "
                         "images at draft scale 1 whose outputs differ: " + ", ".join(s["untouched_but_differ"][:5]))
    if notes:
        out += ["", "Notes:", ""] + notes
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="deit_tiny_patch16_224,mobilenet_v1_0.75_224")
    parser.add_argument("--results", default=os.path.join(ROOT, ".cache", "draft_accuracy"))
    parser.add_argument("--hires", default=os.path.join(ROOT, ".cache", "hires_photos", "photos"))
    parser.add_argument("--imagenet", default=os.path.join(ROOT, "..", "shared", "images", "imagenet-100"))
    parser.add_argument("--manifest", default=os.path.join(ROOT, "weights", "models.json"))
    parser.add_argument("--hires-table", default=os.path.join(ROOT, "scripts", "decode", "hires_photos.tsv"))
    parser.add_argument("--resamples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=20240)
    args = parser.parse_args()

    with open(args.manifest) as f:
        manifest = json.load(f)["models"]
    with open(os.path.join(args.imagenet, "labels.csv"), newline="") as f:
        labels = {row["file"]: int(row["class_index"]) for row in csv.DictReader(f)}
    with open(args.hires_table, newline="") as f:
        table = {row["file"]: row for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)}

    summaries, per_image = [], {}
    for model in args.models.split(","):
        if model not in manifest:
            sys.exit(f"draft_accuracy_report: {model} is not in {args.manifest}")
        preprocess = manifest[model]["preprocess"]
        for set_name in SETS:
            folder = args.hires if set_name == "hires" else args.imagenet
            summary, images = compare(model, set_name, folder, args.results, preprocess,
                                      labels if set_name == "imagenet" else None, args)
            if set_name == "hires":
                # The stored sizes read from the headers must be those of the table.
                for im in images:
                    row = table.get(im["file"])
                    if row is None or [int(row["width"]), int(row["height"])] != im["stored_size"]:
                        sys.exit(f"draft_accuracy_report: {im['file']} is not {row and row['width']}x"
                                 f"{row and row['height']} as hires_photos.tsv says")
                summary["photos_missing"] = sorted(set(table) - {im["file"] for im in images})
            summaries.append(summary)
            per_image[f"{model}/{set_name}"] = images

    text = markdown(summaries)
    print(text, end="")
    with open(os.path.join(args.results, "report.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.results, "report.json"), "w") as f:
        json.dump({"summaries": summaries, "images": per_image}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
