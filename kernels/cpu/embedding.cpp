#include "kernels/cpu/embedding.h"

#include <cstring>

namespace parklock::kernels::cpu {

void embedding(const EmbeddingParams& p) {
  for (int t = 0; t < p.num_tokens; ++t)
    std::memcpy(p.out + static_cast<long>(t) * p.dim,
                p.table + static_cast<long>(p.tokens[t]) * p.dim, sizeof(float) * p.dim);
}

}  // namespace parklock::kernels::cpu
