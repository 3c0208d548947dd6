#include "engine/model/kv_cache.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace parklock::engine {

void PagedKvCache::allocate(const ModelConfig& config, int num_blocks, int block_size) {
  if (num_blocks <= 0 || block_size <= 0)
    throw std::invalid_argument("allocate_kv: num_blocks and block_size must be positive, got " +
                                std::to_string(num_blocks) + " and " + std::to_string(block_size));
  layout_ = {.block_size = block_size,
             .num_kv_heads = config.num_kv_heads,
             .head_dim = config.head_dim};
  num_layers_ = config.num_layers;
  num_blocks_ = num_blocks;
  const size_t total = static_cast<size_t>(num_layers_) * layer_stride();
  // Zeroed so a slot read before it is written (a serving bug) yields
  // zeros rather than stale data from a freed sequence.
  k_.assign(total, 0.f);
  v_.assign(total, 0.f);
}

void PagedKvCache::copy_block(int src, int dst) {
  auto check = [&](int id, const char* what) {
    if (id < 0 || id >= num_blocks_)
      throw std::out_of_range(std::string("copy_kv_block: ") + what + " block " +
                              std::to_string(id) + " outside [0, " + std::to_string(num_blocks_) +
                              ")");
  };
  check(src, "source");
  check(dst, "destination");
  if (src == dst) return;
  const long block = layout_.block_stride();
  for (int l = 0; l < num_layers_; ++l) {
    std::copy_n(keys(l) + src * block, block, keys(l) + dst * block);
    std::copy_n(values(l) + src * block, block, values(l) + dst * block);
  }
}

}  // namespace parklock::engine
