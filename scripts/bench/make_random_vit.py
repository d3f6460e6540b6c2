"""Writes a random-weight ViT in timm layout (F32 safetensors) for the peer benchmark.

    make_random_vit.py --shape deit_small|vit_base --out FILE [--seed 0]

The weights are drawn with a fixed seed at scales a trained ViT roughly has, so that the attention
is neither uniform nor one-hot and the logits spread over several units (top-5 classes of a photo
are well separated instead of a near-tie among 1000 equal probabilities):
  linear / patch-embedding weights  N(0, 1/fan_in)      -> unit-scale activations after each LayerNorm
  biases, cls token, pos_embed      N(0, 0.02^2)        (timm's init scale)
  LayerNorm                         weight 1 + N(0, 0.1^2), bias N(0, 0.05^2)
  head                              N(0, (3/sqrt(width))^2) -> logits with a standard deviation near 3
A file that already exists with the same metadata (shape, seed, generator version) is kept.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import safetensors_io  # noqa: E402

GENERATOR_VERSION = "1"

# name -> (width, depth, heads, mlp hidden); patch 16, 224x224 input, 1000 classes.
SHAPES = {
    "deit_small": (384, 12, 6, 1536),
    "vit_base": (768, 12, 12, 3072),
}
PATCH, GRID, CLASSES, CHANNELS = 16, 14, 1000, 3


def read_metadata(path):
    """The __metadata__ of a safetensors file, read from its header only (the file may be large)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length)).get("__metadata__", {})


def up_to_date(path, metadata):
    """True when path is a safetensors file written with exactly this metadata."""
    if not os.path.exists(path):
        return False
    try:
        return read_metadata(path) == metadata
    except (OSError, ValueError, struct.error):
        return False


def random_state(width, depth, mlp, rng):
    """timm VisionTransformer (class token, no distillation token) state dict of numpy F32 arrays."""

    def normal(shape, std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)

    def linear(prefix, out_features, in_features, std=None):
        state[prefix + ".weight"] = normal((out_features, in_features), std or in_features ** -0.5)
        state[prefix + ".bias"] = normal((out_features,), 0.02)

    def layernorm(prefix):
        state[prefix + ".weight"] = 1.0 + normal((width,), 0.1)
        state[prefix + ".bias"] = normal((width,), 0.05)

    state = {}
    fan_in = CHANNELS * PATCH * PATCH
    state["patch_embed.proj.weight"] = normal((width, CHANNELS, PATCH, PATCH), fan_in ** -0.5)
    state["patch_embed.proj.bias"] = normal((width,), 0.02)
    state["cls_token"] = normal((1, 1, width), 0.02)
    state["pos_embed"] = normal((1, 1 + GRID * GRID, width), 0.02)
    for i in range(depth):
        block = f"blocks.{i}"
        layernorm(block + ".norm1")
        linear(block + ".attn.qkv", 3 * width, width)
        linear(block + ".attn.proj", width, width)
        layernorm(block + ".norm2")
        linear(block + ".mlp.fc1", mlp, width)
        linear(block + ".mlp.fc2", width, mlp)
    layernorm("norm")
    linear("head", CLASSES, width, std=3.0 * width ** -0.5)
    return state


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", required=True, choices=sorted(SHAPES))
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    width, depth, heads, mlp = SHAPES[args.shape]
    metadata = {
        "format": "pt",
        "model": f"random {args.shape}_patch16_224 (timm names)",
        "heads": str(heads),
        "seed": str(args.seed),
        "generator": f"scripts/bench/make_random_vit.py v{GENERATOR_VERSION}",
    }
    if up_to_date(args.out, metadata):
        print(f"make_random_vit: {args.out} is up to date")
        return
    rng = np.random.default_rng(args.seed)
    state = random_state(width, depth, mlp, rng)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    partial = args.out + ".part"
    safetensors_io.save(partial, state, metadata=metadata)
    os.replace(partial, args.out)
    params = sum(v.size for v in state.values())
    print(f"make_random_vit: wrote {args.out} ({args.shape}: {params / 1e6:.1f} M parameters, seed {args.seed})")


if __name__ == "__main__":
    main()
