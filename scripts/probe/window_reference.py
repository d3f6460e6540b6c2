#!/usr/bin/python3
"""PyTorch reference of `vitscope probe window` on the real DeiT-Tiny: windowed attention, per photo.

Runs DeiT-Tiny (../shared/models/deit_tiny_patch16_224.safetensors, through the plain-torch timm
reference scripts/golden/vit_reference.py) in float32 on the 100 photos of
../shared/images/imagenet-100, preprocessed by scripts/golden/gen_imagenet_reference.py's own
functions (timm's eval transform on PIL), once unmodified and once for each window k in WINDOWS on
the first L blocks for L in LAYERS (L = 0: every block), i.e. ForwardOptions(window=k,
window_blocks=L or None): a patch query at grid (r, c) of the 14x14 grid sees the patch keys with
|dr| <= (k-1)/2 and |dc| <= (k-1)/2 (clipped at the borders, not shifted) plus cls; the cls query
sees every token; hidden scores are -inf before the softmax.

Writes tests/data/probe/deit_tiny_window.safetensors (see scripts/probe/README.md):
  top1.full [100] I32, margin.full [100] F32,
  top1.k<k>.L<L> [100] I32, margin.k<k>.L<L> [100] F32, kl.k<k>.L<L> [100] F32,
  outside.k<k> [12] F32.
and prints, per (L, k), top-1 accuracy (labels.csv), top-1 agreement with the unmodified model
(both with 95% Wilson intervals) and the mean KL (with mean +- 1.96 standard errors).

Usage: /usr/bin/python3 scripts/probe/window_reference.py  (after gen_imagenet_reference.py)
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import gen_imagenet_reference as imagenet  # noqa: E402
import safetensors_io  # noqa: E402
from vit_reference import ForwardOptions, VisionTransformer, window_visibility  # noqa: E402

OUTPUT = os.path.join(imagenet.REPO, "tests", "data", "probe", "deit_tiny_window.safetensors")
GOLDEN = imagenet.OUTPUT  # tests/data/imagenet100_deit_tiny.safetensors
WINDOWS = (1, 3, 5, 7, 9, 11, 13, 15, 19, 27)
LAYERS = (0, 2, 4, 6)  # windowed blocks 0..L-1; 0 = every block
BATCH = 25
THREADS = 2
FULL_TOLERANCE = 1e-5  # window 27 covers the 14x14 grid: its logits against the unmodified model's
SIZE_BUDGET = 200 * 1024
Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson(count: int, n: int):
    """(share, low, high): the 95% Wilson score interval of count successes in n."""
    phat, z2 = count / n, Z95 * Z95
    centre = (phat + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(phat * (1 - phat) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return phat, max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: np.ndarray):
    """(mean, low, high): mean +- 1.96 standard errors (sample standard deviation)."""
    values = np.asarray(values, dtype=np.float64)
    mean = values.mean()
    se = values.std(ddof=1) / math.sqrt(len(values))
    return mean, mean - Z95 * se, mean + Z95 * se


def load_model() -> VisionTransformer:
    state, _ = safetensors_io.load(imagenet.WEIGHTS)
    model = VisionTransformer.from_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()},
                                              imagenet.NUM_HEADS)
    assert model.cfg.classifier == "token" and model.cfg.pos_grid == (14, 14), model.cfg
    assert all(p.dtype == torch.float32 for p in model.parameters())
    return model


def run(model: VisionTransformer, images: torch.Tensor, options=None, visit=None) -> torch.Tensor:
    """logits [N, classes] in float32, BATCH images per forward; visit(attentions) per batch."""
    logits = []
    for start in range(0, images.shape[0], BATCH):
        out, attentions = model(images[start : start + BATCH], options)
        if visit is not None:
            visit(attentions)
        logits.append(out)
    return torch.cat(logits)


def top1_and_margin(logits: torch.Tensor):
    """top-1 class [N] int32 (the first of equal maxima) and its logit minus the second-best [N]."""
    best = logits.topk(2, dim=1).values.double()
    return logits.argmax(dim=1).to(torch.int32), (best[:, 0] - best[:, 1]).float()


def kl_per_photo(full: torch.Tensor, variant: torch.Tensor) -> torch.Tensor:
    """KL(p_full || p_variant) [N] in nats, softmax of the float32 logits in float64."""
    log_p, log_q = full.double().log_softmax(dim=1), variant.double().log_softmax(dim=1)
    return (log_p.exp() * (log_p - log_q)).sum(dim=1)


def main() -> None:
    for path in (imagenet.WEIGHTS, os.path.join(imagenet.IMAGES, "labels.csv"), GOLDEN):
        if not os.path.isfile(path):
            sys.exit(f"{os.path.normpath(path)}: not found (needs ../shared and gen_imagenet_reference.py's output)")
    torch.set_num_threads(THREADS)
    torch.set_grad_enabled(False)
    started = time.monotonic()

    model = load_model()
    labels = imagenet.read_labels(os.path.join(imagenet.IMAGES, "labels.csv"))
    files = [name for name, _ in labels]
    expected = torch.tensor([index for _, index in labels])
    images = torch.stack([imagenet.load_image(os.path.join(imagenet.IMAGES, name)) for name in files])
    assert images.dtype == torch.float32 and images.shape == (len(files), 3, 224, 224), images.shape
    n, depth, prefix = len(files), model.cfg.depth, model.cfg.num_prefix_tokens
    grid = model.cfg.pos_grid

    # The unmodified model, and per block the attention its patch queries put outside each window.
    hidden = {k: ~window_visibility(grid, prefix, k)[prefix:] for k in WINDOWS}  # [patches, T]
    outside_sum = {k: np.zeros(depth) for k in WINDOWS}
    weights_seen = [0]

    def add_outside(attentions):
        for block, weights in enumerate(attentions):
            patch_rows = weights[:, :, prefix:].double()  # [B, heads, patches, T]
            assert (patch_rows.sum(-1) - 1).abs().max().item() < 1e-5
            for k in WINDOWS:
                outside_sum[k][block] += patch_rows.masked_fill(~hidden[k], 0.0).sum().item()
        weights_seen[0] += attentions[0].shape[0] * attentions[0].shape[1] * (attentions[0].shape[2] - prefix)

    full = run(model, images, visit=add_outside)
    outside = {k: outside_sum[k] / weights_seen[0] for k in WINDOWS}
    assert weights_seen[0] == n * model.cfg.num_heads * grid[0] * grid[1]
    full_top1, full_margin = top1_and_margin(full)
    tensors = {"top1.full": full_top1.numpy(), "margin.full": full_margin.numpy()}
    for k in WINDOWS:
        tensors[f"outside.k{k}"] = outside[k].astype(np.float32)

    # The unmodified model is the golden one's, photo by photo.
    golden, golden_meta = safetensors_io.load(GOLDEN)
    assert json.loads(golden_meta["files"]) == files, "golden: other photos or order"
    sha = imagenet.sha256(imagenet.WEIGHTS)
    assert golden_meta["weights_sha256"] == sha, "golden: other weights"
    assert np.array_equal(full_top1.numpy(), golden["logits"].argmax(axis=1)), "top-1 differs from the golden"
    golden_drift = np.abs(full.numpy() - golden["logits"]).max()
    full_seconds = time.monotonic() - started

    rows, cover_drift = [], 0.0
    for layers in LAYERS:
        for k in WINDOWS:
            logits = run(model, images, ForwardOptions(window=k, window_blocks=layers or None))
            top1, margin = top1_and_margin(logits)
            kl = kl_per_photo(full, logits)
            assert kl.min().item() > -1e-12, (layers, k, kl.min().item())
            if k == WINDOWS[-1]:
                drift = (logits - full).abs().max().item()
                assert drift <= FULL_TOLERANCE, f"window {k}, L {layers}: logits differ by {drift} from full"
                cover_drift = max(cover_drift, drift)
            tag = f"k{k}.L{layers}"
            tensors[f"top1.{tag}"] = top1.numpy()
            tensors[f"margin.{tag}"] = margin.numpy()
            tensors[f"kl.{tag}"] = kl.float().numpy()
            rows.append((layers, k, int((top1 == expected).sum()), int((top1 == full_top1).sum()),
                         mean_interval(kl.numpy()), margin))

    # Outside mass: none for a window covering the grid, shrinking in every block as k grows.
    cover = tensors[f"outside.k{WINDOWS[-1]}"]
    assert np.all(cover == 0), f"outside.k{WINDOWS[-1]}: {cover}"
    for a, b in zip(WINDOWS, WINDOWS[1:]):
        assert np.all(outside[a] > outside[b]) and np.all(tensors[f"outside.k{a}"] > tensors[f"outside.k{b}"]), \
            f"outside mass does not fall from window {a} to {b}: {outside[a]} {outside[b]}"

    metadata = {
        "files": json.dumps(files),
        "windows": json.dumps(list(WINDOWS)),
        "layers": json.dumps(list(LAYERS)),
        "model": imagenet.MODEL,
        "weights_sha256": sha,
        "method": (
            "scripts/probe/window_reference.py: scripts/golden/vit_reference.py in float32 (torch "
            f"{torch.__version__}, {THREADS} threads, batches of {BATCH}) on the photos of labels.csv, "
            "preprocessed as gen_imagenet_reference.py (PIL RGB, Resize 256 bicubic, CenterCrop 224, "
            "ToTensor, Normalize ImageNet mean/std); variant k<k>.L<L> = ForwardOptions(window=k, "
            "window_blocks=L), L 0 = every block: a patch query sees patch keys with |dr|,|dc| <= (k-1)/2 "
            "(clipped, not shifted) plus cls, cls sees all, hidden scores -inf before the softmax; "
            "top1 = argmax of the float32 logits (first of equal maxima); margin = top-1 logit minus "
            "second-best logit; kl = KL(p_full || p_variant) in nats, log-softmax of the float32 logits "
            "in float64; outside.k<k>[block] = the unmodified model's softmax weight on keys window k "
            "hides, summed over keys, averaged over photos, heads and the 196 patch queries (cls query "
            "not counted)"
        ),
    }
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    safetensors_io.save(OUTPUT, tensors, metadata=metadata)
    size = os.path.getsize(OUTPUT)
    assert size < SIZE_BUDGET, f"{OUTPUT}: {size} bytes, over {SIZE_BUDGET}"
    back, back_meta = safetensors_io.load(OUTPUT)
    assert back_meta == metadata and set(back) == set(tensors)
    assert all(np.array_equal(back[key], value) for key, value in tensors.items())
    seconds = time.monotonic() - started

    acc = wilson(int((full_top1 == expected).sum()), n)
    print(f"{imagenet.MODEL}, {n} photos, float32, {THREADS} threads: unmodified top-1 "
          f"{acc[0]:.2f} [{acc[1]:.2f}, {acc[2]:.2f}]; |logits - golden| <= {golden_drift:.2e}; "
          f"window {WINDOWS[-1]}: |logits - unmodified| <= {cover_drift:.2e}")
    print()
    print("| L | k | top-1 accuracy [95%] | agreement [95%] | mean KL, nats [95%] | margin < 0.01 |")
    print("|---|---|---|---|---|---|")
    print(f"| - | full | {acc[0]:.2f} [{acc[1]:.2f}, {acc[2]:.2f}] | 1.00 | 0 | {int((full_margin < 0.01).sum())} |")
    for layers, k, correct, agree, (kl_mean, kl_low, kl_high), margin in rows:
        a, g = wilson(correct, n), wilson(agree, n)
        print(f"| {layers if layers else 'all'} | {k} | {a[0]:.2f} [{a[1]:.2f}, {a[2]:.2f}] | "
              f"{g[0]:.2f} [{g[1]:.2f}, {g[2]:.2f}] | {kl_mean:.4f} [{kl_low:.4f}, {kl_high:.4f}] | "
              f"{int((margin < 0.01).sum())} |")
    print()
    print("outside mass per block (unmodified model, mean over photos, heads, patch queries):")
    print("k    " + " ".join(f"{b:>6d}" for b in range(depth)))
    for k in WINDOWS:
        print(f"{k:<4d} " + " ".join(f"{v:6.4f}" for v in tensors[f"outside.k{k}"]))
    print()
    print(f"wrote {os.path.relpath(OUTPUT, imagenet.REPO)} ({size} bytes, {len(tensors)} tensors) "
          f"in {seconds:.0f} s (unmodified model {full_seconds:.0f} s, {len(rows)} variants)")


if __name__ == "__main__":
    main()
