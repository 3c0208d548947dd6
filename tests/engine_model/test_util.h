// Shared helpers of the engine model tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/seq_step.h"

namespace parklock::engine::testing {

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("parklock_model_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::vector<int32_t> random_tokens(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = dist(rng);
  return t;
}

// Largest |a - b| relative to the reference's scale.
inline double max_rel_diff(const float* a, const std::vector<double>& b) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(a[i] - b[i]));
    max_ref = std::max(max_ref, std::abs(b[i]));
  }
  return max_diff / std::max(1.0, max_ref);
}

// One sequence fed through a model step by step: its tokens, and a block
// table of distinct, deliberately non-contiguous physical blocks.
struct SeqState {
  std::vector<int32_t> tokens;  // everything fed so far and to feed
  std::vector<int32_t> blocks;  // physical block ids
  int done = 0;                 // positions already in the KV cache

  // The step that feeds the next n tokens.
  SeqStep next(int n, const LoraAdapter* adapter = nullptr, bool want_logits = true) const {
    return SeqStep{.tokens = tokens.data() + done,
                   .num_tokens = n,
                   .start_pos = done,
                   .block_table = blocks.data(),
                   .num_blocks = static_cast<int>(blocks.size()),
                   .adapter = adapter,
                   .want_logits = want_logits};
  }
};

// Hands out block ids first..first+count in a scrambled order.
inline std::vector<int32_t> scrambled_blocks(int first, int count, uint32_t seed) {
  std::vector<int32_t> ids(count);
  for (int i = 0; i < count; ++i) ids[i] = first + i;
  std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
  return ids;
}

}  // namespace parklock::engine::testing
