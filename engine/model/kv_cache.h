// Paged KV storage of the CPU model: fp32, [layer][block][kv_head][slot][D]
// (one layer's part is the [B, NKV, S, D] tensor of kernels/cpu/paged_kv.h).
// Block ids and their lifetimes belong to the serving side's block manager;
// this class only holds the numbers.
#pragma once

#include <vector>

#include "engine/model/model_config.h"
#include "kernels/cpu/paged_kv.h"

namespace parklock::engine {

class PagedKvCache {
 public:
  // Drops any previous contents. Throws std::invalid_argument for
  // non-positive sizes.
  void allocate(const ModelConfig& config, int num_blocks, int block_size);

  bool allocated() const { return num_blocks_ > 0; }
  int num_blocks() const { return num_blocks_; }
  int block_size() const { return layout_.block_size; }
  const kernels::cpu::PagedKvLayout& layout() const { return layout_; }

  float* keys(int layer) { return k_.data() + layer * layer_stride(); }    // [B, NKV, S, D]
  float* values(int layer) { return v_.data() + layer * layer_stride(); }  // [B, NKV, S, D]

  // Copies every layer's keys and values of block src into block dst.
  // Throws std::out_of_range for a bad id.
  void copy_block(int src, int dst);

 private:
  long layer_stride() const { return num_blocks_ * layout_.block_stride(); }

  kernels::cpu::PagedKvLayout layout_;
  int num_layers_ = 0;
  int num_blocks_ = 0;
  std::vector<float> k_;
  std::vector<float> v_;
};

}  // namespace parklock::engine
