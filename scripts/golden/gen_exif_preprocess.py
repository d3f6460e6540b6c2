#!/usr/bin/python3
"""Golden data for EXIF orientation handling in front of the timm evaluation pipeline.

Writes tests/data/preprocess/exif.safetensors:
  F32 [3, 32, 32] "ignore.<file>"  Image.open(file).convert("RGB"), no EXIF transpose (what
                                     timm / torchvision evaluation does), then the timm eval
                                     transform (bicubic, 32x32, crop_pct 0.875, ImageNet mean/std)
  F32 [3, 32, 32] "apply.<file>"   the same after ImageOps.exif_transpose (before convert("RGB"))
  metadata "files" (JSON list), "orientation.<file>" (the EXIF Orientation PIL reads, "1" if none),
           "dropped" (JSON list of files left out, with the reason below), generator, versions

The sources are the orientation_* fixtures of tests/data/images (scripts/golden/gen_images.py).
Each tensor is 3*32*32*4 = 12,288 bytes: a 32x32 input keeps the file small, and the EXIF handling
does not depend on the size. The TIFF fixture is left out: Pillow < 10.1 applies a TIFF's
orientation itself on load without removing the tag (so "ignore" is not PIL's stored pixels there,
and exif_transpose turns it a second time: Pillow #7381).

Run with Debian's interpreter: /usr/bin/python3 scripts/golden/gen_exif_preprocess.py
"""
import json
import os
import sys

import numpy as np
import torchvision
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from gen_preprocess import MEAN, STD, timm_eval_transform  # noqa: E402

IMAGES = os.path.join(HERE, "..", "..", "tests", "data", "images")
OUT = os.path.join(HERE, "..", "..", "tests", "data", "preprocess", "exif.safetensors")
CANDIDATES = ["orientation_3.jpg", "orientation_6.jpg", "orientation_8.jpg",
              "orientation_6.png", "orientation_6.tiff"]
ORIENTATION = 0x0112
INTERP, HEIGHT, WIDTH, CROP_PCT = "bicubic", 32, 32, 0.875
TENSOR_BYTES = 3 * HEIGHT * WIDTH * 4
BUDGET = 3 * 1024 * 1024


def main():
    files = [f for f in CANDIDATES if os.path.exists(os.path.join(IMAGES, f))]
    missing = [f for f in CANDIDATES if f not in files]
    dropped = []
    if "orientation_6.tiff" in files:  # see the module docstring (Pillow #7381)
        files.remove("orientation_6.tiff")
        dropped.append("orientation_6.tiff")
    if 2 * TENSOR_BYTES * len(files) > BUDGET:
        print(f"warning: still {2 * TENSOR_BYTES * len(files)} bytes of tensors, over the budget")
    if missing:
        print(f"not found (skipped): {missing}")

    transform = timm_eval_transform(INTERP, HEIGHT, WIDTH, CROP_PCT)
    tensors = {}
    metadata = {}
    for name in files:
        path = os.path.join(IMAGES, name)
        image = Image.open(path)
        orientation = image.getexif().get(ORIENTATION, 1)
        metadata[f"orientation.{name}"] = str(orientation)

        ignored = Image.open(path).convert("RGB")
        applied = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        tensors[f"ignore.{name}"] = transform(ignored).numpy().astype(np.float32)
        tensors[f"apply.{name}"] = transform(applied).numpy().astype(np.float32)

        differ = not np.array_equal(tensors[f"ignore.{name}"], tensors[f"apply.{name}"])
        print(f"{name}: orientation {orientation}, size {image.size} -> ignore {ignored.size}, "
              f"apply {applied.size}; ignore/apply differ: {differ}")
        if orientation != 1 and not differ:
            raise SystemExit(f"{name}: orientation {orientation} but ignore == apply")

    metadata.update({
        "generator": "scripts/golden/gen_exif_preprocess.py",
        "pil": Image.__version__ if hasattr(Image, "__version__") else "",
        "torchvision": torchvision.__version__,
        "files": json.dumps(files),
        "dropped": json.dumps(dropped),
        "transform": json.dumps({"interpolation": INTERP, "input_height": HEIGHT,
                                 "input_width": WIDTH, "crop_pct": CROP_PCT,
                                 "mean": MEAN, "std": STD}),
    })
    safetensors_io.save(OUT, tensors, metadata)
    print(f"{len(tensors)} tensors, {os.path.getsize(OUT)} bytes in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
