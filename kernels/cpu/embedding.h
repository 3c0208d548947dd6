// Token embedding lookup: row tokens[t] of the table becomes row t.
#pragma once

#include <cstdint>

namespace parklock::kernels::cpu {

struct EmbeddingParams {
  int num_tokens = 0;               // T
  int dim = 0;                      // H
  const int32_t* tokens = nullptr;  // [T], each in [0, V): the caller validates
  const float* table = nullptr;     // [V, H]
  float* out = nullptr;             // [T, H]
};

void embedding(const EmbeddingParams& p);

}  // namespace parklock::kernels::cpu
