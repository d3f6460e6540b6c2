"""The PyTorch side of the peer benchmark: every model it times, loaded from the same safetensors
file vitscope loads, as a module that maps x[B,3,224,224] to logits[B,classes] (for ONNX export,
timing and the agreement checks), and each model's eval preprocessing of a photo.

    arch          module                                                  safetensors names
    vit           the plain-torch reference ViT (scripts/golden/vit_reference.py)      timm
    resnet18/50   torchvision.models.resnet18/50 with the state dict loaded             torchvision
    mobilenet_v1  KerasMobileNetV1 (scripts/golden/cnn_reference.py)                   Keras

The preprocessing (eval_tensor) is the one vitscope applies to the benchmark's files: it takes a
file's preprocessing from weights/models.json when the file name is listed there (as
deit_tiny_patch16_224 and mobilenet_v1_0.75_224 are), and otherwise its default (224, crop_pct
0.875, bicubic, ImageNet mean and std), except that a MobileNet v1 file gets Keras's (bilinear,
mean = std = 0.5) (src/models/model_registry.cpp, ModelRegistry::resolve). The random-weight files
are named random_*.safetensors, which models.json does not list (its resnet18.safetensors and
resnet50.safetensors, timm's trained weights, have crop_pct 0.95), so the ViTs and ResNets all get
the default.
"""
import os
import sys
from typing import NamedTuple, Optional

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import safetensors_io  # noqa: E402
from cnn_reference import KerasMobileNetV1  # noqa: E402
from vit_reference import VisionTransformer  # noqa: E402

ARCHS = ("vit", "resnet18", "resnet50", "mobilenet_v1")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Preprocess(NamedTuple):
    crop_pct: float
    interpolation: str  # "bicubic" or "bilinear"
    mean: tuple
    std: tuple


DEFAULT_PREPROCESS = Preprocess(0.875, "bicubic", IMAGENET_MEAN, IMAGENET_STD)
PREPROCESS = {
    "vit": DEFAULT_PREPROCESS,
    "resnet18": DEFAULT_PREPROCESS,
    "resnet50": DEFAULT_PREPROCESS,
    "mobilenet_v1": Preprocess(0.875, "bilinear", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # x / 127.5 - 1
}


class LogitsOnly(nn.Module):
    """x[B,3,H,W] -> logits[B,classes] of a reference that returns (logits, extras): the ViT's extras
    are every block's attention probabilities, MobileNet's every layer's output. They are computed
    on the way anyway, so dropping them here is all it takes (keeping the ViT's list measured no
    slower, so the references are used unchanged)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[0]


def load_state(weights_path: str) -> dict:
    state, _ = safetensors_io.load(weights_path)
    # np.array copies the read-only buffers so torch gets writable tensors.
    return {k: np.array(v) for k, v in state.items()}


def load_model(weights_path: str, arch: str, heads: Optional[int] = None) -> nn.Module:
    """The safetensors file vitscope loads, as a logits-only module in eval mode."""
    if arch not in ARCHS:
        raise SystemExit(f"torch_models: unknown --arch '{arch}' ({', '.join(ARCHS)})")
    if arch == "vit" and not heads:
        raise SystemExit("torch_models: --arch vit needs --heads")
    state = load_state(weights_path)
    if arch == "vit":
        model = LogitsOnly(VisionTransformer.from_state_dict(state, heads))
    elif arch == "mobilenet_v1":
        model = LogitsOnly(KerasMobileNetV1(state))
    else:
        import torchvision

        model = getattr(torchvision.models, arch)(weights=None, num_classes=state["fc.bias"].shape[0])
        # Strict: every tensor of the file is used and every parameter and running statistic is
        # set (BatchNorm fills in num_batches_tracked, which the file leaves out, by itself).
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return model.eval()


def eval_tensor(photo_path: str, arch: str = "vit", size: int = 224) -> torch.Tensor:
    """The model's eval transform of one photo -> [1,3,size,size] (timm's): Resize(int(size /
    crop_pct), interpolation) of the shorter side, CenterCrop(size), ToTensor, Normalize(mean, std)."""
    from PIL import Image
    from torchvision import transforms

    p = PREPROCESS[arch]
    interpolation = {"bicubic": transforms.InterpolationMode.BICUBIC,
                     "bilinear": transforms.InterpolationMode.BILINEAR}[p.interpolation]
    transform = transforms.Compose([
        transforms.Resize(int(size / p.crop_pct), interpolation=interpolation),
        transforms.CenterCrop(size),
        transforms.ToTensor(),
        transforms.Normalize(p.mean, p.std),
    ])
    with Image.open(photo_path) as image:
        return transform(image.convert("RGB")).unsqueeze(0)
