"""Plain-torch references of the CNNs vitscope runs, for golden data.

KerasMobileNetV1: MobileNet v1 on a Keras-layout state dict (conv1/kernel HWIO, conv_dw_N/
  depthwise_kernel [3,3,C,1], conv_pw_N/kernel [1,1,C,C'], *_bn/{gamma,beta,moving_mean,
  moving_variance}, conv_preds/kernel + bias), with TensorFlow "same" padding written out as an
  explicit F.pad (odd pixel bottom/right), BatchNorm eps 1e-3, ReLU6.
TinyResNet: torchvision's ResNet with a configurable stem width, built from torchvision's own
  BasicBlock / Bottleneck modules, so its state dict has torchvision's names and layouts (at
  base_width 64 exactly those of torchvision.models.resnet18/50; see same_layout_as_torchvision).
resnet_forward: the torchvision forward, written out to also return every intermediate output
  under vitscope's layer names.
receptive_fields: the theoretical receptive field of every layer of a layer list, and
erf_statistics: the effective-receptive-field measures vitscope reports.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

MOBILENET_STRIDED_BLOCKS = (2, 4, 6, 12)
MOBILENET_EPS = 1e-3


def tf_same_padding(size: int, kernel: int, stride: int):
    """(before, after) padding of TensorFlow's "same" for one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class KerasMobileNetV1(nn.Module):
    def __init__(self, state: dict):
        super().__init__()
        self.state = {k: v if torch.is_tensor(v) else torch.from_numpy(v.copy()) for k, v in state.items()}

    def to_dtype(self, dtype):
        self.state = {k: v.to(dtype) for k, v in self.state.items()}
        return self

    def _bn_relu6(self, x, name):
        s = self.state
        x = F.batch_norm(x, s[name + "_bn/moving_mean"], s[name + "_bn/moving_variance"],
                         s[name + "_bn/gamma"], s[name + "_bn/beta"], training=False, eps=MOBILENET_EPS)
        return F.relu6(x)

    @staticmethod
    def _pad_same(x, kernel, stride):
        # int(): under torch.jit tracing (ONNX export) the sizes are tensors; as ints the padding is
        # a constant of the graph instead of a chain of Shape/Gather/Div nodes.
        top, bottom = tf_same_padding(int(x.shape[2]), kernel, stride)
        left, right = tf_same_padding(int(x.shape[3]), kernel, stride)
        return F.pad(x, (left, right, top, bottom))

    def forward(self, x):
        """x [B,3,H,W] -> (logits [B,classes], {layer name: output [B,C,h,w]})."""
        s = self.state
        outputs = {}
        w = s["conv1/kernel"].permute(3, 2, 0, 1)  # HWIO -> OIHW
        x = self._bn_relu6(F.conv2d(self._pad_same(x, 3, 2), w, stride=2), "conv1")
        outputs["conv1"] = x
        for n in range(1, 14):
            stride = 2 if n in MOBILENET_STRIDED_BLOCKS else 1
            dw = s[f"conv_dw_{n}/depthwise_kernel"].permute(2, 3, 0, 1)  # [3,3,C,1] -> [C,1,3,3]
            x = F.conv2d(self._pad_same(x, 3, stride), dw, stride=stride, groups=x.shape[1])
            x = self._bn_relu6(x, f"conv_dw_{n}")
            outputs[f"conv_dw_{n}"] = x
            pw = s[f"conv_pw_{n}/kernel"].permute(3, 2, 0, 1)
            x = self._bn_relu6(F.conv2d(x, pw), f"conv_pw_{n}")
            outputs[f"conv_pw_{n}"] = x
        pooled = x.mean(dim=(2, 3))
        logits = pooled @ s["conv_preds/kernel"][0, 0] + s["conv_preds/bias"]
        return logits, outputs

    def head(self):
        """(weight [classes, C], bias [classes]) of the classifier on the pooled features."""
        return self.state["conv_preds/kernel"][0, 0].t(), self.state["conv_preds/bias"]

    @staticmethod
    def layer_list():
        """[(name, op, inputs, kernel, stride, padding)] in execution order, padding "same"."""
        layers = [("image", "input", [], 1, 1, None), ("conv1", "conv", ["image"], 3, 2, "same")]
        prev = "conv1"
        for n in range(1, 14):
            stride = 2 if n in MOBILENET_STRIDED_BLOCKS else 1
            layers.append((f"conv_dw_{n}", "conv", [prev], 3, stride, "same"))
            layers.append((f"conv_pw_{n}", "conv", [f"conv_dw_{n}"], 1, 1, "same"))
            prev = f"conv_pw_{n}"
        return layers


class TinyResNet(nn.Module):
    """torchvision.models.resnet.ResNet.__init__ with the stem width as a parameter."""

    def __init__(self, block, layers, num_classes, base_width=64):
        super().__init__()
        self.inplanes = base_width
        self.conv1 = nn.Conv2d(3, base_width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, base_width, layers[0], 1)
        self.layer2 = self._make_layer(block, base_width * 2, layers[1], 2)
        self.layer3 = self._make_layer(block, base_width * 4, layers[2], 2)
        self.layer4 = self._make_layer(block, base_width * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(base_width * 8 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):  # torchvision's ResNet._forward_impl
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def head(self):
        return self.fc.weight, self.fc.bias


def same_layout_as_torchvision(block, layers, factory):
    """True when TinyResNet at base width 64 has exactly the names and shapes of factory()."""
    ours = TinyResNet(block, layers, 10, 64).state_dict()
    theirs = factory(num_classes=10).state_dict()
    return {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def resnet_forward(model: TinyResNet, x):
    """model's forward with every intermediate output: (logits, {vitscope layer name: output})."""
    outputs = {}
    x = model.relu(model.bn1(model.conv1(x)))
    outputs["conv1"] = x
    x = model.maxpool(x)
    outputs["maxpool"] = x
    for stage in range(1, 5):
        for i, block in enumerate(getattr(model, f"layer{stage}")):
            p = f"layer{stage}.{i}"
            identity = x
            out = F.relu(block.bn1(block.conv1(x)))
            outputs[p + ".conv1"] = out
            if isinstance(block, Bottleneck):
                out = F.relu(block.bn2(block.conv2(out)))
                outputs[p + ".conv2"] = out
                out = block.bn3(block.conv3(out))
                outputs[p + ".conv3"] = out
            else:
                out = block.bn2(block.conv2(out))
                outputs[p + ".conv2"] = out
            if block.downsample is not None:
                identity = block.downsample(x)
                outputs[p + ".downsample"] = identity
            x = F.relu(out + identity)
            outputs[p] = x
    logits = model.fc(torch.flatten(model.avgpool(x), 1))
    return logits, outputs


def resnet_layer_list(model: TinyResNet):
    """[(name, op, inputs, kernel, stride, padding)] in vitscope's order; padding in pixels."""
    layers = [("image", "input", [], 1, 1, None), ("conv1", "conv", ["image"], 7, 2, 3),
              ("maxpool", "conv", ["conv1"], 3, 2, 1)]
    prev = "maxpool"
    for stage in range(1, 5):
        for i, block in enumerate(getattr(model, f"layer{stage}")):
            p = f"layer{stage}.{i}"
            stride = block.conv2.stride[0] if isinstance(block, Bottleneck) else block.conv1.stride[0]
            if isinstance(block, Bottleneck):
                layers += [(p + ".conv1", "conv", [prev], 1, 1, 0),
                           (p + ".conv2", "conv", [p + ".conv1"], 3, stride, 1),
                           (p + ".conv3", "conv", [p + ".conv2"], 1, 1, 0)]
                last = p + ".conv3"
            else:
                layers += [(p + ".conv1", "conv", [prev], 3, stride, 1),
                           (p + ".conv2", "conv", [p + ".conv1"], 3, 1, 1)]
                last = p + ".conv2"
            shortcut = prev
            if block.downsample is not None:
                layers.append((p + ".downsample", "conv", [prev], 1, stride, 0))
                shortcut = p + ".downsample"
            layers.append((p, "add", [last, shortcut], 1, 1, None))
            prev = p
    return layers


def receptive_fields(layers, height, width):
    """{name: (size, jump, first_y, first_x)}: unit (i, j) of a layer sees input rows
    [first_y + i·jump, first_y + i·jump + size) and the same for columns (all kernels square)."""
    rf = {}
    sizes = {}
    for name, op, inputs, kernel, stride, padding in layers:
        if op == "input":
            rf[name] = (1, 1, 0, 0)
            sizes[name] = (height, width)
            continue
        if op == "add":
            (ra, ja, ya, xa), (rb, jb, yb, xb) = rf[inputs[0]], rf[inputs[1]]
            assert ja == jb
            y0, x0 = min(ya, yb), min(xa, xb)
            size_y = max(ya + ra, yb + rb) - y0
            size_x = max(xa + ra, xb + rb) - x0
            assert size_y == size_x
            rf[name] = (size_y, ja, y0, x0)
            sizes[name] = sizes[inputs[0]]
            continue
        r, j, y0, x0 = rf[inputs[0]]
        h, w = sizes[inputs[0]]
        if padding == "same":
            top, bottom = tf_same_padding(h, kernel, stride)
            left, right = tf_same_padding(w, kernel, stride)
        else:
            top = bottom = left = right = padding
        rf[name] = (r + (kernel - 1) * j, j * stride, y0 - top * j, x0 - left * j)
        sizes[name] = ((h + top + bottom - kernel) // stride + 1, (w + left + right - kernel) // stride + 1)
    return rf, sizes


def erf_statistics(erf, centre_y, centre_x, fraction=0.95):
    """(size, sigma) of a non-negative map erf [H,W]: size = side of the smallest square centred on
    (centre_y, centre_x) holding `fraction` of the mass, 2·d + 1 for the Chebyshev radius d;
    sigma = √((var_y + var_x) / 2) of the map as a distribution over pixel centres."""
    erf = erf.double()
    h, w = erf.shape
    ys = torch.arange(h, dtype=torch.float64)[:, None].expand(h, w)
    xs = torch.arange(w, dtype=torch.float64)[None, :].expand(h, w)
    total = erf.sum()
    d = torch.maximum((ys - centre_y).abs(), (xs - centre_x).abs()).flatten()
    mass = erf.flatten()
    order = torch.argsort(d, stable=True)
    d, mass = d[order], mass[order]
    cumulative = torch.cumsum(mass, 0)
    radius = None
    margin = None
    for value in torch.unique(d):
        last = int((d <= value).nonzero().max())
        if cumulative[last] >= fraction * total:
            radius = float(value)
            before = cumulative[last] - mass[d == value].sum()
            margin = float(min(cumulative[last] - fraction * total, fraction * total - before) / total)
            break
    my = float((erf * ys).sum() / total)
    mx = float((erf * xs).sum() / total)
    var = float(((erf * ((ys - my) ** 2 + (xs - mx) ** 2)).sum() / total) / 2)
    return 2 * radius + 1, math.sqrt(var), margin
