// Adds LoRA deltas to one projection's output, per run of rows that share an
// adapter: out[rows] += scale · (in[rows] · Aᵀ) · Bᵀ. Rows without an adapter
// are untouched, so one batch mixes adapters and the base model freely.
#pragma once

#include <span>
#include <vector>

#include "engine/model/forward_plan.h"
#include "engine/model/llama_layout.h"

namespace parklock::engine {

struct LoraApplyParams {
  std::span<const AdapterRun> runs;
  int layer = 0;
  Projection projection = Projection::kQ;
  const float* in = nullptr;  // [T, in_features], row stride in_stride (the projection's input)
  int in_stride = 0;
  float* out = nullptr;       // [T, out_features], row stride out_stride (its output, possibly a column slice)
  int out_stride = 0;
  std::vector<float>* scratch = nullptr;  // grown to [rows, R]
};

void apply_lora(const LoraApplyParams& p);

}  // namespace parklock::engine
