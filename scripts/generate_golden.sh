#!/usr/bin/env bash
# Regenerates every golden file under tests/data/ with Debian's PyTorch and PIL
# (apt-get install python3-torch python3-torchvision python3-pil). Deterministic: fixed seeds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py=/usr/bin/python3
$py scripts/golden/gen_vit_cases.py            # random timm-layout ViTs: logits + attention
$py scripts/golden/gen_preprocess.py           # PIL resampling and torchvision preprocessing
$py scripts/golden/gen_imagenet_reference.py   # real DeiT-Tiny on ../shared/images (needs ../shared)
