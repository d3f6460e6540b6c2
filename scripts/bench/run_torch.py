"""Times PyTorch's forward pass of a model of the peer benchmark (eager, CPU) and prints one JSON line;
the PyTorch column of scripts/bench_peers.sh.

    run_torch.py --weights FILE.safetensors [--arch vit|resnet18|resnet50|mobilenet_v1] [--heads N]
                 --batch B --threads T [--warmup W] [--iterations N] [--check-input FILE.f32]

--arch (default vit; --heads N with it) picks the module, as in export_onnx.py: the timm-layout
reference ViT, torchvision's ResNet-18/50 or the Keras-layout MobileNet v1 reference
(scripts/bench/torch_models.py).

Timing: warmup + N timed forward passes on the same random batch (standard normal, fixed seed), eval
mode under torch.inference_mode(), torch.set_num_threads(T), OpenBLAS limited to T threads and idle
OpenMP workers sleeping (OMP_WAIT_POLICY=PASSIVE; see main()), or with --omp-wait-policy default
as installed.
--check-input: raw little-endian float32 images [K,3,224,224]; their logits are added to the output
as "check_logits" (so the same code path that is timed is the one that is checked).
"""
import argparse
import json
import os
import statistics
import sys
import time

IMAGE_SIZE = 224


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    # The choices are torch_models.ARCHS, which load_model checks: importing it here would load
    # torch, and with it OpenBLAS, before main() has set OPENBLAS_NUM_THREADS.
    parser.add_argument("--arch", default="vit", help="vit, resnet18, resnet50 or mobilenet_v1")
    parser.add_argument("--heads", type=int, help="attention heads (--arch vit)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--check-input")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--omp-wait-policy", choices=("passive", "default"), default="passive",
                        help="passive (tuned: OpenMP workers sleep) or default (PyTorch as installed)")
    args = parser.parse_args()
    if args.batch < 1 or args.threads < 1 or args.warmup < 0 or args.iterations < 0:
        parser.error("--batch and --threads must be >= 1, --warmup and --iterations >= 0")
    return args


def main():
    args = parse_args()
    # Debian's torch runs its own ops on an OpenMP pool and its GEMMs on OpenBLAS's pthread pool.
    # OpenBLAS sizes its pool from the environment when it is loaded (on `import torch`);
    # torch.set_num_threads only sets the OpenMP side. Idle OpenMP workers spin by default and then
    # starve OpenBLAS's workers of the same cores (2 threads measured ~10x slower than 1 on 2 cores),
    # so they are told to sleep instead; --omp-wait-policy default measures PyTorch as installed.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.omp_wait_policy == "default":
        os.environ.pop("OMP_WAIT_POLICY", None)  # PyTorch as installed, nothing tuned
    else:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import numpy as np
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_models import load_model

    torch.set_num_threads(args.threads)
    model = load_model(args.weights, args.arch, args.heads)
    generator = torch.Generator().manual_seed(args.seed)
    batch = torch.randn(args.batch, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)

    times_ms = []
    check_logits = None
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(batch)
        for _ in range(args.iterations):
            start = time.perf_counter()
            model(batch)
            times_ms.append(1e3 * (time.perf_counter() - start))
        if args.check_input:
            raw = np.fromfile(args.check_input, dtype="<f4")
            per_image = 3 * IMAGE_SIZE * IMAGE_SIZE
            if raw.size == 0 or raw.size % per_image:
                raise SystemExit(f"{args.check_input}: {raw.size} floats are not whole 3x{IMAGE_SIZE}x{IMAGE_SIZE} images")
            images = torch.from_numpy(raw.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).copy())
            check_logits = model(images).tolist()

    median = statistics.median(times_ms) if times_ms else None
    result = {
        "engine": "pytorch",
        "engine_version": torch.__version__,
        "model": os.path.basename(args.weights),
        "arch": args.arch,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "warmup": args.warmup,
        "iterations": args.iterations,
        "median_ms_per_batch": median,
        "median_ms_per_image": median / args.batch if median is not None else None,
        "min_ms_per_batch": min(times_ms) if times_ms else None,
        "times_ms": [round(t, 4) for t in times_ms],
        "environment": {k: os.environ.get(k, "unset") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY")},
    }
    if check_logits is not None:
        result["check_logits"] = check_logits
    print(json.dumps(result))


if __name__ == "__main__":
    main()
