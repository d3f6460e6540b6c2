#!/usr/bin/python3
"""Golden data for the PIL-compatible preprocessing (tests/preprocess).

Writes into tests/data/preprocess/:
  <name>.png                 the source images, lossless: crops of the scikit-image sample photos
                             and two synthetic patterns with sharp edges (cheap to store, and they
                             drive the bicubic overshoot into clamping)
  golden.safetensors         U8  "<name>.<interp>.<W>x<H>"   = Image.resize((W, H), filter)
                             F32 "<name>.<interp>.tensor.<config>" = the torchvision eval pipeline
                             metadata "resize_cases" / "pipeline_cases": JSON lists of the cases

Run with Debian's interpreter: /usr/bin/python3 scripts/golden/gen_preprocess.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

PHOTOS = "/usr/lib/python3/dist-packages/skimage/data"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "preprocess")
FILTERS = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
MODES = {"bicubic": InterpolationMode.BICUBIC, "bilinear": InterpolationMode.BILINEAR}
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def photo_crop(file, left, top, width, height):
    image = Image.open(os.path.join(PHOTOS, file)).convert("RGB")
    return image.crop((left, top, left + width, top + height))


def pattern(width, height, seed):
    """Gradients, a black/white checkerboard, one-pixel lines and a small block of noise."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    image[..., 1] = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    image[..., 2] = ((x + 2 * y) % 256).astype(np.uint8)
    checker = ((x // 7 + y // 5) % 2 * 255).astype(np.uint8)
    region = (x < width // 2) & (y < height // 2)
    image[region] = checker[region][:, None]
    image[y % 37 == 0] = (255, 0, 255)
    image[:, ::53] = (0, 0, 0)
    rng = np.random.default_rng(seed)
    top, left = height * 2 // 3, width * 2 // 3
    block = image[top : top + 40, left : left + 40]
    block[...] = rng.integers(0, 256, block.shape, dtype=np.uint8)
    return Image.fromarray(image, "RGB")


# name -> (source image, [(interp, width, height)])
def cases():
    both = ("bicubic", "bilinear")
    return {
        # 97x61 photo: halves, large factor, small factor, one axis only (down, up), upscale.
        "cat": (photo_crop("chelsea.png", 170, 60, 97, 61),
                [(f, w, h) for f in both for (w, h) in
                 [(48, 30), (13, 9), (90, 57), (97, 30), (120, 61), (110, 70)]]),
        # a thin strip: the short side is 17 pixels
        "strip": (photo_crop("coffee.png", 300, 50, 17, 301),
                  [(f, w, h) for f in both for (w, h) in [(17, 100), (5, 77), (34, 150)]]),
        # 225x224 -> 224x224: a factor next to 1 on one axis only
        "square": (photo_crop("astronaut.png", 140, 20, 225, 224),
                   [("bicubic", 224, 224)] + [(f, 32, 32) for f in both]),
        # smaller than every output: pure upscaling
        "tiny": (photo_crop("rocket.jpg", 300, 200, 23, 17),
                 [(f, w, h) for f in both for (w, h) in [(64, 47), (70, 50)]]),
        "wide": (pattern(641, 427, 1),
                 [("bicubic", w, h) for (w, h) in [(64, 43), (37, 25), (128, 85), (641, 20)]]
                 + [("bilinear", 64, 43)]),
        "tall": (pattern(333, 500, 2),
                 [("bicubic", w, h) for (w, h) in [(83, 125), (333, 33), (20, 500)]]
                 + [("bilinear", 83, 125)]),
    }


# (source, interp, input height, input width, crop_pct)
PIPELINES = [
    ("cat", "bicubic", 64, 64, 0.875),
    ("cat", "bilinear", 64, 64, 0.875),
    ("strip", "bicubic", 64, 64, 0.875),
    ("square", "bilinear", 32, 32, 0.875),
    ("wide", "bicubic", 48, 80, 0.875),  # non-square input: both sides resized independently
    ("tiny", "bicubic", 32, 32, 1.25),   # resize to 25, then the centre crop pads with zeros
]


def timm_eval_transform(interp, height, width, crop_pct):
    """timm's transforms_imagenet_eval, written out with torchvision 0.14."""
    if height == width:
        scale_size = math.floor(height / crop_pct)
    else:
        scale_size = (math.floor(height / crop_pct), math.floor(width / crop_pct))
    return transforms.Compose([
        transforms.Resize(scale_size, interpolation=MODES[interp]),
        transforms.CenterCrop((height, width)),
        transforms.ToTensor(),
        transforms.Normalize(torch.tensor(MEAN), torch.tensor(STD)),
    ])


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors = {}
    resize_cases = []
    sources = {}
    for name, (image, targets) in cases().items():
        file = f"{name}.png"
        image.save(os.path.join(OUT, file), optimize=True)
        sources[name] = Image.open(os.path.join(OUT, file)).convert("RGB")
        for interp, width, height in targets:
            key = f"{name}.{interp}.{width}x{height}"
            tensors[key] = np.asarray(sources[name].resize((width, height), FILTERS[interp]))
            resize_cases.append({"source": file, "interpolation": interp,
                                 "width": width, "height": height, "tensor": key})
    pipeline_cases = []
    for name, interp, height, width, crop_pct in PIPELINES:
        key = f"{name}.{interp}.tensor.{height}x{width}.crop{crop_pct}"
        transform = timm_eval_transform(interp, height, width, crop_pct)
        tensors[key] = transform(sources[name]).numpy().astype(np.float32)
        pipeline_cases.append({"source": f"{name}.png", "interpolation": interp,
                               "input_height": height, "input_width": width,
                               "crop_pct": crop_pct, "mean": MEAN, "std": STD, "tensor": key})
    metadata = {
        "generator": "scripts/golden/gen_preprocess.py",
        "pil": Image.__version__ if hasattr(Image, "__version__") else "",
        "torchvision": __import__("torchvision").__version__,
        "resize_cases": json.dumps(resize_cases),
        "pipeline_cases": json.dumps(pipeline_cases),
    }
    safetensors_io.save(os.path.join(OUT, "golden.safetensors"), tensors, metadata)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(resize_cases)} resize cases, {len(pipeline_cases)} pipelines, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
