#include "kernels/cpu/paged_kv.h"

#include <cstring>

namespace parklock::kernels::cpu {

void paged_kv_write(const PagedKvWriteParams& p) {
  const PagedKvLayout& l = p.layout;
  const size_t head_bytes = sizeof(float) * l.head_dim;
  for (int t = 0; t < p.num_tokens; ++t) {
    const int pos = p.start_pos + t;
    const int block = p.block_table[pos / l.block_size];
    const int slot = pos % l.block_size;
    const float* k = p.k + static_cast<long>(t) * p.row_stride;
    const float* v = p.v + static_cast<long>(t) * p.row_stride;
    for (int h = 0; h < l.num_kv_heads; ++h) {
      const long off = l.offset(block, h, slot);
      std::memcpy(p.k_cache + off, k + h * l.head_dim, head_bytes);
      std::memcpy(p.v_cache + off, v + h * l.head_dim, head_bytes);
    }
  }
}

}  // namespace parklock::kernels::cpu
