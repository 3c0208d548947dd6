// Paged KV cache bookkeeping: which physical KV blocks each sequence uses.
//
// The model backend owns the KV memory (ModelBackend::allocate_kv); this
// class only hands out block indices. A sequence's block table maps its logical block i
// (token positions [i*block_size, (i+1)*block_size)) to a physical block.
//
// Prefix sharing: once every position of a block has been computed, the
// block is registered under a chain hash (the token ids of the block mixed
// with the previous block's hash, seeded by the adapter, because a LoRA
// adapter changes K and V). A new sequence whose prompt starts with the same
// full blocks reuses them instead of recomputing them. Blocks nobody
// references any more stay registered ("cached free") until the space is
// needed, oldest first, so a later request with the same prefix, or a
// preempted sequence that is recomputed, still finds them.
//
// Copy-on-write: a block referenced by more than one sequence is never
// written; reserve() gives the writer a private copy and reports the copy
// (src -> dst) for the caller to perform on the model before the write.
//
// Thread safety: every method takes the "kv_blocks" mutex, so the engine
// loop and observers (stats) may call concurrently.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/serving/thread_annotations.h"

namespace parklock::engine {

using SeqId = uint64_t;

struct KvBlockManagerConfig {
  int num_blocks = 0;  // physical blocks in the pool, > 0
  int block_size = 0;  // token positions per block, > 0
};

// One block copy the caller must perform (ModelBackend::copy_kv_block)
// before the next forward pass writes into `dst`.
struct BlockCopy {
  int src;
  int dst;
};

struct KvBlockStats {
  int total = 0;
  int free = 0;         // unreferenced, including cached free
  int cached_free = 0;  // unreferenced but still registered for reuse
  int sequences = 0;
  uint64_t prefix_hit_blocks = 0;  // blocks reused by add_sequence so far
  uint64_t copies = 0;             // copy-on-write copies so far
};

class KvBlockManager {
 public:
  explicit KvBlockManager(const KvBlockManagerConfig& config);
  KvBlockManager(const KvBlockManager&) = delete;
  KvBlockManager& operator=(const KvBlockManager&) = delete;

  int block_size() const { return block_size_; }
  int num_blocks() const { return num_blocks_; }

  // Registers sequence `id` (must be new) and reuses cached full blocks that
  // match the start of `tokens` under `hash_seed`. Returns the number of
  // leading tokens whose KV is already present (a multiple of block_size).
  // Allocates nothing new, so it cannot fail for lack of space.
  int add_sequence(SeqId id, std::span<const int32_t> tokens, uint64_t hash_seed)
      EXCLUDES(mu_);

  // Makes positions [0, end_pos) of `id` backed by blocks, and positions
  // [first_write_pos, end_pos) writable (private to `id`). Copies to perform
  // are appended to `copies`. Returns false, changing nothing, when the free
  // pool is too small; the caller then preempts someone or waits.
  bool reserve(SeqId id, int first_write_pos, int end_pos,
               std::vector<BlockCopy>* copies) EXCLUDES(mu_);

  // Free blocks reserve(id, first_write_pos, end_pos) would take.
  int blocks_needed(SeqId id, int first_write_pos, int end_pos) const EXCLUDES(mu_);

  // Records that the KV of tokens[0, num_computed) is in place; blocks that
  // became full are registered for prefix sharing. `tokens` is the
  // sequence's full token list (it must agree with earlier calls).
  void commit(SeqId id, std::span<const int32_t> tokens, int num_computed)
      EXCLUDES(mu_);

  // Makes `child` (new) share every block of `parent`; the first write to a
  // shared block by either side copies it.
  void fork(SeqId parent, SeqId child) EXCLUDES(mu_);

  // Drops every block reference of `id` and forgets it. Used on finish,
  // cancel and preemption. Unknown ids are ignored.
  void free_sequence(SeqId id) EXCLUDES(mu_);

  // The physical block indices of `id`, logical order.
  std::vector<int32_t> block_table(SeqId id) const EXCLUDES(mu_);

  // Copies the block table of `id` into `out` (cleared first); avoids an
  // allocation per step on the engine loop.
  void copy_block_table(SeqId id, std::vector<int32_t>* out) const EXCLUDES(mu_);

  int num_free_blocks() const EXCLUDES(mu_);
  KvBlockStats stats() const EXCLUDES(mu_);

  // Checks the bookkeeping: every block is exactly one of plain free, cached
  // free or referenced; reference counts equal the number of table entries;
  // the hash index and the blocks agree. Returns "" when consistent, else a
  // description of the first problem. For tests; O(blocks + table entries).
  std::string check_invariants() const EXCLUDES(mu_);

 private:
  static constexpr int kNone = -1;

  struct Block {
    int ref_count = 0;
    bool hashed = false;       // registered in hash_index_
    uint64_t hash = 0;         // valid when hashed
    uint64_t parent_hash = 0;  // chain input, checked on lookup with tokens
    std::vector<int32_t> tokens;  // the block's token ids, when hashed
    int lru_prev = kNone;      // cached free LRU links, when cached free
    int lru_next = kNone;
    bool in_lru = false;
  };

  struct SeqState {
    std::vector<int32_t> table;
    std::vector<uint64_t> chain;  // hash of each full, committed block
    uint64_t hash_seed = 0;
  };

  int free_count_locked() const REQUIRES(mu_);
  int blocks_needed_locked(const SeqState& seq, int first_write_pos, int end_pos) const
      REQUIRES(mu_);
  int allocate_locked() REQUIRES(mu_);
  void release_locked(int block) REQUIRES(mu_);
  void unregister_locked(int block) REQUIRES(mu_);
  void lru_push_back_locked(int block) REQUIRES(mu_);
  void lru_remove_locked(int block) REQUIRES(mu_);
  uint64_t block_hash(uint64_t parent, std::span<const int32_t> tokens) const;

  const int num_blocks_;
  const int block_size_;

  mutable AnnotatedMutex mu_;  // "kv_blocks"
  std::vector<Block> blocks_ GUARDED_BY(mu_);
  std::vector<int> plain_free_ GUARDED_BY(mu_);  // unreferenced, unregistered
  int lru_head_ GUARDED_BY(mu_) = kNone;  // oldest cached free block
  int lru_tail_ GUARDED_BY(mu_) = kNone;
  int lru_size_ GUARDED_BY(mu_) = 0;
  std::unordered_map<uint64_t, int> hash_index_ GUARDED_BY(mu_);
  std::unordered_map<SeqId, SeqState> seqs_ GUARDED_BY(mu_);
  uint64_t prefix_hit_blocks_ GUARDED_BY(mu_) = 0;
  uint64_t copies_ GUARDED_BY(mu_) = 0;
};

}  // namespace parklock::engine
