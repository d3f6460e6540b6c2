#pragma once
// The arithmetic a model's matrix products run at: a property of its packed weights, chosen at load.
namespace vitscope {

// fp32, or bf16 operands with fp32 accumulation (weights stored as bf16; AVX512-BF16 when the CPU
// has it, else emulated on the fp32 kernels).
enum class Precision { Fp32, Bf16 };

}  // namespace vitscope
