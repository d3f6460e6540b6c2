#!/usr/bin/python3
"""Writes weights/imagenet_classes.txt: the 1000 ImageNet-1k class names in standard index order
(0 = tench), one per line, as torchvision ships them (Debian's python3-torchvision)."""
import pathlib

from torchvision.models import ResNet18_Weights

out = pathlib.Path(__file__).resolve().parent.parent / "weights" / "imagenet_classes.txt"
names = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
assert len(names) == 1000
out.write_text("\n".join(names) + "\n")
print(f"wrote {out} ({len(names)} classes)")
