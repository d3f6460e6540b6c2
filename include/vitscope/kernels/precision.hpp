#pragma once
// The arithmetic a model's matrix products run at: a property of its packed weights, chosen at load.
namespace vitscope {

// fp32; bf16 operands with fp32 accumulation (weights stored as bf16; AVX512-BF16 when the CPU
// has it, else emulated on the fp32 kernels); or int8 operands with int32 accumulation (weights
// int8 per output channel, activations int8 per token, quantised at each product; AVX512-VNNI when
// the CPU has it, else portable integer code with the same results).
enum class Precision { Fp32, Bf16, Int8 };

}  // namespace vitscope
