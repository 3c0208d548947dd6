#include "engine/serving/kv_block_manager.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <random>
#include <vector>

namespace parklock::engine {
namespace {

std::vector<int32_t> iota_tokens(int n, int32_t first = 0) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), first);
  return t;
}

TEST(KvBlockManager, AllocatesAndFreesWithoutLeaks) {
  KvBlockManager kv({.num_blocks = 8, .block_size = 4});
  std::vector<BlockCopy> copies;
  EXPECT_EQ(kv.add_sequence(1, iota_tokens(10), 0), 0);
  ASSERT_TRUE(kv.reserve(1, 0, 10, &copies));
  EXPECT_EQ(kv.block_table(1).size(), 3u);
  EXPECT_EQ(kv.num_free_blocks(), 5);
  ASSERT_TRUE(kv.reserve(1, 10, 13, &copies));  // grows into a 4th block
  EXPECT_EQ(kv.block_table(1).size(), 4u);
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(kv.check_invariants(), "");
  kv.free_sequence(1);
  EXPECT_EQ(kv.num_free_blocks(), 8);
  EXPECT_EQ(kv.check_invariants(), "");
}

TEST(KvBlockManager, ReserveFailsWithoutSideEffects) {
  KvBlockManager kv({.num_blocks = 2, .block_size = 4});
  std::vector<BlockCopy> copies;
  kv.add_sequence(1, iota_tokens(12), 0);
  EXPECT_EQ(kv.blocks_needed(1, 0, 12), 3);
  EXPECT_FALSE(kv.reserve(1, 0, 12, &copies));
  EXPECT_TRUE(kv.block_table(1).empty());
  EXPECT_EQ(kv.num_free_blocks(), 2);
  EXPECT_EQ(kv.check_invariants(), "");
}

TEST(KvBlockManager, SharesCommittedFullBlocksByPrefix) {
  KvBlockManager kv({.num_blocks = 16, .block_size = 4});
  std::vector<BlockCopy> copies;
  const auto prompt = iota_tokens(10);
  kv.add_sequence(1, prompt, 0);
  ASSERT_TRUE(kv.reserve(1, 0, 10, &copies));
  kv.commit(1, prompt, 10);  // blocks 0 and 1 are full, block 2 is not

  EXPECT_EQ(kv.add_sequence(2, prompt, 0), 8);
  const auto t1 = kv.block_table(1), t2 = kv.block_table(2);
  ASSERT_EQ(t2.size(), 2u);
  EXPECT_EQ(t2[0], t1[0]);
  EXPECT_EQ(t2[1], t1[1]);

  // A different adapter (hash seed) must not reuse them.
  EXPECT_EQ(kv.add_sequence(3, prompt, 42), 0);
  // Nor a prompt that differs inside the second block.
  auto other = prompt;
  other[5] = 99;
  EXPECT_EQ(kv.add_sequence(4, other, 0), 4);
  EXPECT_EQ(kv.check_invariants(), "");
  for (SeqId id : {1, 2, 3, 4}) kv.free_sequence(id);
  EXPECT_EQ(kv.num_free_blocks(), 16);
  EXPECT_EQ(kv.check_invariants(), "");
}

TEST(KvBlockManager, CachedBlocksSurviveFreeUntilEvicted) {
  KvBlockManager kv({.num_blocks = 4, .block_size = 4});
  std::vector<BlockCopy> copies;
  const auto prompt = iota_tokens(8);
  kv.add_sequence(1, prompt, 0);
  ASSERT_TRUE(kv.reserve(1, 0, 8, &copies));
  kv.commit(1, prompt, 8);
  kv.free_sequence(1);
  EXPECT_EQ(kv.stats().cached_free, 2);
  EXPECT_EQ(kv.num_free_blocks(), 4);

  // Reused after the owner is gone (a recompute after preemption).
  EXPECT_EQ(kv.add_sequence(2, prompt, 0), 8);
  kv.free_sequence(2);

  // A sequence needing the whole pool evicts them.
  kv.add_sequence(3, iota_tokens(16, 100), 0);
  ASSERT_TRUE(kv.reserve(3, 0, 16, &copies));
  EXPECT_EQ(kv.stats().cached_free, 0);
  kv.free_sequence(3);
  EXPECT_EQ(kv.add_sequence(4, prompt, 0), 0);
  kv.free_sequence(4);
  EXPECT_EQ(kv.check_invariants(), "");
}

TEST(KvBlockManager, ForkSharesAndCopiesOnWrite) {
  KvBlockManager kv({.num_blocks = 8, .block_size = 4});
  std::vector<BlockCopy> copies;
  const auto prompt = iota_tokens(6);
  kv.add_sequence(1, prompt, 0);
  ASSERT_TRUE(kv.reserve(1, 0, 6, &copies));
  kv.commit(1, prompt, 6);
  kv.fork(1, 2);
  EXPECT_EQ(kv.block_table(1), kv.block_table(2));
  EXPECT_EQ(kv.check_invariants(), "");

  // The child writes position 6, inside the shared partial block 1.
  EXPECT_EQ(kv.blocks_needed(2, 6, 7), 1);
  ASSERT_TRUE(kv.reserve(2, 6, 7, &copies));
  ASSERT_EQ(copies.size(), 1u);
  const auto t1 = kv.block_table(1), t2 = kv.block_table(2);
  EXPECT_EQ(t2[0], t1[0]);  // full block 0 stays shared
  EXPECT_NE(t2[1], t1[1]);
  EXPECT_EQ(copies[0].src, t1[1]);
  EXPECT_EQ(copies[0].dst, t2[1]);
  // The parent now owns its block alone: no copy.
  copies.clear();
  ASSERT_TRUE(kv.reserve(1, 6, 7, &copies));
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(kv.check_invariants(), "");
  kv.free_sequence(1);
  kv.free_sequence(2);
  EXPECT_EQ(kv.num_free_blocks(), 8);
}

TEST(KvBlockManager, RewritingAFullyCachedPromptCopiesTheSharedBlock) {
  KvBlockManager kv({.num_blocks = 8, .block_size = 4});
  std::vector<BlockCopy> copies;
  const auto prompt = iota_tokens(8);
  kv.add_sequence(1, prompt, 0);
  ASSERT_TRUE(kv.reserve(1, 0, 8, &copies));
  kv.commit(1, prompt, 8);
  // The second sequence finds everything cached but must recompute its last
  // token to get logits: that write goes to a private copy.
  ASSERT_EQ(kv.add_sequence(2, prompt, 0), 8);
  ASSERT_TRUE(kv.reserve(2, 7, 8, &copies));
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(kv.block_table(1)[1], copies[0].src);
  EXPECT_EQ(kv.block_table(2)[1], copies[0].dst);
  EXPECT_EQ(kv.stats().copies, 1u);
  kv.commit(2, prompt, 8);
  EXPECT_EQ(kv.check_invariants(), "");
  kv.free_sequence(1);
  kv.free_sequence(2);
  EXPECT_EQ(kv.num_free_blocks(), 8);
  EXPECT_EQ(kv.check_invariants(), "");
}

// Random alloc / append / commit / fork / free, checking the invariants
// after every operation and that nothing leaks at the end.
TEST(KvBlockManager, RandomizedOperationsKeepInvariants) {
  constexpr int kBlocks = 48, kBlockSize = 4;
  KvBlockManager kv({.num_blocks = kBlocks, .block_size = kBlockSize});
  std::mt19937 rng(12345);
  struct Live {
    std::vector<int32_t> tokens;
    int computed = 0;
  };
  std::map<SeqId, Live> live;
  SeqId next_id = 1;
  std::vector<BlockCopy> copies;
  // Prompts drawn from a few shared prefixes so that sharing happens.
  auto make_prompt = [&] {
    std::vector<int32_t> p = iota_tokens(4 * static_cast<int>(rng() % 4), 1000 * (rng() % 3));
    const int extra = 1 + static_cast<int>(rng() % 9);
    for (int i = 0; i < extra; ++i) p.push_back(static_cast<int32_t>(rng() % 5));
    return p;
  };
  for (int op = 0; op < 4000; ++op) {
    const int kind = static_cast<int>(rng() % 10);
    auto pick = [&]() -> std::map<SeqId, Live>::iterator {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      return it;
    };
    if (kind < 3 || live.empty()) {  // new sequence, prefill
      Live s{make_prompt(), 0};
      const SeqId id = next_id++;
      s.computed = std::min(kv.add_sequence(id, s.tokens, 0), static_cast<int>(s.tokens.size()) - 1);
      if (kv.reserve(id, s.computed, static_cast<int>(s.tokens.size()), &copies)) {
        s.computed = static_cast<int>(s.tokens.size());
        kv.commit(id, s.tokens, s.computed);
        live.emplace(id, std::move(s));
      } else {
        kv.free_sequence(id);  // does not fit: give the prefix back
      }
    } else if (kind < 7) {  // decode one token
      auto it = pick();
      Live& s = it->second;
      s.tokens.push_back(static_cast<int32_t>(rng() % 5));
      if (kv.reserve(it->first, s.computed, static_cast<int>(s.tokens.size()), &copies)) {
        s.computed = static_cast<int>(s.tokens.size());
        kv.commit(it->first, s.tokens, s.computed);
      } else {  // preempt it, as the scheduler would
        kv.free_sequence(it->first);
        live.erase(it);
      }
    } else if (kind < 8) {  // fork
      auto it = pick();
      const SeqId child = next_id++;
      kv.fork(it->first, child);
      Live copy = it->second;
      live.emplace(child, std::move(copy));
    } else {  // finish or cancel
      auto it = pick();
      kv.free_sequence(it->first);
      live.erase(it);
    }
    ASSERT_EQ(kv.check_invariants(), "") << "after operation " << op << " (kind " << kind << ")";
  }
  for (const auto& [id, s] : live) kv.free_sequence(id);
  EXPECT_EQ(kv.check_invariants(), "");
  EXPECT_EQ(kv.num_free_blocks(), kBlocks);
  EXPECT_GT(kv.stats().prefix_hit_blocks, 0u);
  EXPECT_GT(kv.stats().copies, 0u);
}

}  // namespace
}  // namespace parklock::engine
