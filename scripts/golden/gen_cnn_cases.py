#!/usr/bin/python3
"""Writes the CNN golden cases to tests/data/cnn/.

Models (random weights, fixed seeds, F32 files in the layout the C++ loaders read):
  mobilenet_v1.safetensors       MobileNet v1, width 0.125 (4..128 channels), 10 classes, Keras names
  resnet18.safetensors           ResNet-18 (basic blocks 2-2-2-2), stem width 4 (4..32 channels),
                                 10 classes, torchvision names incl. num_batches_tracked
  resnet_bottleneck.safetensors  bottleneck ResNet (blocks 1-2-1-1), stem width 4 (16..128 channels)
  The ResNets are torchvision's ResNet with a narrower stem (cnn_reference.TinyResNet, built from
  torchvision's BasicBlock / Bottleneck): the real widths (64..2048) would make files of 45-100 MB.

Cases (<case>.io.safetensors), each on one of the models:
  input [B,3,H,W]; logits [B,classes]; features [B,C,h,w] (the pooled map, NCHW);
  cam [B,h,w] = ReLU(Σ_c W[k,c]·F[c]) for k = top1 [B] (I64); gradcam [B,h,w] from autograd;
  for image 0, per ERF layer L: erf.L [H,W] = Σ_channels |∂u/∂input| with u the sum over the
  channels of the centre unit (h/2, w/2) of L's output (after its activation); erf1.L the same for
  one channel (the first from a requested one whose unit passes any gradient); grad.L [3,H,W] the
  signed gradient for the first ERF layer.
  Metadata: model, erf (JSON: layer -> unit, channel, size95, sigma, centre), rf (JSON: layer ->
  [size, jump, first_y, first_x] of the theoretical receptive field at this input size).

The references run in float64 on the float32 weights and inputs (stored rounded to float32). Even
sizes (48) exercise TensorFlow "same" padding with the extra pixel at the bottom/right, odd ones
(45x37) the symmetric case. BatchNorm scales are spread so that ReLU6 saturates at 6 somewhere.

Usage: /usr/bin/python3 scripts/golden/gen_cnn_cases.py
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from cnn_reference import (KerasMobileNetV1, TinyResNet, erf_statistics, receptive_fields,  # noqa: E402
                           resnet_forward, resnet_layer_list, same_layout_as_torchvision)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "tests", "data", "cnn")
MOBILENET_PW_WIDTHS = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]


def random_mobilenet_state(alpha, classes, gen):
    """Keras-layout MobileNet v1 tensors, He-normal kernels, spread BatchNorm parameters."""
    def normal(shape, std):
        return (torch.randn(shape, generator=gen, dtype=torch.float64) * std).float().numpy()

    def uniform(shape, lo, hi):
        return (lo + (hi - lo) * torch.rand(shape, generator=gen, dtype=torch.float64)).float().numpy()

    def bn(name, c):
        state[name + "_bn/gamma"] = uniform((c,), 0.5, 2.5)
        state[name + "_bn/beta"] = normal((c,), 0.3)
        state[name + "_bn/moving_mean"] = normal((c,), 0.3)
        state[name + "_bn/moving_variance"] = uniform((c,), 0.5, 2.0)

    state = {}
    c = int(32 * alpha)
    state["conv1/kernel"] = normal((3, 3, 3, c), (2 / 27) ** 0.5)
    bn("conv1", c)
    for n, width in enumerate(MOBILENET_PW_WIDTHS, start=1):
        out = int(width * alpha)
        state[f"conv_dw_{n}/depthwise_kernel"] = normal((3, 3, c, 1), (2 / 9) ** 0.5)
        bn(f"conv_dw_{n}", c)
        state[f"conv_pw_{n}/kernel"] = normal((1, 1, c, out), (2 / c) ** 0.5)
        bn(f"conv_pw_{n}", out)
        c = out
    state["conv_preds/kernel"] = normal((1, 1, c, classes), 3 / c ** 0.5)
    state["conv_preds/bias"] = normal((classes,), 0.5)
    return state


def random_resnet(block, layers, base_width, classes, seed):
    torch.manual_seed(seed)
    model = TinyResNet(block, layers, classes, base_width)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(1000)
        model.fc.weight.normal_(0, 3 / model.fc.in_features ** 0.5)
        model.fc.bias.normal_(0, 0.5)
    return model.eval()


def to_numpy(t):
    return t.detach().cpu().numpy()


def cam_and_gradcam(features, weight, top1, head_fn):
    """CAM from the head weights, and Grad-CAM from autograd through head_fn(features)."""
    cams, gradcams = [], []
    for b in range(features.shape[0]):
        k = int(top1[b])
        f = features[b : b + 1].detach().clone().requires_grad_(True)
        logit = head_fn(f)[0, k]
        (grad,) = torch.autograd.grad(logit, f)
        alpha = grad[0].mean(dim=(1, 2))
        gradcams.append(torch.relu(torch.einsum("c,chw->hw", alpha, f[0].detach())))
        cams.append(torch.relu(torch.einsum("c,chw->hw", weight[k], features[b].detach())))
    return torch.stack(cams), torch.stack(gradcams)


def erf_maps(run, image, erf_layers, single_channel, rf, signed_layer):
    """ERF maps of image [3,H,W] for the centre unit of each layer (sum over channels; and the
    one-channel variant for single_channel = (layer, channel))."""
    tensors, info = {}, {}
    jobs = [(layer, -1, "erf.") for layer in erf_layers] + [(single_channel[0], single_channel[1], "erf1.")]
    for layer, channel, prefix in jobs:
        # One channel: the first from the requested one on whose unit passes gradient to the input.
        candidates = [channel] if channel < 0 else range(channel, 1 << 16)
        for channel in candidates:
            x = image[None].clone().requires_grad_(True)
            _, outputs = run(x)
            out = outputs[layer]
            h, w = out.shape[2], out.shape[3]
            uy, ux = h // 2, w // 2
            unit = out[0, :, uy, ux].sum() if channel < 0 else out[0, channel, uy, ux]
            (grad,) = torch.autograd.grad(unit, x)
            erf = grad[0].abs().sum(0)
            if float(erf.sum()) > 0:
                break
        size, jump, first_y, first_x = rf[layer]
        cy, cx = first_y + uy * jump + (size - 1) / 2, first_x + ux * jump + (size - 1) / 2
        size95, sigma, margin = erf_statistics(erf, cy, cx)
        assert margin > 1e-4, f"{layer}: the 95% boundary is too close to call ({margin})"
        tensors[prefix + layer] = erf.float()
        if prefix == "erf." and layer == signed_layer:
            tensors["grad." + layer] = grad[0].float()
        info[prefix + layer] = {"layer": layer, "unit": [uy, ux], "channel": channel,
                                "size95": size95, "sigma": sigma, "centre": [cy, cx],
                                "mass": float(erf.sum())}
        print(f"    {prefix}{layer}: unit ({uy},{ux}) channel {channel} of {h}x{w}, ERF size95 {size95:.0f} px, "
              f"sigma {sigma:.2f} px (theoretical {size} px), 95% margin {margin:.1e}")
    return tensors, info


def activation_report(outputs, cap):
    zero = np.mean([float((o == 0).double().mean()) for o in outputs.values()])
    saturated = sum(int((o == cap).sum()) for o in outputs.values()) if cap else 0
    return f"{zero:.0%} of activations at 0" + (f", {saturated} at {cap}" if cap else "")


def write_case(name, model_name, run, head, x, erf_layers, single_channel, layers, signed_layer):
    """Runs the float64 reference on x and writes <name>.io.safetensors."""
    with torch.no_grad():
        logits, outputs = run(x)
    feature_name = layers[-1][0]
    features = outputs[feature_name]
    top1 = logits.argmax(dim=1)
    weight, bias = head

    def head_fn(f):
        return f.mean(dim=(2, 3)) @ weight.t() + bias

    cam, gradcam = cam_and_gradcam(features, weight, top1, head_fn)
    rf, _ = receptive_fields(layers, x.shape[2], x.shape[3])
    print(f"  {name}: input {tuple(x.shape)}, logits {tuple(logits.shape)} "
          f"(|max| {float(logits.abs().max()):.2f}), features {tuple(features.shape)}, "
          f"{activation_report(outputs, 6.0 if model_name.startswith('mobilenet') else None)}")
    tensors = {"input": x.float(), "logits": logits.float(), "features": features.float(),
               "cam": cam.float(), "gradcam": gradcam.float(), "top1": top1.to(torch.int64)}
    erf_tensors, erf_info = erf_maps(run, x[0], erf_layers, single_channel, rf, signed_layer)
    tensors.update(erf_tensors)
    metadata = {"model": model_name, "feature_layer": feature_name, "erf": json.dumps(erf_info),
                "rf": json.dumps({k: list(v) for k, v in rf.items()})}
    path = os.path.join(OUT_DIR, name + ".io.safetensors")
    safetensors_io.save(path, {k: to_numpy(v) for k, v in tensors.items()}, metadata=metadata)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    assert same_layout_as_torchvision(BasicBlock, [2, 2, 2, 2], torchvision.models.resnet18)
    assert same_layout_as_torchvision(Bottleneck, [3, 4, 6, 3], torchvision.models.resnet50)

    # MobileNet v1, Keras layout.
    gen = torch.Generator().manual_seed(2024)
    state = random_mobilenet_state(0.125, 10, gen)
    safetensors_io.save(os.path.join(OUT_DIR, "mobilenet_v1.safetensors"), state,
                        metadata={"description": "random MobileNet v1 0.125, Keras layout"})
    mobilenet = KerasMobileNetV1(state).to_dtype(torch.float64)
    head = mobilenet.head()
    layers = KerasMobileNetV1.layer_list()
    print("mobilenet_v1: " + str(sum(v.size for v in state.values())) + " values")
    x = (torch.rand((2, 3, 48, 48), generator=gen, dtype=torch.float64) * 2 - 1).float().double()
    write_case("mobilenet_v1", "mobilenet_v1", mobilenet, head, x,
               ["conv_pw_3", "conv1", "conv_dw_7", "conv_pw_13"], ("conv_dw_5", 3), layers, "conv_pw_3")
    x = (torch.rand((1, 3, 45, 37), generator=gen, dtype=torch.float64) * 2 - 1).float().double()
    write_case("mobilenet_v1_odd", "mobilenet_v1", mobilenet, head, x, ["conv_pw_5"], ("conv_dw_2", 1),
               layers, "conv_pw_5")

    # ResNets, torchvision layout.
    for model_name, block, blocks, base, seed, cases in [
        ("resnet18", BasicBlock, [2, 2, 2, 2], 4, 18,
         [("resnet18", (2, 3, 48, 48), ["layer2.0", "maxpool", "layer1.0.conv1", "layer4.1"],
           ("layer3.1.conv2", 3)),
          ("resnet18_odd", (1, 3, 45, 37), ["layer3.0"], ("layer2.1", 2)),
          # Large enough that layer1's 3x3 convolutions run as Winograd (28x28: 49 tiles of 4x4).
          ("resnet18_winograd", (1, 3, 112, 112), ["layer1.1"], ("layer1.0.conv2", 1))]),
        ("resnet_bottleneck", Bottleneck, [1, 2, 1, 1], 4, 50,
         [("resnet_bottleneck", (2, 3, 48, 48), ["layer2.1", "layer1.0.conv3", "layer4.0"],
           ("layer3.0.conv2", 5)),
          # layer1 at 2 x 24x24: 72 Winograd tiles, the block's residual fused into conv3.
          ("resnet_bottleneck_winograd", (2, 3, 96, 96), ["layer1.0"], ("layer1.0.conv2", 1))]),
    ]:
        model = random_resnet(block, blocks, base, 10, seed)
        state = {k: to_numpy(v) for k, v in model.state_dict().items()}
        safetensors_io.save(os.path.join(OUT_DIR, model_name + ".safetensors"), state,
                            metadata={"description": f"random {model_name}, stem width {base}, torchvision layout"})
        print(f"{model_name}: {sum(v.size for v in state.values())} values")
        model = model.double()
        layers = resnet_layer_list(model)

        def run(inp, model=model):
            logits, outputs = resnet_forward(model, inp)
            assert torch.allclose(logits, model(inp), rtol=0, atol=1e-12)  # torchvision's own forward
            return logits, outputs

        gen = torch.Generator().manual_seed(seed)
        for case, shape, erf_layers, single, in cases:
            x = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1).float().double()
            write_case(case, model_name, run, model.head(), x, erf_layers, single, layers, erf_layers[0])

    safetensors_io.report_sizes(OUT_DIR, "tests/data/cnn")


if __name__ == "__main__":
    main()
