"""Dynamic int8 quantization of an exported ViT's ONNX graph, built node by node the way ONNX Runtime's
onnxruntime.quantization.quantize_dynamic builds it (its Python package cannot be installed here, so this
uses the onnx library alone); the "ORT int8" column of scripts/bench_peers.sh.

    quantize_onnx_dynamic.py --onnx FILE.onnx --out FILE.int8.onnx [--per-tensor] [--quantize-gemm]
                             [--quantize-conv]

Every MatMul whose second input B is a float initializer (in a ViT: qkv, proj, fc1 and fc2 of every block)
is replaced, as quantize_dynamic's MatMulInteger operator does it, by
    A -> DynamicQuantizeLinear -> (A_q uint8, A_scale, A_zero_point)   [per tensor, asymmetric, at run time]
    MatMulInteger(A_q, B_q, A_zero_point, B_zero_point) -> int32        [B_q: int8 initializer, offline]
    Cast(to=float)
    Mul(A_scale, B_scale) -> scales;  Mul(cast, scales) -> the MatMul's original output name
so that the following Add of the bias (and everything else) stays as it was. ONNX Runtime's graph optimiser
fuses this pattern (with the bias Add) into its DynamicQuantizeMatMul kernel. One DynamicQuantizeLinear
serves every quantized MatMul that reads the same activation.

Weights: int8, symmetric (quantize_dynamic's defaults for QInt8: range [-127, 127], scale = max|w| / 127,
zero point 0, round half to even), by default per output channel (per column of B, axis -1: what
quantize_dynamic(per_channel=True) does for MatMul; MatMulInteger takes a 1-D B zero point of length N and
the scale Mul broadcasts a [N] scale over the last axis), or with --per-tensor one scale per matrix
(quantize_dynamic's default, per_channel=False).

Left in float, as quantize_dynamic leaves them: MatMuls without a constant B (attention's q·kᵀ and p·v;
quantize_dynamic's MatMulConstBOnly, True by default in dynamic mode) and Gemm (the classifier head of this
export: quantize_dynamic's IntegerOps registry has no Gemm). --quantize-gemm also quantizes a Gemm with a
constant B (transB handled by quantizing Bᵀ, alpha folded into the scale, C added after).

Left in float by default, unlike quantize_dynamic's defaults: the patch-embedding Conv. With
--quantize-conv it becomes, as quantize_dynamic's ConvInteger operator makes it, DynamicQuantizeLinear(X)
-> ConvInteger(X_q, W_q, X_zero_point, W_zero_point) -> Cast -> Mul by X_scale x W_scale, then Add of the
bias; weights int8 symmetric per output channel (axis 0; one scale per tensor with --per-tensor), the [M]
scales and bias reshaped to [M, 1, 1] so that they broadcast over the channels of the NCHW output (the
weight zero point, 0, is one scalar: ONNX Runtime's ConvInteger takes no per-channel zero point).
Measured on DeiT-Tiny with ONNX Runtime 1.30 (2-core Zen 4, batch 1, three alternating rounds): the
ConvInteger graph is slower (15.6-16.4 against 14.9-15.6 ms per image on 1 thread, 10.6 against 10.3-10.5
on 2) and agrees less with fp32 (96/100 top-1 against 98/100), so the ORT int8 column of bench_peers.sh
times the faster graph, with the patch embedding in float, although `vitscope --precision int8` quantizes
the patch embedding (and the head) too.

Prints a one-line summary and writes OUT (via OUT.part) plus OUT's stem + ".json" with what was quantized.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QMIN, QMAX = -127, 127  # quantize_dynamic's symmetric int8 weight range


def quantize_weight(weight, per_channel):
    """weight [K, N] float32 -> (int8 [K, N], scale float32 [] or [N]): symmetric, zero point 0,
    scale = max|w| / 127 over the whole matrix or over each column (output channel)."""
    absmax = np.abs(weight).max(axis=0) if per_channel else np.abs(weight).max()
    absmax = np.asarray(absmax, dtype=np.float64)
    # compute_scale_zp: scale = (rmax - rmin) / (qmax - qmin) with rmin = -rmax = -max|w|; 1.0 when all zero.
    scale = np.where(absmax > 0, (2.0 * absmax) / (QMAX - QMIN), 1.0).astype(np.float32)
    # quantize_nparray: round half to even (np.rint), saturate.
    quantized = np.clip(np.rint(weight.astype(np.float32) / scale), QMIN, QMAX).astype(np.int8)
    return quantized, scale


class Quantizer:
    def __init__(self, model, per_channel, quantize_gemm, quantize_conv):
        self.model = model
        self.quantize_conv = quantize_conv
        self.graph = model.graph
        self.per_channel = per_channel
        self.quantize_gemm = quantize_gemm
        self.initializers = {init.name: init for init in self.graph.initializer}
        self.new_initializers = []
        self.quantized_weights = {}  # (float initializer name, transposed) -> (q name, zp name, scale name)
        self.quantized_inputs = {}  # activation name -> (q name, scale name, zp name)
        self.quantized_nodes = []
        self.kept_float = []

    def constant_float(self, name):
        init = self.initializers.get(name)
        if init is None or init.data_type != TensorProto.FLOAT or len(init.dims) != 2:
            return None
        return numpy_helper.to_array(init)

    def add_initializer(self, array, name):
        self.new_initializers.append(numpy_helper.from_array(array, name))
        return name

    def weight(self, name, transposed, alpha=1.0):
        key = (name, transposed, alpha)
        if key not in self.quantized_weights:
            w = self.constant_float(name)
            if transposed:
                w = np.ascontiguousarray(w.T)
            q, scale = quantize_weight(w, self.per_channel)
            scale = (scale * np.float32(alpha)).astype(np.float32)
            suffix = "_T" if transposed else ""
            zero_point = np.zeros(scale.shape, dtype=np.int8)
            self.quantized_weights[key] = (
                self.add_initializer(q, f"{name}{suffix}_quantized"),
                self.add_initializer(zero_point, f"{name}{suffix}_zero_point"),
                self.add_initializer(scale, f"{name}{suffix}_scale"),
            )
        return self.quantized_weights[key]

    def activation(self, name, nodes):
        if name not in self.quantized_inputs:
            q, scale, zp = f"{name}_quantized", f"{name}_scale", f"{name}_zero_point"
            nodes.append(helper.make_node("DynamicQuantizeLinear", [name], [q, scale, zp],
                                          name=f"{name}_QuantizeLinear"))
            self.quantized_inputs[name] = (q, scale, zp)
        return self.quantized_inputs[name]

    def integer_matmul(self, node, a, b_name, transposed, alpha, output, nodes):
        """DynamicQuantizeLinear(a) + MatMulInteger + Cast + Mul(Mul(a_scale, b_scale)) -> output."""
        a_q, a_scale, a_zp = self.activation(a, nodes)
        b_q, b_zp, b_scale = self.weight(b_name, transposed, alpha)
        base = node.name or output
        integer_out = f"{output}_output_quantized"
        nodes.append(helper.make_node("MatMulInteger", [a_q, b_q, a_zp, b_zp], [integer_out],
                                      name=f"{base}_quant"))
        cast_out = f"{integer_out}_cast_output"
        nodes.append(helper.make_node("Cast", [integer_out], [cast_out], name=f"{integer_out}_cast",
                                      to=TensorProto.FLOAT))
        scales = f"{base}_quant_scales_mul:0"
        nodes.append(helper.make_node("Mul", [a_scale, b_scale], [scales], name=f"{base}_quant_scales_mul"))
        nodes.append(helper.make_node("Mul", [cast_out, scales], [output],
                                      name=f"{base}_quant_output_scale_mul"))

    def integer_conv(self, node, nodes):
        """DynamicQuantizeLinear(x) + ConvInteger + Cast + Mul(x_scale * w_scale) (+ bias) -> the output."""
        w_init = self.initializers[node.input[1]]
        w = numpy_helper.to_array(w_init).astype(np.float32)  # [M, C, kh, kw]
        m = w.shape[0]
        q, scale = quantize_weight(w.reshape(m, -1).T, self.per_channel)  # per column = per output channel
        q = np.ascontiguousarray(q.T.reshape(w.shape))
        zero_point = np.zeros((), dtype=np.int8)  # one zero point: ONNX Runtime's ConvInteger takes no other
        name = node.input[1]
        w_q = self.add_initializer(q, f"{name}_quantized")
        w_zp = self.add_initializer(zero_point, f"{name}_zero_point")
        w_scale = self.add_initializer(scale.reshape(-1, 1, 1) if self.per_channel else scale, f"{name}_scale")
        x_q, x_scale, x_zp = self.activation(node.input[0], nodes)
        base = node.name or node.output[0]
        attrs = [a for a in node.attribute]
        integer_out = f"{node.output[0]}_output_quantized"
        conv = helper.make_node("ConvInteger", [x_q, w_q, x_zp, w_zp], [integer_out], name=f"{base}_quant")
        conv.attribute.extend(attrs)
        nodes.append(conv)
        cast_out = f"{integer_out}_cast_output"
        nodes.append(helper.make_node("Cast", [integer_out], [cast_out], name=f"{integer_out}_cast",
                                      to=TensorProto.FLOAT))
        scales = f"{base}_quant_scales_mul:0"
        nodes.append(helper.make_node("Mul", [x_scale, w_scale], [scales], name=f"{base}_quant_scales_mul"))
        has_bias = len(node.input) > 2 and node.input[2]
        scaled = f"{base}_quant_scaled" if has_bias else node.output[0]
        nodes.append(helper.make_node("Mul", [cast_out, scales], [scaled], name=f"{base}_quant_output_scale_mul"))
        if has_bias:
            if node.input[2] not in self.initializers:
                raise SystemExit(f"quantize_onnx_dynamic: {node.name}: a Conv bias that is not a constant is not handled")
            bias = numpy_helper.to_array(self.initializers[node.input[2]]).astype(np.float32)
            b = self.add_initializer(bias.reshape(-1, 1, 1), f"{node.input[2]}_reshaped")
            nodes.append(helper.make_node("Add", [scaled, b], [node.output[0]], name=f"{base}_bias"))

    def constant_conv_weight(self, node):
        init = self.initializers.get(node.input[1])
        return init is not None and init.data_type == TensorProto.FLOAT and len(init.dims) == 4

    def run(self):
        nodes = []
        for node in self.graph.node:
            if node.op_type == "Conv" and self.quantize_conv and self.constant_conv_weight(node):
                self.integer_conv(node, nodes)
                self.quantized_nodes.append(node.name)
            elif node.op_type == "MatMul" and self.constant_float(node.input[1]) is not None:
                self.integer_matmul(node, node.input[0], node.input[1], False, 1.0, node.output[0], nodes)
                self.quantized_nodes.append(node.name)
            elif node.op_type == "Gemm" and self.quantize_gemm and self.constant_float(node.input[1]) is not None:
                attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
                if attrs.get("transA", 0):
                    raise SystemExit(f"quantize_onnx_dynamic: {node.name}: Gemm with transA is not handled")
                alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
                has_c = len(node.input) > 2 and node.input[2]
                product = f"{node.output[0]}_matmul" if has_c else node.output[0]
                self.integer_matmul(node, node.input[0], node.input[1], bool(attrs.get("transB", 0)), alpha,
                                    product, nodes)
                if has_c:
                    c = node.input[2]
                    if beta != 1.0:
                        c_array = self.initializers.get(c)
                        if c_array is None:
                            raise SystemExit(f"quantize_onnx_dynamic: {node.name}: beta != 1 with a non-constant C")
                        c = self.add_initializer((numpy_helper.to_array(c_array) * np.float32(beta)).astype(
                            np.float32), f"{c}_times_beta")
                    nodes.append(helper.make_node("Add", [product, c], [node.output[0]], name=f"{node.name}_bias"))
                self.quantized_nodes.append(node.name)
            else:
                if node.op_type in ("MatMul", "Gemm", "Conv"):
                    self.kept_float.append(f"{node.op_type} {node.name}")
                nodes.append(node)
        del self.graph.node[:]
        self.graph.node.extend(nodes)
        self.graph.initializer.extend(self.new_initializers)
        # Drop the float weights no node reads any more.
        used = {name for node in self.graph.node for name in node.input}
        used |= {o.name for o in self.graph.output}
        kept = [init for init in self.graph.initializer if init.name in used]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)
        # Inputs named after dropped initializers (IR < 4 style exports) go too.
        names = {init.name for init in self.graph.initializer}
        dropped = {n for n, _ in self.initializers.items()} - names
        graph_inputs = [i for i in self.graph.input if i.name not in dropped]
        del self.graph.input[:]
        self.graph.input.extend(graph_inputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onnx", required=True, help="the fp32 graph (export_onnx.py)")
    parser.add_argument("--out", required=True, help="the int8 graph to write")
    parser.add_argument("--per-tensor", action="store_true",
                        help="one weight scale per matrix (quantize_dynamic's default) instead of per output channel")
    parser.add_argument("--quantize-gemm", action="store_true",
                        help="also quantize Gemm nodes with a constant B (quantize_dynamic does not)")
    parser.add_argument("--quantize-conv", action="store_true",
                        help="also quantize Conv nodes with a constant weight (the patch embedding) as ConvInteger, "
                             "as quantize_dynamic does")
    args = parser.parse_args()

    model = onnx.load(args.onnx)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 11:
        raise SystemExit(f"quantize_onnx_dynamic: {args.onnx}: opset {opset}; DynamicQuantizeLinear needs 11 or newer")
    quantizer = Quantizer(model, per_channel=not args.per_tensor, quantize_gemm=args.quantize_gemm,
                          quantize_conv=args.quantize_conv)
    quantizer.run()
    if not quantizer.quantized_nodes:
        raise SystemExit(f"quantize_onnx_dynamic: {args.onnx}: no MatMul with a constant float weight found")
    model.producer_name = "vitscope quantize_onnx_dynamic.py"
    onnx.checker.check_model(model)

    partial = args.out + ".part"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save(model, partial)
    os.replace(partial, args.out)
    granularity = "per-tensor" if args.per_tensor else "per-channel"
    info = {
        "source": os.path.basename(args.onnx),
        "output": os.path.basename(args.out),
        "weights": f"int8 symmetric [-127, 127], zero point 0, {granularity}"
                   + (" (per output column of B)" if not args.per_tensor else ""),
        "activations": "uint8 asymmetric per tensor, DynamicQuantizeLinear at run time",
        "granularity": granularity,
        "quantized_nodes": len(quantizer.quantized_nodes),
        "kept_float": quantizer.kept_float,
        "quantize_gemm": args.quantize_gemm,
        "quantize_conv": args.quantize_conv,
        "source_bytes": os.path.getsize(args.onnx),
        "output_bytes": os.path.getsize(args.out),
    }
    stem = args.out[:-len(".onnx")] if args.out.endswith(".onnx") else args.out
    with open(stem + ".json", "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(f"quantize_onnx_dynamic: wrote {args.out}: {len(quantizer.quantized_nodes)} MatMul/Gemm/Conv in int8 "
          f"(weights {granularity}), {len(quantizer.kept_float)} kept in float "
          f"({info['source_bytes'] / 1e6:.1f} MB -> {info['output_bytes'] / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
