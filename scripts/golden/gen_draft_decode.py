#!/usr/bin/python3
"""Golden data for `--decode draft`: JPEGs decoded by libjpeg at a reduced DCT scale, as Pillow's
Image.draft("RGB", size) does, in front of the timm evaluation pipeline.

Pillow's choice (JpegImagePlugin.draft): scale = min(W // rw, H // rh) for the stored size (W, H)
and the requested size (rw, rh), then the largest of 8, 4, 2, 1 not above it (1 when the image is
smaller than the request and the minimum is 0); libjpeg decodes at 1/scale and the image is
(ceil(W / scale), ceil(H / scale)). The request here is the size the timm eval transform's Resize
makes of the STORED size (no EXIF rotation): shorter side floor(32 / 0.875) = 36, longer side
int(36 * long / short) as torchvision's Resize(int) computes it. Since long / rl >= short / 36, the
scale depends on the shorter side only: 8 from 288 up, 4 from 144, 2 from 72, else 1; and the
request of a rotated image is the request transposed, so the orientation does not change it.

Writes into tests/data/images/draft/ the fixtures: synthetic JPEGs (quality 90) of smooth colour
gradients, hard-edged coloured shapes, text and one-pixel strokes, a fine checkerboard and seeded
noise patches, named draft_<W>x<H>_<444|422|420|gray>[_progressive][_orientation<N>].jpg; sizes
cover every scale (1, 2, 4, 8, the 144 boundary, an image below the request), odd sizes, a portrait,
4:4:4 / 4:2:2 / 4:2:0, grayscale, progressive, and EXIF Orientation 3 and 6 (not square).

Writes tests/data/preprocess/draft.safetensors:
  U8  [h, w, 3]    "decoded.<file>"  Image.open(file); draft("RGB", request); load(), then
                                       convert("RGB") (draft leaves a grayscale JPEG "L"); no EXIF
                                       transpose; (w, h) is the draft size
  F32 [3, 32, 32]  "ignore.<file>"   the timm eval transform (bicubic, 32x32, crop_pct 0.875,
                                       ImageNet mean/std) of that image
  F32 [3, 32, 32]  "apply.<file>"    the same after ImageOps.exif_transpose of the drafted image
                                       (equal to "ignore" without an orientation)
  F32 [3, 32, 32]  "exact.<file>"    the full decode (no draft) and the same transform, orientation
                                       ignored: differs from "ignore" where the scale is above 1
  metadata "files" (JSON list), per file "scale.<file>" (1, 2, 4 or 8), "draft_size.<file>" (JSON
           [w, h]), "request.<file>" (JSON [rw, rh]), "stored_size.<file>" (JSON [W, H]),
           "orientation.<file>" ("1" if none), "subsampling.<file>" ("4:4:4", "4:2:2", "4:2:0" or
           "gray"), "progressive.<file>" ("0" / "1"), generator, transform, library versions

If djpeg (libjpeg-turbo-progs) is on the PATH, the drafted pixels are also compared with
`djpeg -scale 1/<s> -ppm` for each fixture (and every scale for one 4:4:4 and one 4:2:0 fixture);
the result is printed only and never fails the run.

Run with Debian's interpreter: /usr/bin/python3 scripts/golden/gen_draft_decode.py
"""
import io
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
import torchvision
from PIL import Image, ImageDraw, ImageOps, JpegImagePlugin, features

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from gen_preprocess import MEAN, STD, timm_eval_transform  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
FIXTURES = os.path.join(ROOT, "tests", "data", "images", "draft")
OUT = os.path.join(ROOT, "tests", "data", "preprocess", "draft.safetensors")
ORIENTATION = 0x0112
QUALITY = 90
INTERP, HEIGHT, WIDTH, CROP_PCT = "bicubic", 32, 32, 0.875
SHORT = math.floor(HEIGHT / CROP_PCT)  # 36: Resize(int) of the square input
FIXTURE_BUDGET = 400 * 1024
OUT_BUDGET = 1024 * 1024
SUBSAMPLING = {0: "444", 1: "422", 2: "420"}  # Pillow's subsampling= values
SAMPLING_NAME = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0", -1: "gray"}

# (width, height, subsampling 0/1/2 or "gray", progressive, orientation, seed); expected scale
CASES = [
    (300, 290, 2, False, 1, 1),   # 8: shorter side 290 >= 288
    (599, 401, 1, False, 1, 2),   # 8: odd sizes, 4:2:2
    (331, 297, 2, True, 1, 3),    # 8: progressive
    (301, 233, 0, False, 1, 4),   # 4: odd sizes, 4:4:4
    (144, 151, 2, False, 1, 5),   # 4: shorter side exactly 4 * 36
    (250, 180, "gray", False, 1, 6),  # 4: grayscale
    (150, 146, 2, False, 3, 7),   # 4: EXIF orientation 3
    (233, 157, 1, False, 6, 8),   # 4: EXIF orientation 6, not square
    (143, 190, 0, False, 1, 9),   # 2: shorter side 143, one below the 4 boundary
    (97, 131, 2, False, 1, 10),   # 2: portrait, odd sizes
    (61, 47, 0, False, 1, 11),    # 1: shorter side below 72
    (23, 17, 2, False, 1, 12),    # 1: smaller than the request (Pillow's minimum is 0)
]


def fixture_name(width, height, sampling, progressive, orientation):
    name = f"draft_{width}x{height}_{'gray' if sampling == 'gray' else SUBSAMPLING[sampling]}"
    if progressive:
        name += "_progressive"
    if orientation != 1:
        name += f"_orientation{orientation}"
    return name + ".jpg"


def synthetic(width, height, seed):
    """Gradients, coloured shapes with hard edges, text and strokes, a fine checkerboard, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    radius = np.hypot(u - 0.3, v - 0.6)
    pixels = np.stack([
        255 * (0.15 + 0.7 * u),
        255 * (0.2 + 0.6 * v),
        255 * (0.5 + 0.4 * np.cos(6.0 * radius + seed)),
    ], axis=-1)
    # fine checkerboard (3-pixel period) in the lower left: aliases differently at each DCT scale
    checker = ((x // 3 + y // 3) % 2 == 1) & (u < 0.25) & (v > 0.75)
    pixels[checker] = (30, 30, 30)
    image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "RGB")

    draw = ImageDraw.Draw(image)
    s = min(width, height)
    draw.rectangle((int(0.55 * width), int(0.1 * height), int(0.8 * width), int(0.35 * height)),
                   fill=(220, 20, 40))
    draw.ellipse((int(0.1 * width), int(0.2 * height), int(0.1 * width) + s // 3,
                  int(0.2 * height) + s // 3), fill=(20, 40, 210), outline=(250, 250, 0))
    for i in range(4):  # strokes of 1 and 2 pixels
        draw.line((int(0.05 * width), int((0.55 + 0.08 * i) * height),
                   int(0.95 * width), int((0.45 + 0.12 * i) * height)),
                  fill=(0, 0, 0) if i % 2 else (255, 255, 255), width=1 + i % 2)
    draw.text((max(2, width // 20), max(1, height // 30)), f"vitscope {width}x{height}",
              fill=(0, 0, 0))
    draw.text((int(0.45 * width), int(0.8 * height)), "draft 1/8", fill=(255, 255, 255))

    # seeded noise patches (small: noise is what costs bytes in a JPEG)
    out = np.array(image)
    for _ in range(3):
        size = max(4, s // 8)
        top = int(rng.integers(0, max(1, height - size)))
        left = int(rng.integers(0, max(1, width - size)))
        block = out[top : top + size, left : left + size]
        block[...] = rng.integers(0, 256, block.shape, dtype=np.uint8)
    return Image.fromarray(out, "RGB")


def write_fixture(path, width, height, sampling, progressive, orientation, seed):
    image = synthetic(width, height, seed)
    options = {"quality": QUALITY, "progressive": progressive, "optimize": True}
    if sampling == "gray":
        image = image.convert("L")
    else:
        options["subsampling"] = sampling
    if orientation != 1:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def timm_request(size):
    """The (width, height) that torchvision's Resize(36) makes of size."""
    width, height = size
    if width <= height:
        return SHORT, int(SHORT * height / width)
    return int(SHORT * width / height), SHORT


def drafted(path, request):
    """Image.draft("RGB", request) and load(); returns (image, scale, box draft returned)."""
    image = Image.open(path)
    result = image.draft("RGB", request)
    image.load()
    scale = image.decoderconfig[0]
    return image, scale, result


def read_pnm(data):
    image = Image.open(io.BytesIO(data))
    return np.asarray(image.convert("RGB"))


def djpeg_check(files):
    """Compares Pillow's draft with djpeg -scale 1/s; prints only."""
    djpeg = shutil.which("djpeg")
    if djpeg is None:
        print("djpeg not found: cross-check skipped")
        return
    checks = [(name, None) for name in files]
    for suffix in ("_444.jpg", "_420.jpg"):  # every scale for the first 4:4:4 and 4:2:0 fixture
        first = next(name for name in files if name.endswith(suffix))
        checks += [(first, scale) for scale in (1, 2, 4, 8)]
    print("djpeg cross-check (djpeg -scale 1/s -ppm against Pillow's draft at scale s):")
    for name, forced in checks:
        path = os.path.join(FIXTURES, name)
        width, height = Image.open(path).size
        if forced is None:
            image, scale, _ = drafted(path, timm_request((width, height)))
        else:  # a request that makes Pillow pick exactly this scale
            image, scale, _ = drafted(path, (width // forced, height // forced))
        ours = np.asarray(image.convert("RGB"))
        ppm = subprocess.run([djpeg, "-scale", f"1/{scale}", "-ppm", path],
                             check=True, capture_output=True).stdout
        theirs = read_pnm(ppm)
        if ours.shape != theirs.shape:
            verdict = f"shape differs: Pillow {ours.shape}, djpeg {theirs.shape}"
        else:
            diff = int(np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max())
            verdict = "identical" if diff == 0 else f"max abs difference {diff}"
        print(f"  {name:40s} 1/{scale}: {verdict}")


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    transform = timm_eval_transform(INTERP, HEIGHT, WIDTH, CROP_PCT)
    files = []
    tensors = {}
    metadata = {}
    print(f"{'file':40s} {'stored':>9s} {'sampling':>8s} prog orient {'request':>8s} scale "
          f"{'draft':>7s}  box  max|draft-exact|")
    for width, height, sampling, progressive, orientation, seed in CASES:
        name = fixture_name(width, height, sampling, progressive, orientation)
        path = os.path.join(FIXTURES, name)
        write_fixture(path, width, height, sampling, progressive, orientation, seed)
        files.append(name)

        stored = Image.open(path)
        assert stored.size == (width, height)
        assert stored.getexif().get(ORIENTATION, 1) == orientation
        assert bool(stored.info.get("progressive")) == progressive
        assert JpegImagePlugin.get_sampling(stored) == (-1 if sampling == "gray" else sampling)
        request = timm_request(stored.size)

        image, scale, box = drafted(path, request)
        draft_size = image.size
        assert draft_size == (-(-width // scale), -(-height // scale))
        rgb = image.convert("RGB")
        exact = Image.open(path).convert("RGB")
        applied = ImageOps.exif_transpose(image).convert("RGB")

        tensors[f"decoded.{name}"] = np.asarray(rgb, dtype=np.uint8)
        tensors[f"ignore.{name}"] = transform(rgb).numpy().astype(np.float32)
        tensors[f"apply.{name}"] = transform(applied).numpy().astype(np.float32)
        tensors[f"exact.{name}"] = transform(exact).numpy().astype(np.float32)
        metadata.update({
            f"scale.{name}": str(scale),
            f"draft_size.{name}": json.dumps(list(draft_size)),
            f"request.{name}": json.dumps(list(request)),
            f"stored_size.{name}": json.dumps([width, height]),
            f"orientation.{name}": str(orientation),
            f"subsampling.{name}": SAMPLING_NAME[JpegImagePlugin.get_sampling(stored)],
            f"progressive.{name}": "1" if progressive else "0",
        })

        difference = float(np.abs(tensors[f"ignore.{name}"] - tensors[f"exact.{name}"]).max())
        if scale > 1 and difference == 0:
            raise SystemExit(f"{name}: scale {scale} but the drafted tensor equals the exact one")
        if scale == 1 and difference != 0:
            raise SystemExit(f"{name}: scale 1 but the drafted tensor differs from the exact one")
        turned = not np.array_equal(tensors[f"ignore.{name}"], tensors[f"apply.{name}"])
        if turned != (orientation != 1):
            raise SystemExit(f"{name}: orientation {orientation} but ignore/apply differ: {turned}")
        box_text = "(" + ", ".join(f"{b:g}" for b in box[1]) + ")"
        print(f"{name:40s} {width:4d}x{height:<4d} {metadata[f'subsampling.{name}']:>8s} "
              f"{int(progressive):4d} {orientation:6d} {request[0]:3d}x{request[1]:<4d} {scale:5d} "
              f"{draft_size[0]:3d}x{draft_size[1]:<3d}  {box[0]} {box_text}  {difference:.4f}")

    scales = {int(metadata[f"scale.{name}"]) for name in files}
    if scales != {1, 2, 4, 8}:
        raise SystemExit(f"scales covered: {sorted(scales)}, not 1, 2, 4 and 8")

    metadata.update({
        "generator": "scripts/golden/gen_draft_decode.py",
        "pil": Image.__version__ if hasattr(Image, "__version__") else "",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "libjpeg": str(features.version("jpg") or ""),
        "libjpeg_turbo": str(bool(features.check_feature("libjpeg_turbo"))),
        "files": json.dumps(files),
        "folder": "tests/data/images/draft",
        "quality": str(QUALITY),
        "transform": json.dumps({"interpolation": INTERP, "input_height": HEIGHT,
                                 "input_width": WIDTH, "crop_pct": CROP_PCT,
                                 "mean": MEAN, "std": STD}),
    })
    safetensors_io.save(OUT, tensors, metadata)

    print("fixtures:")
    fixture_bytes = safetensors_io.report_sizes(FIXTURES, "tests/data/images/draft")
    out_bytes = os.path.getsize(OUT)
    print(f"{len(tensors)} tensors, {out_bytes} bytes in {os.path.normpath(OUT)}")
    if fixture_bytes > FIXTURE_BUDGET or out_bytes > OUT_BUDGET:
        raise SystemExit(f"over budget: fixtures {fixture_bytes} (max {FIXTURE_BUDGET}), "
                         f"golden {out_bytes} (max {OUT_BUDGET})")
    djpeg_check(files)


if __name__ == "__main__":
    main()
