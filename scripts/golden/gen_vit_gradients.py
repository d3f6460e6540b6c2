#!/usr/bin/python3
"""Writes golden gradients of the ViT cases to tests/data/vit/gradients/.

A. For each base case (tests/data/vit/<case>.safetensors + <case>.io.safetensors, left untouched)
   in BASES, <case>.safetensors holds, on that case's `input`:
     logit_weights [B,classes]  a random normal cotangent on the eval logits (seeded torch.Generator);
                                L = sum_{b,c} logit_weights[b,c] * logits[b,c]
     input_grad [B,3,H,W]       dL/d input
     attn_grad.<l> [B,heads,T,T] dL/dA_l, A_l = block l's softmax probabilities (the tensor times v)
     attn.<l> [B,heads,T,T]     A_l itself (bitwise the base case's attn.<l>)
     token_seed [B,T,D]         a random normal cotangent on the residual stream after block TOKEN_BLOCK
     token_input_grad [B,3,H,W] d(sum token_seed * stream_after_block_TOKEN_BLOCK) / d input
     top1 [B] I32               argmax of the logits
     chefer [B, gh*gw]          Chefer et al. (ICCV 2021) generic attention explainability for top1:
                                G_l = d logits[b, top1[b]] / d A_l, R = I, for l = 0..depth-1:
                                R += mean_heads(clamp(G_l * A_l, min=0)) @ R; map = R[0, prefix:]
                                (no class token, avgpool: the mean over the rows of R[:, prefix:])
B. deit_tiny_erf.safetensors: the shared DeiT-Tiny on the first photo of imagenet-100/labels.csv,
   preprocessed as gen_imagenet_reference.py: input [1,3,224,224], and two effective receptive
   fields [224,224] = sum over channels of |dS/d input| (S = a token's channel sum of the stream).

As gen_vit_cases.py: float32 weights and input, float64 compute (gradients included), stored
rounded to float32; the random cotangents are drawn in float64, rounded to float32 and used as
rounded, so the stored cotangents are exactly the ones the gradients belong to. Every gradient of A
is checked against central finite differences (input elements, and attention weights perturbed
inside the forward). See tests/data/vit/gradients/README.md.

Usage: /usr/bin/python3 scripts/golden/gen_vit_gradients.py  (after gen_vit_cases.py; B needs ../shared)
"""
import contextlib
import hashlib
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_imagenet_reference as imagenet  # noqa: E402
import safetensors_io  # noqa: E402
import vit_reference  # noqa: E402
from gen_vit_cases import OUT_DIR as CASES_DIR, load_case  # noqa: E402
from vit_reference import VisionTransformer  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(CASES_DIR, "gradients")
SIZE_BUDGET = 3 * 1024 * 1024  # bytes, the whole folder

BASES = ["square", "distilled", "avgpool", "nonsquare", "interp"]  # tokens197 excluded (size)
SEEDS = {"square": 3001, "distilled": 3002, "avgpool": 3003, "nonsquare": 3004, "interp": 3005}
TOKEN_BLOCK = 0  # token_seed sits on the stream after this block (forward_with_tokens' tokens[1])

FD_POINTS = 6  # finite-difference checks per gradient and case
FD_STEP = 1e-4
FD_TOLERANCE = 1e-6  # relative to max(|gradient element|, 1e-3 * max |gradient|)

ERF_PATCH = (7, 7)  # grid row, column of the patch token of patch_first


def seeded_normal(generator: torch.Generator, shape) -> torch.Tensor:
    """float64 normal draws rounded to float32 (returned as float64 holding float32 values)."""
    return torch.randn(*shape, generator=generator, dtype=torch.float64).float().double()


def frozen(model: VisionTransformer) -> VisionTransformer:
    for p in model.parameters():
        p.requires_grad_(False)
    return model


# ---------------------------------------------------------------------------------------------
# A. Gradients of the small cases


def chefer_relevance(attentions, gradients, prefix: int) -> torch.Tensor:
    """[B, gh*gw]: Chefer et al. 2021 rule on per-image A_l, G_l [B,heads,T,T]."""
    b, _, t, _ = attentions[0].shape
    r = torch.eye(t, dtype=torch.float64).expand(b, t, t).clone()
    for a, g in zip(attentions, gradients):
        abar = (g * a).clamp(min=0).mean(dim=1)  # [B,T,T]
        r = r + abar @ r
    if prefix > 0:
        return r[:, 0, prefix:]
    return r[:, :, prefix:].mean(dim=1)  # no class token: mean over the (patch) rows


@contextlib.contextmanager
def perturbed_attention(layer: int, index, delta: float):
    """While active, block `layer`'s softmax output gets `delta` added at [index] before attn @ v
    (vit_reference.normalise_scores patched per call; restored on exit)."""
    original = vit_reference.normalise_scores
    calls = [0]

    def patched(scores, visible, kind):
        weights = original(scores, visible, kind)
        if calls[0] == layer:
            weights = weights.clone()
            weights[index] += delta
        calls[0] += 1
        return weights

    vit_reference.normalise_scores = patched
    try:
        yield
    finally:
        vit_reference.normalise_scores = original


def relative_error(numeric: float, analytic: float, scale: float) -> float:
    return abs(numeric - analytic) / max(abs(analytic), 1e-3 * scale)


def finite_difference_checks(name: str, model, x, logit_weights, token_seed, grads) -> float:
    """Central differences of L (input elements and attention weights) and of the token loss (input
    elements) against the autograd gradients; returns the worst relative error."""
    rng = np.random.default_rng(SEEDS[name] + 100)

    def loss(xx):
        result = model.forward_with_tokens(xx)
        return (logit_weights * result.logits).sum().item(), \
            (token_seed * result.tokens[TOKEN_BLOCK + 1]).sum().item()

    worst = {"input_grad": 0.0, "token_input_grad": 0.0, "attn_grad": 0.0}
    with torch.no_grad():
        for _ in range(FD_POINTS):
            index = tuple(int(rng.integers(s)) for s in x.shape)
            plus, minus = x.clone(), x.clone()
            plus[index] += FD_STEP
            minus[index] -= FD_STEP
            (lp, tp), (lm, tm) = loss(plus), loss(minus)
            for key, numeric in (("input_grad", (lp - lm) / (2 * FD_STEP)),
                                 ("token_input_grad", (tp - tm) / (2 * FD_STEP))):
                g = grads[key]
                worst[key] = max(worst[key], relative_error(numeric, g[index].item(), g.abs().max().item()))
        for _ in range(FD_POINTS):
            layer = int(rng.integers(model.cfg.depth))
            g = grads["attn_grad"][layer]
            index = tuple(int(rng.integers(s)) for s in g.shape)
            with perturbed_attention(layer, index, FD_STEP):
                lp = loss(x)[0]
            with perturbed_attention(layer, index, -FD_STEP):
                lm = loss(x)[0]
            numeric = (lp - lm) / (2 * FD_STEP)
            worst["attn_grad"] = max(worst["attn_grad"],
                                     relative_error(numeric, g[index].item(), g.abs().max().item()))
    print(f"{'':10s} finite differences, worst relative error: " +
          "  ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    assert max(worst.values()) < FD_TOLERANCE, f"{name}: finite differences disagree: {worst}"
    return max(worst.values())


def generate_case(name: str) -> str:
    model, io, meta = load_case(name)
    model = frozen(model)
    cfg = model.cfg
    patch = int(meta["patch_size"])
    grid = (int(meta["img_height"]) // patch, int(meta["img_width"]) // patch)
    prefix = cfg.num_prefix_tokens
    x = torch.from_numpy(io["input"].copy()).double().requires_grad_(True)

    result = model.forward_with_tokens(x)
    assert np.array_equal(result.logits.detach().float().numpy(), io["logits"]), f"{name}: base drifted"
    for layer, a in enumerate(result.attentions):
        assert np.array_equal(a.detach().float().numpy(), io[f"attn.{layer}"]), f"{name}: attn.{layer} drifted"
    stream = result.tokens[TOKEN_BLOCK + 1]

    generator = torch.Generator().manual_seed(SEEDS[name])
    logit_weights = seeded_normal(generator, result.logits.shape)
    token_seed = seeded_normal(generator, stream.shape)
    top1 = result.logits.detach().argmax(dim=1)

    loss = (logit_weights * result.logits).sum()
    *attn_grad, input_grad = torch.autograd.grad(loss, result.attentions + [x], retain_graph=True)
    (token_input_grad,) = torch.autograd.grad((token_seed * stream).sum(), x, retain_graph=True)
    # Chefer: one-hot on each image's top1; images do not interact, so one backward serves the batch.
    chefer_loss = result.logits.gather(1, top1[:, None]).sum()
    chefer_grads = torch.autograd.grad(chefer_loss, result.attentions)
    attentions = [a.detach() for a in result.attentions]
    chefer = chefer_relevance(attentions, chefer_grads, prefix)

    # The batched Chefer gradient is the per-image one.
    for b in range(x.shape[0]):
        single = model.forward_with_tokens(x[b : b + 1].detach().requires_grad_(True))
        g = torch.autograd.grad(single.logits[0, top1[b]], single.attentions)
        alone = chefer_relevance([a.detach() for a in single.attentions], g, prefix)
        assert (alone[0] - chefer[b]).abs().max().item() < 1e-12, f"{name}: image {b} Chefer differs alone"

    grads = {"input_grad": input_grad, "token_input_grad": token_input_grad, "attn_grad": attn_grad}
    print(f"{name:10s} B={x.shape[0]} T={stream.shape[1]} heads={cfg.num_heads} prefix={prefix}  "
          f"|input_grad| max {input_grad.abs().max().item():.2e}  "
          f"|attn_grad| max {max(g.abs().max().item() for g in attn_grad):.2e}  "
          f"top1 margin {min((l.topk(2).values[0] - l.topk(2).values[1]).item() for l in result.logits):.3f}")
    finite_difference_checks(name, model, x.detach(), logit_weights, token_seed, grads)

    out = {
        "logit_weights": logit_weights.float().numpy(),
        "input_grad": input_grad.float().numpy(),
        "token_seed": token_seed.float().numpy(),
        "token_input_grad": token_input_grad.float().numpy(),
        "top1": top1.numpy().astype(np.int32),
        "chefer": chefer.float().numpy(),
    }
    for layer, (a, g) in enumerate(zip(attentions, attn_grad)):
        out[f"attn.{layer}"] = a.float().numpy()
        out[f"attn_grad.{layer}"] = g.float().numpy()
    assert np.array_equal(out["logit_weights"].astype(np.float64), logit_weights.numpy())
    assert np.array_equal(out["token_seed"].astype(np.float64), token_seed.numpy())
    metadata = {
        "case": name,
        "description": f"gradients of {name} (tests/data/vit/{name}.safetensors) on its io input",
        "input_file": f"{name}.io.safetensors",
        "seed": SEEDS[name],
        "seed_generator": "torch.Generator().manual_seed(seed); torch.randn float64 logit_weights, then "
                          "token_seed; each rounded to float32",
        "token_block": TOKEN_BLOCK,
        "heads": cfg.num_heads,
        "depth": cfg.depth,
        "prefix": prefix,
        "grid_h": grid[0],
        "grid_w": grid[1],
        "chefer_row": "cls" if prefix > 0 else "mean_patch_rows",
    }
    path = os.path.join(OUT_DIR, f"{name}.safetensors")
    safetensors_io.save(path, out, metadata=metadata)
    back, _ = safetensors_io.load(path)
    assert set(back) == set(out) and all(np.array_equal(back[k], out[k]) for k in out), f"{name}: read-back"
    return path


# ---------------------------------------------------------------------------------------------
# B. DeiT-Tiny effective receptive fields


def channel_abs_sum(gradient: torch.Tensor) -> torch.Tensor:
    return gradient.abs().sum(dim=1)[0]  # [1,3,H,W] -> [H,W]


def generate_erf() -> str:
    for path in (imagenet.WEIGHTS, os.path.join(imagenet.IMAGES, "labels.csv")):
        if not os.path.isfile(path):
            sys.exit(f"{os.path.normpath(path)}: not found (the shared material must sit at ../shared)")
    state, _ = safetensors_io.load(imagenet.WEIGHTS)
    model = VisionTransformer.from_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()},
                                              imagenet.NUM_HEADS)
    assert model.cfg.classifier == "token" and model.cfg.pos_grid == (14, 14), model.cfg
    model = frozen(model.double())
    photo, label = imagenet.read_labels(os.path.join(imagenet.IMAGES, "labels.csv"))[0]
    image = imagenet.load_image(os.path.join(imagenet.IMAGES, photo))[None]  # [1,3,224,224] float32
    assert image.dtype == torch.float32 and image.shape == (1, 3, 224, 224)

    depth, gw = model.cfg.depth, model.cfg.pos_grid[1]
    patch_token = 1 + ERF_PATCH[0] * gw + ERF_PATCH[1]
    x = image.double().requires_grad_(True)
    result = model.forward_with_tokens(x)
    cls_score = result.tokens[depth][0, 0].sum()  # after the last block, before the final norm
    patch_score = result.tokens[1][0, patch_token].sum()  # after block 0
    (cls_grad,) = torch.autograd.grad(cls_score, x, retain_graph=True)
    (patch_grad,) = torch.autograd.grad(patch_score, x)
    top1 = int(result.logits.argmax())

    # Finite differences on a few pixels (signed gradients).
    rng = np.random.default_rng(4001)
    worst = 0.0
    with torch.no_grad():
        for _ in range(3):
            # the patch token's field is its own 16x16 patch at block 0: sample there for it
            r, c = ERF_PATCH[0] * 16 + int(rng.integers(16)), ERF_PATCH[1] * 16 + int(rng.integers(16))
            for score_of, g, (i, j) in (
                    (lambda res: res.tokens[depth][0, 0].sum().item(), cls_grad,
                     (int(rng.integers(224)), int(rng.integers(224)))),
                    (lambda res: res.tokens[1][0, patch_token].sum().item(), patch_grad, (r, c))):
                index = (0, int(rng.integers(3)), i, j)
                plus, minus = x.detach().clone(), x.detach().clone()
                plus[index] += FD_STEP
                minus[index] -= FD_STEP
                numeric = (score_of(model.forward_with_tokens(plus)) -
                           score_of(model.forward_with_tokens(minus))) / (2 * FD_STEP)
                worst = max(worst, relative_error(numeric, g[index].item(), g.abs().max().item()))
    print(f"deit_tiny  {photo} (label {label}, float64 top1 {top1})  finite differences, worst relative "
          f"error {worst:.1e}")
    assert worst < FD_TOLERANCE, f"deit_tiny_erf: finite differences disagree ({worst})"

    cls_last, patch_first = channel_abs_sum(cls_grad), channel_abs_sum(patch_grad)
    # After block 0 a patch token depends on the other patches only through attention: its field
    # is everywhere, but dominated by its own patch.
    own = patch_first[ERF_PATCH[0] * 16 : ERF_PATCH[0] * 16 + 16, ERF_PATCH[1] * 16 : ERF_PATCH[1] * 16 + 16]
    print(f"{'':10s} cls_last sum {cls_last.sum().item():.3e}  patch_first sum {patch_first.sum().item():.3e} "
          f"({own.sum().item() / patch_first.sum().item():.1%} inside its own patch)")
    out = {"input": image.numpy(), "cls_last": cls_last.float().numpy(), "patch_first": patch_first.float().numpy()}
    with open(imagenet.WEIGHTS, "rb") as f:
        weights_sha = hashlib.sha256(f.read()).hexdigest()
    metadata = {
        "description": "DeiT-Tiny effective receptive fields: sum over channels of |dS/d input|",
        "model": imagenet.MODEL,
        "weights_sha256": weights_sha,
        "photo": photo,
        "label": label,
        "top1": top1,
        "preprocess": "PIL RGB, Resize 256 bicubic, CenterCrop 224, ToTensor, Normalize ImageNet mean/std "
                      "(gen_imagenet_reference.py)",
        "cls_last_token": 0,
        "cls_last_block": depth - 1,
        "cls_last_stream": f"tokens.{depth}: after block {depth - 1}, before the final norm",
        "patch_first_token": patch_token,
        "patch_first_grid_row": ERF_PATCH[0],
        "patch_first_grid_col": ERF_PATCH[1],
        "patch_first_block": 0,
        "patch_first_stream": "tokens.1: after block 0",
    }
    path = os.path.join(OUT_DIR, "deit_tiny_erf.safetensors")
    safetensors_io.save(path, out, metadata=metadata)
    return path


def main() -> None:
    start = time.time()
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in BASES:
        if not os.path.isfile(os.path.join(CASES_DIR, f"{name}.io.safetensors")):
            print(f"{name}: no such case, skipped")
            continue
        generate_case(name)
    generate_erf()
    total = safetensors_io.report_sizes(OUT_DIR, "tests/data/vit/gradients")
    assert total < SIZE_BUDGET, f"tests/data/vit/gradients: {total} bytes, over the {SIZE_BUDGET} budget"
    print(f"done in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
