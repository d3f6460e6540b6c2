#!/usr/bin/python3
"""Golden ViT attention maps for tests/maps: rollout and mean attention distance, computed in
float64 with PyTorch from the attention probabilities stored in tests/data/vit/<case>.io.safetensors
(so the C++ maps are tested on exactly the same input).

Definitions (what vitscope implements):
  rollout (Abnar & Zuidema, 2020): per layer, fuse heads (mean | max | min) -> A[T,T]; optionally
    zero the `discard` fraction of lowest entries of A per image, never the class token's own entry
    A[0,0]; add the identity for the residual path, A' = (A + I) / 2; renormalise rows to sum 1;
    R = A'_L ... A'_1 (later layers on the left). The map is R[0, prefix:] on the patch grid,
    divided by its maximum.
  mean attention distance (Dosovitskiy et al., 2021, fig. 7): for a head, sum over key patches j of
    attn[i, j] * |centre_i - centre_j| (pixels; patch tokens only, probabilities as they are, not
    renormalised), averaged over query patches i and over the images of the batch.

Writes tests/data/maps/vit_maps.safetensors.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def rollout(attentions, prefix, fusion, discard):
    result = None
    for attn in attentions:  # [B, heads, T, T]
        fused = {"mean": attn.mean(1), "max": attn.max(1).values, "min": attn.min(1).values}[fusion]
        B, T, _ = fused.shape
        if discard > 0:
            flat = fused.reshape(B, -1).clone()
            count = int(flat.shape[-1] * discard)
            for b in range(B):
                order = torch.argsort(flat[b], stable=True)  # ascending; ties by index
                drop = [int(i) for i in order[: count + 1] if int(i) != 0][:count]
                flat[b, drop] = 0
            fused = flat.reshape(B, T, T)
        a = (fused + torch.eye(T, dtype=fused.dtype)) / 2
        a = a / a.sum(-1, keepdim=True)
        result = a if result is None else a @ result
    return result  # [B, T, T]


def distance_matrix(gh, gw, patch):
    ys, xs = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    centres = np.stack([ys.ravel(), xs.ravel()], -1).astype(np.float64) * patch
    return torch.from_numpy(np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1))


def main():
    out = {}
    meta = {}
    for case in ["tokens197", "distilled", "nonsquare"]:
        io, m = safetensors_io.load(os.path.join(REPO, "tests", "data", "vit", f"{case}.io.safetensors"))
        depth = int(m["depth"])
        attentions = [torch.from_numpy(io[f"attn.{l}"].astype(np.float64)) for l in range(depth)]
        prefix = {"token": 1, "avg": 0, "distilled": 2}[m["classifier"]]
        patch = int(m["patch_size"])
        gh, gw = int(m["img_height"]) // patch, int(m["img_width"]) // patch
        for fusion in ["mean", "max", "min"]:
            for discard in [0.0, 0.9]:
                r = rollout(attentions, prefix, fusion, discard)
                cls_map = r[:, 0, prefix:]
                cls_map = cls_map / cls_map.max(-1, keepdim=True).values
                out[f"{case}.rollout.{fusion}.{discard:g}"] = cls_map.reshape(-1, gh, gw).numpy()
        dist = distance_matrix(gh, gw, patch)
        per_head = torch.stack([(a[:, :, prefix:, prefix:] * dist).sum(-1).mean(-1).mean(0)
                                for a in attentions])  # [layers, heads]
        out[f"{case}.distance"] = per_head.numpy()
        meta[f"{case}.grid"] = f"{gh}x{gw}"
    safetensors_io.save(os.path.join(REPO, "tests", "data", "maps", "vit_maps.safetensors"),
                        {k: v.astype(np.float32) for k, v in out.items()}, metadata=meta)
    print("wrote tests/data/maps/vit_maps.safetensors:", ", ".join(sorted(out)))


if __name__ == "__main__":
    main()
