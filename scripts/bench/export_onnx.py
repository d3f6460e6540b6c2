"""Exports a timm-layout ViT from its safetensors file to ONNX with torch.onnx.export, so that ONNX
Runtime computes the same function from the same weights vitscope and PyTorch load.

    export_onnx.py --weights FILE.safetensors --heads N --out FILE.onnx

Graph: input "pixels" [batch,3,224,224] -> output "logits" [batch,classes], the batch axis dynamic
(one file serves every batch size), opset 17 (the newest torch 1.13 writes; LayerNorm becomes one
LayerNormalization node), constants folded.
"""
import argparse
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_vit import LogitsOnly, load_vit  # noqa: E402

OPSET = 17
IMAGE_SIZE = 224


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--heads", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    model = LogitsOnly(load_vit(args.weights, args.heads)).eval()
    example = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    partial = args.out + ".part"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with warnings.catch_warnings():
        # The reference's shape checks on the input size are Python conditions; the tracer warns that
        # they become constants, which is right for a fixed 224x224 input.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            model, example, partial,
            opset_version=OPSET,
            input_names=["pixels"],
            output_names=["logits"],
            dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
    os.replace(partial, args.out)
    print(f"export_onnx: wrote {args.out} (opset {OPSET}, from {args.weights})")


if __name__ == "__main__":
    main()
