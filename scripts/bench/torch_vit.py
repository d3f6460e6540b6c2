"""The PyTorch side of the peer benchmark: the timm-layout reference ViT loaded from a safetensors
file, a logits-only wrapper (for ONNX export and timing) and timm's eval preprocessing of a photo."""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import safetensors_io  # noqa: E402
from vit_reference import VisionTransformer  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_vit(weights_path: str, heads: int) -> VisionTransformer:
    """The same safetensors file vitscope loads, as the plain-torch reference in eval mode."""
    state, _ = safetensors_io.load(weights_path)
    # np.array copies the read-only buffers so torch gets writable tensors.
    return VisionTransformer.from_state_dict({k: np.array(v) for k, v in state.items()}, heads)


class LogitsOnly(nn.Module):
    """x[B,3,H,W] -> logits[B,classes]. The reference also returns every block's attention
    probabilities; they are computed on the way anyway (softmax before ·v), so dropping the list
    here is all it takes (keeping it measured no slower, so vit_reference.py is used unchanged)."""

    def __init__(self, vit: VisionTransformer):
        super().__init__()
        self.vit = vit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit(x)[0]


def timm_eval_tensor(photo_path: str, size: int = 224, crop_pct: float = 0.875) -> torch.Tensor:
    """timm's eval transform of one photo -> [1,3,size,size]: Resize(int(size / crop_pct), bicubic),
    CenterCrop(size), ToTensor, Normalize(ImageNet mean, std)."""
    from PIL import Image
    from torchvision import transforms

    transform = transforms.Compose([
        transforms.Resize(int(size / crop_pct), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(size),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    with Image.open(photo_path) as image:
        return transform(image.convert("RGB")).unsqueeze(0)
