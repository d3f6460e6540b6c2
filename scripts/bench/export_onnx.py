"""Exports a model of the peer benchmark from its safetensors file to ONNX with torch.onnx.export, so
that ONNX Runtime computes the same function from the same weights vitscope and PyTorch load.

    export_onnx.py --weights FILE.safetensors [--arch vit|resnet18|resnet50|mobilenet_v1] [--heads N]
                   --out FILE.onnx

--arch (default vit) picks the PyTorch module (scripts/bench/torch_models.py: the timm-layout
reference ViT, which needs --heads; torchvision's ResNet-18/50; the Keras-layout MobileNet v1
reference). Graph: input "pixels" [batch,3,224,224] -> output "logits" [batch,classes], the batch
axis dynamic (one file serves every batch size), opset 17 (the newest torch 1.13 writes; LayerNorm
becomes one LayerNormalization node), constants folded (the exporter folds the CNNs' eval-mode
BatchNorm into the convolution before it).
"""
import argparse
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import ARCHS, load_model  # noqa: E402

OPSET = 17
IMAGE_SIZE = 224


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--arch", choices=ARCHS, default="vit")
    parser.add_argument("--heads", type=int, help="attention heads (--arch vit)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    model = load_model(args.weights, args.arch, args.heads)
    example = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    partial = args.out + ".part"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with warnings.catch_warnings():
        # The references' shape checks and MobileNet's "same" padding are Python computations on the
        # input size; the tracer warns that they become constants, which is right for a fixed
        # 224x224 input.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        # MobileNet's weights are graph constants, whose shapes torch 1.13's exporter cannot infer
        # (it says so for each; the shapes of every value that matters are static anyway), and its
        # padding amounts are reordered by a Slice with step -1, which torch does not fold (ONNX
        # Runtime folds it when it loads the graph: all its inputs are constants).
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1 can be constant folded")
        torch.onnx.export(
            model, example, partial,
            opset_version=OPSET,
            input_names=["pixels"],
            output_names=["logits"],
            dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
    os.replace(partial, args.out)
    print(f"export_onnx: wrote {args.out} ({args.arch}, opset {OPSET}, from {args.weights})")


if __name__ == "__main__":
    main()
