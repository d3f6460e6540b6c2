// Dispatch from precision-tagged weights to the GEMM of their precision.
#include "vitscope/kernels/linear.hpp"

#include <stdexcept>

namespace vitscope::kernels {
namespace {

// Overload set for std::visit.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

LinearWeights LinearWeights::pack(const float* b, int n, int k, int ldb, Precision precision,
                                  ThreadPool* pool) {
  LinearWeights w;
  switch (precision) {
    case Precision::Bf16:
      w.packed_ = PackedMatrixBf16::pack(b, n, k, ldb, Bf16Backend::automatic, pool);
      break;
    case Precision::Fp32:
      w.packed_ = PackedMatrix::pack(b, n, k, ldb, pool);
      break;
    case Precision::Int8:
      w.packed_ = PackedMatrixInt8::pack(b, n, k, ldb, Int8Backend::automatic, pool);
      break;
  }
  return w;
}

Precision LinearWeights::precision() const {
  if (std::holds_alternative<PackedMatrixBf16>(packed_)) return Precision::Bf16;
  if (std::holds_alternative<PackedMatrixInt8>(packed_)) return Precision::Int8;
  return Precision::Fp32;
}

int LinearWeights::rows() const {
  return std::visit([](const auto& p) { return p.rows(); }, packed_);
}

int LinearWeights::cols() const {
  return std::visit([](const auto& p) { return p.cols(); }, packed_);
}

std::size_t LinearWeights::bytes() const {
  return std::visit(Overloaded{[](const PackedMatrix& p) { return p.size() * sizeof(float); },
                               [](const PackedMatrixBf16& p) { return p.bytes(); },
                               [](const PackedMatrixInt8& p) { return p.bytes(); }},
                    packed_);
}

std::vector<float> LinearWeights::unpack() const {
  if (const auto* fp32 = std::get_if<PackedMatrix>(&packed_)) return fp32->unpack();
  throw std::logic_error("LinearWeights::unpack: only fp32 weights can be unpacked");
}

void LinearWeights::apply(const float* a, int lda, int m, float* out, int ldo,
                          const LinearEpilogue& epilogue, ThreadPool* pool) const {
  std::visit(Overloaded{[&](const PackedMatrix& p) { linear(a, lda, m, p, out, ldo, epilogue, pool); },
                        [&](const PackedMatrixBf16& p) {
                          linear_bf16(a, lda, m, p, out, ldo, epilogue, pool);
                        },
                        [&](const PackedMatrixInt8& p) {
                          linear_int8(a, lda, m, p, out, ldo, epilogue, pool);
                        }},
             packed_);
}

const ActivationProducts& activation_products(Precision precision) {
  static const ActivationProducts fp32{gemm_abt, gemm_ab};
  static const ActivationProducts bf16{
      [](int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
         float* c, int ldc, ThreadPool* pool) {
        gemm_abt_bf16(m, n, k, alpha, a, lda, b, ldb, c, ldc, pool);
      },
      [](int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
         ThreadPool* pool) { gemm_ab_bf16(m, n, k, a, lda, b, ldb, c, ldc, pool); }};
  // int8 quantises the weighted layers only: attention's products of two activations (q·kᵀ, p·v)
  // run in bf16 (in fp32 they took a quarter of the int8 model's time; per-tensor int8 scales for
  // softmax probabilities are what the W8A8 papers take care over).
  return precision == Precision::Fp32 ? fp32 : bf16;
}

}  // namespace vitscope::kernels
