#!/usr/bin/python3
"""Image-loading fixtures (tests/image): tiny files of every supported format written by PIL, and
the RGB pixels PIL decodes from each, which the C++ loader must reproduce.

Writes into tests/data/images/:
  <name>.<ext>            the fixture files
  expected.safetensors    U8 [H, W, 3] "<file name>" = PIL's Image.open(file).convert("RGB"),
                          after ImageOps.exif_transpose for the EXIF-rotated JPEG and PNG files
                          (PIL's TIFF loader applies the orientation itself); for the 16-bit
                          PNG, round(v / 257) of the stored samples (PIL itself would clip to 255)

Run with Debian's interpreter: /usr/bin/python3 scripts/golden/gen_images.py
"""
import io
import os
import sys

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

PHOTOS = "/usr/lib/python3/dist-packages/skimage/data"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "images")
ORIENTATION = 0x0112


def base_image():
    """19x11 crop of a photo: odd sizes, no symmetry, so rotations and flips are all distinct."""
    photo = Image.open(os.path.join(PHOTOS, "astronaut.png")).convert("RGB")
    return photo.crop((200, 100, 219, 111))


def with_alpha(rgb):
    alpha = np.linspace(0, 255, rgb.width * rgb.height).reshape(rgb.height, rgb.width).astype(np.uint8)
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(alpha, "L"))
    return rgba


def orientation_exif(orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def exif_jpeg(rgb, orientation):
    buffer = io.BytesIO()
    rgb.save(buffer, "JPEG", quality=95, exif=orientation_exif(orientation))
    return buffer.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = base_image()
    gray = rgb.convert("L")
    palette = rgb.quantize(colors=16)
    palette_trns = palette.copy()
    palette_trns.info["transparency"] = 3
    sixteen = (np.arange(rgb.width * rgb.height, dtype=np.int64).reshape(rgb.height, rgb.width) * 397 % 65536)

    files = {
        "rgb.png": lambda f: rgb.save(f, "PNG"),
        "rgb.bmp": lambda f: rgb.save(f, "BMP"),
        "rgb.tiff": lambda f: rgb.save(f, "TIFF"),
        "rgb_lzw.tiff": lambda f: rgb.save(f, "TIFF", compression="tiff_lzw"),
        "rgb_lossless.webp": lambda f: rgb.save(f, "WEBP", lossless=True),
        "rgb.ppm": lambda f: rgb.save(f, "PPM"),
        "rgb.jpg": lambda f: rgb.save(f, "JPEG", quality=90),
        "gray.png": lambda f: gray.save(f, "PNG"),
        "gray.pgm": lambda f: gray.save(f, "PPM"),
        "gray.jpg": lambda f: gray.save(f, "JPEG", quality=90),
        "gray_alpha.png": lambda f: with_alpha(rgb).convert("LA").save(f, "PNG"),
        "rgba.png": lambda f: with_alpha(rgb).save(f, "PNG"),
        "rgba_lossless.webp": lambda f: with_alpha(rgb).save(f, "WEBP", lossless=True, exact=True),
        "palette.png": lambda f: palette.save(f, "PNG"),
        "palette_transparency.png": lambda f: palette_trns.save(f, "PNG", transparency=3),
        "gray16.png": lambda f: Image.fromarray(sixteen.astype(np.uint16), "I;16").save(f, "PNG"),
        "bilevel.pbm": lambda f: gray.convert("1").save(f, "PPM"),
        "palette.gif": lambda f: palette.save(f, "GIF"),
        "animated.webp": lambda f: rgb.save(f, "WEBP", save_all=True, lossless=True,
                                            append_images=[rgb.transpose(Image.FLIP_LEFT_RIGHT)]),
    }
    for orientation in (3, 6, 8):
        files[f"orientation_{orientation}.jpg"] = (
            lambda f, o=orientation: open(f, "wb").write(exif_jpeg(rgb, o)))
    # OpenCV also applies the orientation of PNG (eXIf chunk) and TIFF files, though not of WebP.
    files["orientation_6.png"] = lambda f: rgb.save(f, "PNG", exif=orientation_exif(6))
    files["orientation_6.tiff"] = lambda f: rgb.save(f, "TIFF", exif=orientation_exif(6))

    expected = {}
    for name, write in files.items():
        path = os.path.join(OUT, name)
        write(path)
        if name in ("palette.gif", "animated.webp"):
            continue  # formats OpenCV 4.6 cannot decode: these fixtures check the error messages
        if name == "gray16.png":
            check = np.asarray(Image.open(path))
            assert check.dtype != np.uint8 and (check.astype(np.int64) == sixteen).all()
            eight = np.floor(sixteen / 257 + 0.5).astype(np.uint8)
            expected[name] = np.repeat(eight[..., None], 3, axis=2)
            continue
        image = Image.open(path)
        if name.startswith("orientation_"):
            assert image.getexif()[ORIENTATION] == int(name[len("orientation_")])
            if name.endswith(".tiff"):
                image.load()  # PIL's TIFF loader applies the orientation itself
                assert image.size == (rgb.height, rgb.width)
            else:
                image = ImageOps.exif_transpose(image)
        expected[name] = np.asarray(image.convert("RGB"))
    safetensors_io.save(os.path.join(OUT, "expected.safetensors"), expected,
                        {"generator": "scripts/golden/gen_images.py"})
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(files)} fixtures, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
