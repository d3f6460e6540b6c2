#!/usr/bin/env bash
# Regenerates every golden file under tests/data/ with Debian's PyTorch and PIL
# (apt-get install python3-torch python3-torchvision python3-pil). Deterministic: fixed seeds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py=/usr/bin/python3
$py scripts/golden/gen_vit_cases.py            # random timm-layout ViTs: logits + attention
$py scripts/golden/gen_vit_variants.py         # those ViTs with forward options (window, mask, relu,
                                               # heads off, pos zero/permuted) + residual stream
$py scripts/golden/gen_preprocess.py           # PIL resampling and torchvision preprocessing
$py scripts/golden/gen_exif_preprocess.py      # the same on EXIF-oriented photos, orientation ignored / applied
$py scripts/golden/gen_draft_decode.py         # the same on JPEGs decoded at Pillow's draft DCT scale (1/2, 1/4, 1/8)
$py scripts/golden/gen_images.py               # small image fixtures: formats, EXIF, bit depths
$py scripts/golden/gen_vit_maps.py             # attention rollout and distance from those cases
$py scripts/golden/gen_vit_gradients.py        # autograd: input / attention gradients, Chefer maps,
                                               # and DeiT-Tiny's token input gradients (needs ../shared)
$py scripts/golden/gen_cnn_cases.py            # random MobileNet v1 (Keras) and ResNets (torchvision)
$py scripts/golden/gen_imagenet_reference.py   # real DeiT-Tiny on ../shared/images (needs ../shared)
$py scripts/golden/gen_imagenet_reference_mobilenet.py  # real MobileNet v1 0.75 on the same photos
$py scripts/probe/window_reference.py          # DeiT-Tiny with windowed attention on the same photos
