#!/usr/bin/python3
"""Writes the ViT golden cases to tests/data/vit/.

For each case:
  <case>.safetensors     random weights under timm's names, F32 (the file the C++ model loads)
  <case>.io.safetensors  input [B,3,H,W], logits [B,classes], attn.<layer> [B,heads,T,T], all F32,
                         with the hyper-parameters as string metadata.

The reference runs in float64 on the float32 weights and input, and is stored rounded to float32:
the C++ float32 forward is then compared against a more exact truth than a float32 PyTorch run.
Weight scales are chosen so the comparison means something: peaked (non-uniform) attention,
LayerNorm affine parameters away from 1/0, non-zero biases everywhere, logits of order 1-10.

Usage: /usr/bin/python3 scripts/golden/gen_vit_cases.py  (from anywhere; paths are repo-relative)
"""
from dataclasses import dataclass
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from vit_reference import ViTConfig, VisionTransformer, resample_abs_pos_embed  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "tests", "data", "vit")

# Standard deviation of a Linear weight is gain / sqrt(fan_in). The qkv gain makes the attention
# logits' spread ~1.5-2 (clearly peaked rows, not one-hot); the head gain makes logits of order 1-10.
QKV_GAIN = 1.6
HEAD_GAIN = 3.0


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    cfg: ViTConfig
    batch: int
    image: tuple  # (H, W) actually fed
    seed: int


def _cfg(width, heads, grid, classes, classifier="token", depth=2, pos_antialias=False):
    return ViTConfig(
        patch_size=16, embed_dim=width, depth=depth, num_heads=heads, mlp_hidden=4 * width,
        num_classes=classes, pos_grid=grid, classifier=classifier, pos_antialias=pos_antialias,
    )


CASES = [
    Case("square", "64x64, 4x4 grid, cls token, 3 heads", _cfg(48, 3, (4, 4), 10), 2, (64, 64), 1001),
    Case("nonsquare", "48x80, 3x5 grid trained and fed, cls token", _cfg(32, 2, (3, 5), 7), 2, (48, 80), 1002),
    Case("interp", "pos_embed trained 4x4, fed 96x80 (6x5): bicubic resampling, antialias off",
         _cfg(32, 2, (4, 4), 5), 1, (96, 80), 1003),
    Case("interp_antialias", "pos_embed trained 4x4, fed 48x80 (3x5): bicubic resampling, antialias on",
         _cfg(32, 2, (4, 4), 5, depth=1, pos_antialias=True), 1, (48, 80), 1007),
    Case("distilled", "DeiT distilled: cls + dist token, (head + head_dist) / 2",
         _cfg(32, 2, (4, 4), 10, "distilled"), 2, (64, 64), 1004),
    Case("avgpool", "no cls token, mean over patch tokens, fc_norm, 4 heads",
         _cfg(32, 4, (4, 4), 6, "avg"), 2, (64, 64), 1005),
    Case("tokens197", "224x224, 14x14 grid, T=197", _cfg(64, 2, (14, 14), 16), 1, (224, 224), 1006),
]


def random_state(model: VisionTransformer, rng: np.random.Generator) -> dict:
    """Float32 weights for every parameter of `model`, keyed by timm name."""
    state = {}

    def normal(shape, std, mean=0.0):
        return (mean + std * rng.standard_normal(shape)).astype(np.float32)

    def uniform(shape, low, high):
        return rng.uniform(low, high, shape).astype(np.float32)

    for prefix, module in model.named_modules():
        if isinstance(module, nn.LayerNorm):
            state[prefix + ".weight"] = uniform(module.weight.shape, 0.8, 1.2)
            state[prefix + ".bias"] = uniform(module.bias.shape, -0.1, 0.1)
        elif isinstance(module, (nn.Linear, nn.Conv2d)):
            fan_in = module.weight[0].numel()
            gain = QKV_GAIN if prefix.endswith("qkv") else HEAD_GAIN if prefix.startswith("head") else 1.0
            state[prefix + ".weight"] = normal(module.weight.shape, gain / np.sqrt(fan_in))
            state[prefix + ".bias"] = normal(module.bias.shape, 0.5 if prefix.startswith("head") else 0.1)
    for name in ("cls_token", "dist_token"):
        if hasattr(model, name):
            state[name] = normal(getattr(model, name).shape, 1.0)
    state["pos_embed"] = normal(model.pos_embed.shape, 0.7)
    missing = set(model.state_dict()) ^ set(state)
    assert not missing, f"initialiser out of step with the model: {sorted(missing)}"
    return state


def to_torch(state: dict) -> dict:
    return {k: torch.from_numpy(v.copy()) for k, v in state.items()}


def check_reference(case: Case, logits: torch.Tensor, attentions: list) -> None:
    cfg = case.cfg
    grid = (case.image[0] // cfg.patch_size, case.image[1] // cfg.patch_size)
    tokens = cfg.num_prefix_tokens + grid[0] * grid[1]
    assert logits.shape == (case.batch, cfg.num_classes), logits.shape
    assert len(attentions) == cfg.depth
    for layer, probs in enumerate(attentions):
        assert probs.shape == (case.batch, cfg.num_heads, tokens, tokens), (layer, probs.shape)
        row_error = (probs.sum(-1) - 1).abs().max().item()
        assert row_error < 1e-12, f"{case.name}: attn.{layer} rows sum to 1 +- {row_error}"
        assert probs.min().item() >= 0


def check_against_torchvision(case: Case, state: dict, x: torch.Tensor, logits: torch.Tensor,
                              attentions: list) -> float:
    """Runs torchvision's independent ViT (its own attention, nn.MultiheadAttention) on the same
    weights; returns the worst difference over logits and every layer's probabilities."""
    import torchvision

    cfg = case.cfg
    tv = torchvision.models.VisionTransformer(
        image_size=case.image[0], patch_size=cfg.patch_size, num_layers=cfg.depth, num_heads=cfg.num_heads,
        hidden_dim=cfg.embed_dim, mlp_dim=cfg.mlp_hidden, num_classes=cfg.num_classes,
    )
    names = {
        "class_token": "cls_token", "conv_proj.weight": "patch_embed.proj.weight",
        "conv_proj.bias": "patch_embed.proj.bias", "encoder.pos_embedding": "pos_embed",
        "encoder.ln.weight": "norm.weight", "encoder.ln.bias": "norm.bias",
        "heads.head.weight": "head.weight", "heads.head.bias": "head.bias",
    }
    per_layer = {"ln_1": "norm1", "self_attention.in_proj_": "attn.qkv.", "self_attention.out_proj": "attn.proj",
                 "ln_2": "norm2", "mlp.0": "mlp.fc1", "mlp.3": "mlp.fc2"}
    tv_state = {}
    for tv_name in tv.state_dict():
        timm_name = names.get(tv_name)
        if timm_name is None:
            layer = int(tv_name.split(".")[2].rsplit("_", 1)[1])
            rest = tv_name.split(".", 3)[3]
            for tv_part, timm_part in per_layer.items():
                if rest.startswith(tv_part):
                    timm_name = f"blocks.{layer}." + timm_part + rest[len(tv_part):]
                    break
        tv_state[tv_name] = torch.from_numpy(state[timm_name].copy())
    tv.load_state_dict(tv_state, strict=True)
    tv = tv.double().eval()

    worst = 0.0
    with torch.no_grad():
        worst = max(worst, (tv(x) - logits).abs().max().item())
        # Walk the encoder by hand to read each layer's head-wise probabilities.
        h = tv._process_input(x)
        h = torch.cat([tv.class_token.expand(h.shape[0], -1, -1), h], dim=1) + tv.encoder.pos_embedding
        for layer, block in enumerate(tv.encoder.layers):
            y = block.ln_1(h)
            _, probs = block.self_attention(y, y, y, need_weights=True, average_attn_weights=False)
            worst = max(worst, (probs - attentions[layer]).abs().max().item())
            h = block(h)
    return worst


def model_from_files(weights_path: str, io_metadata: dict) -> VisionTransformer:
    """The float64 reference rebuilt from a weights file and the metadata of its io file."""
    tensors, _ = safetensors_io.load(weights_path)
    grid = (int(io_metadata["pos_grid_h"]), int(io_metadata["pos_grid_w"]))
    return VisionTransformer.from_state_dict(to_torch(tensors), int(io_metadata["heads"]), grid,
                                             io_metadata["pos_embed_antialias"] == "1").double()


def load_case(name: str):
    """An existing case from OUT_DIR: (float64 model, io tensors, io metadata)."""
    io, meta = safetensors_io.load(os.path.join(OUT_DIR, f"{name}.io.safetensors"))
    return model_from_files(os.path.join(OUT_DIR, f"{name}.safetensors"), meta), io, meta


def check_round_trip(case: Case, weights_path: str, io_path: str) -> None:
    """Rebuilds the model from the written files alone and reproduces the stored outputs."""
    io, meta = safetensors_io.load(io_path)
    model = model_from_files(weights_path, meta)
    assert model.cfg == case.cfg, (model.cfg, case.cfg)
    with torch.no_grad():
        logits, attentions = model(torch.from_numpy(io["input"].copy()).double())
    assert np.array_equal(logits.float().numpy(), io["logits"]), f"{case.name}: logits do not round-trip"
    for layer, probs in enumerate(attentions):
        assert np.array_equal(probs.float().numpy(), io[f"attn.{layer}"]), f"{case.name}: attn.{layer}"


def generate(case: Case) -> None:
    cfg = case.cfg
    rng = np.random.default_rng(case.seed)
    model = VisionTransformer(cfg)
    state = random_state(model, rng)
    model.load_state_dict(to_torch(state), strict=True)
    model = model.double().eval()
    image = rng.standard_normal((case.batch, cfg.in_chans, *case.image)).astype(np.float32)
    x = torch.from_numpy(image).double()

    with torch.no_grad():
        logits, attentions = model(x)
        fp32_logits, _ = VisionTransformer.from_state_dict(to_torch(state), cfg.num_heads, cfg.pos_grid,
                                                           cfg.pos_antialias)(
            torch.from_numpy(image))
    check_reference(case, logits, attentions)

    weights_path = os.path.join(OUT_DIR, f"{case.name}.safetensors")
    io_path = os.path.join(OUT_DIR, f"{case.name}.io.safetensors")
    safetensors_io.save(weights_path, state, metadata={"format": "pt"})
    io = {"input": image, "logits": logits.float().numpy()}
    for layer, probs in enumerate(attentions):
        io[f"attn.{layer}"] = probs.float().numpy()
    metadata = {
        "description": case.description,
        "heads": cfg.num_heads, "patch_size": cfg.patch_size,
        "img_height": case.image[0], "img_width": case.image[1],
        "pos_grid_h": cfg.pos_grid[0], "pos_grid_w": cfg.pos_grid[1],
        "classifier": cfg.classifier, "layernorm_eps": repr(cfg.layernorm_eps),
        "depth": cfg.depth, "width": cfg.embed_dim, "num_classes": cfg.num_classes,
        "pos_embed_resample": f"bicubic, align_corners=False, antialias={cfg.pos_antialias}",
        "pos_embed_antialias": "1" if cfg.pos_antialias else "0",
    }
    safetensors_io.save(io_path, io, metadata=metadata)
    check_round_trip(case, weights_path, io_path)

    peak = torch.stack([p.max(-1).values.mean() for p in attentions]).mean().item()
    print(f"{case.name:10s} logits in [{logits.min().item():7.2f}, {logits.max().item():6.2f}]  "
          f"std {logits.std().item():5.2f}  mean row max prob {peak:.3f}  "
          f"|fp32 torch - fp64| logits {(fp32_logits.double() - logits).abs().max().item():.1e}")
    grid = (case.image[0] // cfg.patch_size, case.image[1] // cfg.patch_size)
    if cfg.classifier == "token" and grid[0] == grid[1] and grid == tuple(cfg.pos_grid):
        worst = check_against_torchvision(case, state, x, logits, attentions)
        assert worst < 1e-10, f"{case.name}: torchvision disagrees by {worst}"
        print(f"{'':10s} torchvision ViT on the same weights: worst |diff| {worst:.1e}")
    if grid != tuple(cfg.pos_grid):
        with torch.no_grad():
            plain = resample_abs_pos_embed(model.pos_embed, grid, cfg.pos_grid, cfg.num_prefix_tokens)
            aa = resample_abs_pos_embed(model.pos_embed, grid, cfg.pos_grid, cfg.num_prefix_tokens,
                                        antialias=True)
        print(f"{'':10s} resampled pos_embed: antialias=True would differ by up to "
              f"{(plain - aa).abs().max().item():.3f} (pos_embed std {model.pos_embed.std().item():.2f})")


def main() -> None:
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.set_grad_enabled(False)
    for case in CASES:
        generate(case)
    safetensors_io.report_sizes(OUT_DIR, "tests/data/vit")


if __name__ == "__main__":
    main()
