#include "engine/model/lora_apply.h"

#include "engine/model/lora_adapter.h"
#include "kernels/cpu/gemm.h"

namespace parklock::engine {

void apply_lora(const LoraApplyParams& p) {
  for (const AdapterRun& run : p.runs) {
    const LoraAdapter::Factors* f = run.adapter->find(p.layer, p.projection);
    if (f == nullptr) continue;
    const ProjectionShape shape = projection_shape(run.adapter->config(), p.projection);
    const int rows = run.row_end - run.row_begin;
    const int rank = run.adapter->rank();
    if (p.scratch->size() < static_cast<size_t>(rows) * rank)
      p.scratch->resize(static_cast<size_t>(rows) * rank);
    // tmp [rows, R] = in · Aᵀ
    kernels::cpu::gemm_nt({.m = rows,
                           .n = rank,
                           .k = shape.in_features,
                           .a = p.in + static_cast<long>(run.row_begin) * p.in_stride,
                           .lda = p.in_stride,
                           .b = f->a.data(),
                           .ldb = shape.in_features,
                           .c = p.scratch->data(),
                           .ldc = rank});
    // out [rows, out] += scale · tmp · Bᵀ
    kernels::cpu::gemm_nt({.m = rows,
                           .n = shape.out_features,
                           .k = rank,
                           .a = p.scratch->data(),
                           .lda = rank,
                           .b = f->b.data(),
                           .ldb = rank,
                           .c = p.out + static_cast<long>(run.row_begin) * p.out_stride,
                           .ldc = p.out_stride,
                           .alpha = run.adapter->scale(),
                           .beta = 1.f});
  }
}

}  // namespace parklock::engine
