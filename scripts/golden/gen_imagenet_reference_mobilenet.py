#!/usr/bin/python3
"""Writes tests/data/imagenet100_mobilenet_v1.safetensors: PyTorch's MobileNet v1 0.75/224 logits on
imagenet-100.

Runs the plain-torch Keras-layout reference (cnn_reference.KerasMobileNetV1: TensorFlow "same"
padding as explicit F.pad, BatchNorm eps 1e-3, ReLU6) in float32, as a PyTorch user would, on the
shared weights ../shared/models/mobilenet_v1_0.75_224.safetensors, over the 100 photos of
../shared/images/imagenet-100 in the order of labels.csv, with the preprocessing the weights were
trained for, on PIL: RGB, Resize(256, bilinear), CenterCrop(224), ToTensor, Normalize(0.5, 0.5)
(= x / 127.5 - 1).

Output tensors: logits [100,1000] F32, top1 [100] I64.
Metadata: files (JSON list, row order), model, weights_sha256.

Usage: /usr/bin/python3 scripts/golden/gen_imagenet_reference_mobilenet.py
"""
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
from cnn_reference import KerasMobileNetV1  # noqa: E402
from gen_imagenet_reference import read_labels, sha256  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(REPO, "..", "shared")
WEIGHTS = os.path.join(SHARED, "models", "mobilenet_v1_0.75_224.safetensors")
IMAGES = os.path.join(SHARED, "images", "imagenet-100")
OUTPUT = os.path.join(REPO, "tests", "data", "imagenet100_mobilenet_v1.safetensors")
MODEL = "mobilenet_v1_0.75_224"
BATCH = 10

PREPROCESS = transforms.Compose([
    transforms.Resize(256, interpolation=InterpolationMode.BILINEAR),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
])


def load_image(path: str) -> torch.Tensor:
    with Image.open(path) as image:
        return PREPROCESS(image.convert("RGB"))


def main() -> None:
    for path in (WEIGHTS, os.path.join(IMAGES, "labels.csv")):
        if not os.path.isfile(path):
            sys.exit(f"{os.path.normpath(path)}: not found (the shared material must sit at ../shared)")

    state, _ = safetensors_io.load(WEIGHTS)
    model = KerasMobileNetV1(state)
    labels = read_labels(os.path.join(IMAGES, "labels.csv"))
    files = [name for name, _ in labels]
    logits = []
    with torch.no_grad():
        for start in range(0, len(files), BATCH):
            batch = torch.stack([load_image(os.path.join(IMAGES, name)) for name in files[start : start + BATCH]])
            out, _ = model(batch)
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
