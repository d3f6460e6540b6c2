"""Writes a random-weight ResNet in torchvision layout (F32 safetensors) for the peer benchmark.

    make_random_cnn.py --arch resnet18|resnet50 --out FILE [--seed 0]

The weights are torchvision's own initialisation, unchanged: torchvision.models.resnet18/50(
weights=None) built after torch.manual_seed(seed) (convolutions Kaiming-normal, fan_out; BatchNorm
weight 1, bias 0, running mean 0, variance 1; fc uniform within ±1/sqrt(fan_in)), its state dict
without the num_batches_tracked counters (vitscope reads BatchNorm's weight, bias, running_mean and
running_var only). vitscope tells a ResNet by its tensor names and reads these names as they are.
The fc weights are not rescaled as make_random_vit.py rescales the ViTs' head: with this
initialisation the logits already spread (seed 0, on samples/chelsea.png: standard deviation 0.8
for ResNet-18, 12 for ResNet-50; on standard-normal images 1.6 and 25), and the closest pair among
the photo's six highest logits is 0.0095 apart for ResNet-18 (0.28 for ResNet-50), several thousand
times the differences between vitscope, ONNX Runtime and PyTorch (at most 5e-5), so the top-5
check of check_engines.py is no near-tie; scaling the fc would scale the gaps and the differences
alike.
A file that already exists with the same metadata (architecture, seed, generator version, torch
version: its random stream decides the weights) is kept.
"""
import argparse
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from make_random_vit import up_to_date  # noqa: E402

GENERATOR_VERSION = "1"
ARCHS = ("resnet18", "resnet50")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, choices=ARCHS)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    metadata = {
        "format": "pt",
        "model": f"random {args.arch} (torchvision names, torchvision's initialisation)",
        "seed": str(args.seed),
        "torch": torch.__version__,
        "generator": f"scripts/bench/make_random_cnn.py v{GENERATOR_VERSION}",
    }
    if up_to_date(args.out, metadata):
        print(f"make_random_cnn: {args.out} is up to date")
        return
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.arch)(weights=None)
    state = {name: value.float() for name, value in model.state_dict().items()
             if not name.endswith("num_batches_tracked")}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    partial = args.out + ".part"
    safetensors_io.save(partial, state, metadata=metadata)
    os.replace(partial, args.out)
    params = sum(v.numel() for name, v in state.items() if not name.endswith(("running_mean", "running_var")))
    print(f"make_random_cnn: wrote {args.out} ({args.arch}: {params / 1e6:.1f} M parameters, seed {args.seed})")


if __name__ == "__main__":
    main()
