#!/usr/bin/python3
"""Writes tests/data/imagenet100_deit_tiny.safetensors: PyTorch's DeiT-Tiny logits on imagenet-100.

Runs the plain-torch timm reference (vit_reference.py) in float32, as a PyTorch user would, on the
shared weights ../shared/models/deit_tiny_patch16_224.safetensors, over the 100 photos of
../shared/images/imagenet-100 in the order of labels.csv, with timm's eval preprocessing on PIL:
RGB, Resize(256, bicubic), CenterCrop(224), ToTensor, Normalize(ImageNet mean, std).

Output tensors: logits [100,1000] F32, top1 [100] I64.
Metadata: files (JSON list, row order), model, weights_sha256.

Usage: /usr/bin/python3 scripts/golden/gen_imagenet_reference.py
"""
import csv
import hashlib
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from vit_reference import VisionTransformer  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(REPO, "..", "shared")
WEIGHTS = os.path.join(SHARED, "models", "deit_tiny_patch16_224.safetensors")
IMAGES = os.path.join(SHARED, "images", "imagenet-100")
OUTPUT = os.path.join(REPO, "tests", "data", "imagenet100_deit_tiny.safetensors")
MODEL = "deit_tiny_patch16_224"
NUM_HEADS = 3  # not recoverable from tensor shapes
BATCH = 10

PREPROCESS = transforms.Compose([
    transforms.Resize(256, interpolation=InterpolationMode.BICUBIC),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
])


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_labels(path: str) -> list:
    with open(path, newline="") as f:
        return [(row["file"], int(row["class_index"])) for row in csv.DictReader(f)]


def load_image(path: str) -> torch.Tensor:
    with Image.open(path) as image:
        return PREPROCESS(image.convert("RGB"))


def main() -> None:
    for path in (WEIGHTS, os.path.join(IMAGES, "labels.csv")):
        if not os.path.isfile(path):
            sys.exit(f"{os.path.normpath(path)}: not found (the shared material must sit at ../shared)")

    state, _ = safetensors_io.load(WEIGHTS)
    model = VisionTransformer.from_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, NUM_HEADS)
    assert model.cfg.classifier == "token" and model.cfg.pos_grid == (14, 14), model.cfg

    labels = read_labels(os.path.join(IMAGES, "labels.csv"))
    files = [name for name, _ in labels]
    logits = []
    with torch.no_grad():
        for start in range(0, len(files), BATCH):
            batch = torch.stack([load_image(os.path.join(IMAGES, name)) for name in files[start : start + BATCH]])
            out, attentions = model(batch)
            assert (attentions[-1].sum(-1) - 1).abs().max().item() < 1e-5
            logits.append(out)
    logits = torch.cat(logits)
    top1 = logits.argmax(dim=1)

    expected = torch.tensor([index for _, index in labels])
    correct = int((top1 == expected).sum())
    metadata = {"files": json.dumps(files), "model": MODEL, "weights_sha256": sha256(WEIGHTS)}
    safetensors_io.save(OUTPUT, {"logits": logits.numpy().astype(np.float32), "top1": top1.numpy().astype(np.int64)},
                        metadata=metadata)
    print(f"{MODEL}: top-1 {correct}/{len(files)} on imagenet-100 (float32 PyTorch reference)")
    print(f"wrote {os.path.relpath(OUTPUT, REPO)} ({os.path.getsize(OUTPUT)} bytes), "
          f"logits {tuple(logits.shape)}, top1 {tuple(top1.shape)}")


if __name__ == "__main__":
    main()
