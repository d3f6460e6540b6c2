#!/usr/bin/python3
"""Writes the fuzzers' seed corpora, tests/fuzz/corpus/<target>/ (deterministic; run from anywhere).

Seeds are small valid inputs that reach the interesting code quickly: every safetensors dtype,
every image format and sample layout the loader handles, the CSV quoting rules. Files named
valid-* must be accepted by their reader; any other name must be refused with the reader's error
(tests/io/test_fuzz_regressions.cpp replays them all).
"""
import io
import json
import shutil
import struct
from pathlib import Path

import numpy as np
from PIL import Image

FUZZ_DIR = Path(__file__).resolve().parent
CORPUS = FUZZ_DIR / "corpus"
TEST_IMAGES = FUZZ_DIR.parent / "data" / "images"


def write(target, name, data):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# --- safetensors -------------------------------------------------------------------------------

def safetensors(tensors, metadata=None, pad=True):
    """tensors: list of (name, dtype name, shape, raw bytes), stored back to back in that order."""
    header, blobs, offset = {}, [], 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata is not None:
        header["__metadata__"] = metadata
    encoded = json.dumps(header, separators=(",", ":")).encode()
    if pad:  # the reference writer pads the header with spaces to a multiple of 8 bytes
        encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs)


def safetensors_seeds():
    rng = np.random.default_rng(7)
    f32 = rng.standard_normal((2, 3)).astype("<f4")
    every_dtype = [
        ("f64", "F64", (2,), np.array([1.5, -1e300], "<f8").tobytes()),
        ("f32", "F32", (2, 3), f32.tobytes()),
        ("f16", "F16", (3,), np.array([0x3C00, 0x0001, 0x7C00], "<u2").tobytes()),  # 1, subnormal, inf
        ("bf16", "BF16", (1, 2), np.array([0x3F80, 0xFFC1], "<u2").tobytes()),  # 1, NaN
        ("i64", "I64", (1,), np.array([-5], "<i8").tobytes()),
        ("i32", "I32", (2,), np.array([42, -1], "<i4").tobytes()),
        ("i16", "I16", (1,), np.array([-300], "<i2").tobytes()),
        ("i8", "I8", (2,), np.array([-1, 1], "i1").tobytes()),
        ("u8", "U8", (3, 1), bytes([0, 128, 255])),
        ("bool", "BOOL", (2,), bytes([0, 1])),
    ]
    write("safetensors", "valid-every-dtype.safetensors", safetensors(every_dtype, {"format": "pt"}))
    # A scalar, zero-element tensors (which share offsets with their neighbours, one with a huge
    # other dimension) and a tensor named like timm's.
    edge_shapes = [
        ("blocks.0.attn.qkv.weight", "F32", (1, 2), np.array([0.5, -0.25], "<f4").tobytes()),
        ("empty", "F16", (0, 4), b""),
        ("empty_but_wide", "F32", (0, 4294967296), b""),  # numel() must not overflow on such shapes
        ("scalar", "F32", (), np.array([3.0], "<f4").tobytes()),
        ("zero_rows", "U8", (3, 0), b""),
    ]
    write("safetensors", "valid-edge-shapes.safetensors", safetensors(edge_shapes, pad=False))
    write("safetensors", "valid-metadata-only.safetensors",
          safetensors([], {"format": "pt", "note": "no tensors"}))


# --- images ------------------------------------------------------------------------------------

def pattern(width=8, height=6):
    """A deterministic RGB gradient with a little noise."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // (width - 1), y * 255 // (height - 1), (x + y) * 16 % 256], axis=-1)
    noise = np.random.default_rng(3).integers(0, 16, rgb.shape)
    return Image.fromarray(((rgb + noise) % 256).astype(np.uint8), "RGB")


def encoded(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def image_seeds():
    rgb = pattern()
    gray = rgb.convert("L")
    write("image_decode", "valid-rgb.png", encoded(rgb, "PNG"))
    write("image_decode", "valid-rgba-interlaced.png", encoded(rgb.convert("RGBA"), "PNG", interlace=1))
    write("image_decode", "valid-palette.png", encoded(rgb.quantize(8), "PNG"))
    gray16 = Image.fromarray((np.asarray(gray, np.uint16) * 257).astype(np.uint16))
    write("image_decode", "valid-gray16.png", encoded(gray16, "PNG"))
    write("image_decode", "valid-baseline.jpg", encoded(rgb, "JPEG", quality=90))
    write("image_decode", "valid-progressive.jpg", encoded(rgb, "JPEG", quality=75, progressive=True))
    write("image_decode", "valid-gray.jpg", encoded(gray, "JPEG"))
    write("image_decode", "valid-rgb.bmp", encoded(rgb, "BMP"))
    write("image_decode", "valid-palette.bmp", encoded(rgb.quantize(16), "BMP"))
    write("image_decode", "valid-rgb.tiff", encoded(rgb, "TIFF"))
    write("image_decode", "valid-lzw.tiff", encoded(rgb, "TIFF", compression="tiff_lzw"))
    write("image_decode", "valid-lossless.webp", encoded(rgb, "WEBP", lossless=True))
    write("image_decode", "valid-lossy.webp", encoded(rgb, "WEBP", quality=80))
    write("image_decode", "valid-rgb.ppm", encoded(rgb, "PPM"))
    write("image_decode", "valid-gray.pgm", encoded(gray, "PPM"))
    write("image_decode", "valid-bilevel.pbm", encoded(gray.convert("1"), "PPM"))
    # EXIF orientation in each container that carries it, from the image tests' files.
    for name in ["orientation_6.jpg", "orientation_6.png", "orientation_6.tiff"]:
        write("image_decode", "valid-" + name.replace("_", "-"), (TEST_IMAGES / name).read_bytes())
    # Recognised but refused before decoding: their checks are fuzzed too.
    write("image_decode", "unsupported-palette.gif", encoded(rgb.quantize(8), "GIF"))
    write("image_decode", "unsupported-animated.webp", (TEST_IMAGES / "animated.webp").read_bytes())


# --- label files -------------------------------------------------------------------------------

def label_seeds():
    write("labels_csv", "valid-basic.csv", b"file,class_index\na.jpg,0\nsub/b.png,12\n")
    write("labels_csv", "valid-quoted-crlf.csv",
          b'class_index,name,file\r\n3,"tabby, cat","x ""y"".jpg"\r\n\r\n0,dog,z.jpg\r\n')
    write("labels_csv", "valid-no-final-newline.csv", b"id,file,class_index,split\n1,c.jpg,99,val")
    write("class_names", "valid-plain.txt", b"tench\ngoldfish\ngreat white shark\n")
    write("class_names", "valid-bom-crlf.txt", b"\xef\xbb\xbfcat\r\ndog\r\n\r\n \n")
    write("class_names", "valid-utf8-no-final-newline.txt", "café\nnaïve\tname\n日本".encode())


# --- result files and manifests ------------------------------------------------------------------

def result_file_seeds():
    header = "path,status,error,model,sha256,class_1,label_1,probability_1,class_2,label_2,probability_2\n"
    row = ("photos/a.jpg,ok,,deit_tiny_patch16_224,"
           "98f7e89b26142f7bdb61f3a627dee89729b0bb07a29e9e7f3be9d394c00c6f01,0,tench,0.745562,1,goldfish,0.1\n")
    quoted = ('"photos/b, ""odd""\nname.jpg",error,"photos/b: not an image (unrecognised content)",'
              "deit_tiny_patch16_224,,,,,,,\n")
    line = ('{"path":"photos/a.jpg","status":"ok","error":"","model":"deit_tiny_patch16_224","sha256":"98f7",'
            '"classes":[0,1],"labels":["tench","goldfish"],"probabilities":[0.745562,0.1]}\n')
    latin1 = ('{"path":"caf\ufffd.jpg","path_bytes":"636166e92e6a7067","status":"error",'
              '"error":"caf\ufffd.jpg: not an image","model":"deit_tiny_patch16_224","sha256":"","classes":[],'
              '"labels":[],"probabilities":[]}\n')
    seeds = {
        "valid-rows.csv": header + row + quoted,
        "valid-torn-last-record.csv": header + row + quoted[:20],
        "valid-rows.jsonl": line + latin1,
        "valid-torn-last-record.jsonl": line + line[:30],
        "invalid-stray-quote.csv": header + row.replace(",ok,", ',"ok,') + row + row,
        "invalid-notes.txt": "my notes, not results",
        "invalid-bad-status.csv": header + row.replace(",ok,", ",maybe,"),
    }
    for name, text in seeds.items():
        write("result_file", name, text.encode())


def manifest_seeds():
    def manifest(edit=None):
        m = {"format_version": 1, "default_model": "tiny", "models": {"tiny": {
            "architecture": "vit", "file": "tiny.safetensors", "vit": {"patch_size": 16, "heads": 3},
            "preprocess": {"input_size": [224, 224], "crop_pct": 0.875, "interpolation": "bicubic",
                           "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
            "sources": [{"url": "https://example.invalid/tiny.safetensors", "sha256": "00"}]}}}
        if edit:
            edit(m)
        return json.dumps(m, indent=1).encode()

    def rename_with_newline(m):
        m["models"]["tiny\nname"] = m["models"].pop("tiny")
        m["models"]["tiny\nname"]["labels"] = "missing.txt"

    write("manifest", "valid-minimal.json", manifest())
    write("manifest", "invalid-format-version.json", manifest(lambda m: m.update(format_version=2)))
    write("manifest", "invalid-input-size.json",
          manifest(lambda m: m["models"]["tiny"]["preprocess"].update(input_size=[100000, 100000])))
    write("manifest", "invalid-zero-std.json",
          manifest(lambda m: m["models"]["tiny"]["preprocess"].update(std=[0.5, 0, 0.5])))
    write("manifest", "invalid-missing-labels.json",
          manifest(lambda m: m["models"]["tiny"].update(labels="missing_labels.txt")))
    write("manifest", "invalid-newline-in-name.json", manifest(rename_with_newline))


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    safetensors_seeds()
    image_seeds()
    label_seeds()
    result_file_seeds()
    manifest_seeds()
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    print(f"{CORPUS}: {sum(1 for p in CORPUS.rglob('*') if p.is_file())} files, {total} bytes")


if __name__ == "__main__":
    main()
