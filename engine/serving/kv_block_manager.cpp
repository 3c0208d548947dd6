#include "engine/serving/kv_block_manager.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "parklock.h"

namespace parklock::engine {
namespace {

// splitmix64 finalizer: a cheap full-avalanche mix, so chained block hashes
// of similar token runs do not collide in practice. Lookups still compare
// the stored tokens, so a collision costs a miss, never a wrong reuse.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

KvBlockManager::KvBlockManager(const KvBlockManagerConfig& config)
    : num_blocks_(config.num_blocks), block_size_(config.block_size) {
  if (num_blocks_ <= 0 || block_size_ <= 0)
    throw std::invalid_argument("KvBlockManager: num_blocks and block_size must be > 0");
  PARKLOCK_SET_NAME(&mu_.native(), "kv_blocks");
  MutexLock lock(mu_);
  blocks_.resize(num_blocks_);
  plain_free_.reserve(num_blocks_);
  // Pop from the back, so hand out low indices first (easier to read in dumps).
  for (int b = num_blocks_ - 1; b >= 0; --b) plain_free_.push_back(b);
}

uint64_t KvBlockManager::block_hash(uint64_t parent, std::span<const int32_t> tokens) const {
  uint64_t h = mix(parent ^ 0x5bd1e995ULL);
  for (int32_t t : tokens) h = mix(h ^ static_cast<uint32_t>(t));
  return h;
}

int KvBlockManager::add_sequence(SeqId id, std::span<const int32_t> tokens,
                                 uint64_t hash_seed) {
  MutexLock lock(mu_);
  auto [it, inserted] = seqs_.try_emplace(id);
  if (!inserted) throw std::logic_error("KvBlockManager: sequence added twice");
  SeqState& seq = it->second;
  seq.hash_seed = hash_seed;

  uint64_t parent = hash_seed;
  const int full_blocks = static_cast<int>(tokens.size()) / block_size_;
  for (int i = 0; i < full_blocks; ++i) {
    auto block_tokens = tokens.subspan(static_cast<size_t>(i) * block_size_, block_size_);
    const uint64_t h = block_hash(parent, block_tokens);
    auto found = hash_index_.find(h);
    if (found == hash_index_.end()) break;
    Block& block = blocks_[found->second];
    if (block.parent_hash != parent ||
        !std::equal(block.tokens.begin(), block.tokens.end(), block_tokens.begin()))
      break;
    if (block.ref_count == 0) lru_remove_locked(found->second);
    ++block.ref_count;
    seq.table.push_back(found->second);
    seq.chain.push_back(h);
    parent = h;
  }
  prefix_hit_blocks_ += seq.table.size();
  return static_cast<int>(seq.table.size()) * block_size_;
}

int KvBlockManager::blocks_needed_locked(const SeqState& seq, int first_write_pos,
                                         int end_pos) const {
  if (end_pos <= 0) return 0;
  const int last_block = (end_pos - 1) / block_size_;
  const int have = static_cast<int>(seq.table.size());
  int needed = std::max(0, last_block + 1 - have);
  // Shared blocks inside the written range need a private copy.
  for (int i = std::max(0, first_write_pos) / block_size_; i < std::min(have, last_block + 1);
       ++i)
    if (blocks_[seq.table[i]].ref_count > 1) ++needed;
  return needed;
}

int KvBlockManager::blocks_needed(SeqId id, int first_write_pos, int end_pos) const {
  MutexLock lock(mu_);
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw std::logic_error("KvBlockManager: unknown sequence");
  return blocks_needed_locked(it->second, first_write_pos, end_pos);
}

bool KvBlockManager::reserve(SeqId id, int first_write_pos, int end_pos,
                             std::vector<BlockCopy>* copies) {
  MutexLock lock(mu_);
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw std::logic_error("KvBlockManager: unknown sequence");
  SeqState& seq = it->second;
  if (blocks_needed_locked(seq, first_write_pos, end_pos) > free_count_locked()) return false;
  if (end_pos <= 0) return true;

  const int last_block = (end_pos - 1) / block_size_;
  const int first_block = std::max(0, first_write_pos) / block_size_;
  const int have = static_cast<int>(seq.table.size());
  for (int i = first_block; i < std::min(have, last_block + 1); ++i) {
    const int old_block = seq.table[i];
    if (blocks_[old_block].ref_count > 1) {
      const int copy = allocate_locked();
      copies->push_back({old_block, copy});
      ++copies_;
      --blocks_[old_block].ref_count;  // still referenced by the others
      seq.table[i] = copy;
    } else if (blocks_[old_block].hashed) {
      // Private but registered: its contents are about to change, so other
      // sequences must not find it under the old hash any more.
      unregister_locked(old_block);
    }
  }
  // Chain hashes of rewritten blocks are recomputed on the next commit.
  if (static_cast<int>(seq.chain.size()) > first_block) seq.chain.resize(first_block);
  while (static_cast<int>(seq.table.size()) <= last_block) seq.table.push_back(allocate_locked());
  return true;
}

void KvBlockManager::commit(SeqId id, std::span<const int32_t> tokens, int num_computed) {
  MutexLock lock(mu_);
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw std::logic_error("KvBlockManager: unknown sequence");
  SeqState& seq = it->second;
  const int full_blocks =
      std::min(num_computed / block_size_, static_cast<int>(seq.table.size()));
  for (int i = static_cast<int>(seq.chain.size()); i < full_blocks; ++i) {
    const uint64_t parent = i == 0 ? seq.hash_seed : seq.chain[i - 1];
    auto block_tokens = tokens.subspan(static_cast<size_t>(i) * block_size_, block_size_);
    const uint64_t h = block_hash(parent, block_tokens);
    seq.chain.push_back(h);
    Block& block = blocks_[seq.table[i]];
    // First writer wins: a duplicate of an already registered block stays
    // private and is simply freed later.
    if (block.hashed || hash_index_.count(h) != 0) continue;
    block.hashed = true;
    block.hash = h;
    block.parent_hash = parent;
    block.tokens.assign(block_tokens.begin(), block_tokens.end());
    hash_index_.emplace(h, seq.table[i]);
  }
}

void KvBlockManager::fork(SeqId parent, SeqId child) {
  MutexLock lock(mu_);
  auto it = seqs_.find(parent);
  if (it == seqs_.end()) throw std::logic_error("KvBlockManager: unknown parent sequence");
  SeqState copy = it->second;
  for (int b : copy.table) ++blocks_[b].ref_count;
  if (!seqs_.emplace(child, std::move(copy)).second)
    throw std::logic_error("KvBlockManager: fork child already exists");
}

void KvBlockManager::free_sequence(SeqId id) {
  MutexLock lock(mu_);
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  // Release the tail first: with LRU eviction, the deepest blocks of a
  // prefix are then evicted before the shallow ones that more prompts share.
  for (auto b = it->second.table.rbegin(); b != it->second.table.rend(); ++b)
    release_locked(*b);
  seqs_.erase(it);
}

std::vector<int32_t> KvBlockManager::block_table(SeqId id) const {
  std::vector<int32_t> out;
  copy_block_table(id, &out);
  return out;
}

void KvBlockManager::copy_block_table(SeqId id, std::vector<int32_t>* out) const {
  MutexLock lock(mu_);
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw std::logic_error("KvBlockManager: unknown sequence");
  out->assign(it->second.table.begin(), it->second.table.end());
}

int KvBlockManager::num_free_blocks() const {
  MutexLock lock(mu_);
  return free_count_locked();
}

KvBlockStats KvBlockManager::stats() const {
  MutexLock lock(mu_);
  KvBlockStats s;
  s.total = num_blocks_;
  s.free = free_count_locked();
  s.cached_free = lru_size_;
  s.sequences = static_cast<int>(seqs_.size());
  s.prefix_hit_blocks = prefix_hit_blocks_;
  s.copies = copies_;
  return s;
}

int KvBlockManager::free_count_locked() const {
  return static_cast<int>(plain_free_.size()) + lru_size_;
}

int KvBlockManager::allocate_locked() {
  int b;
  if (!plain_free_.empty()) {
    b = plain_free_.back();
    plain_free_.pop_back();
  } else if (lru_head_ != kNone) {
    b = lru_head_;  // evict the least recently released cached block
    lru_remove_locked(b);
    unregister_locked(b);
  } else {
    throw std::logic_error("KvBlockManager: allocate with no free block");
  }
  blocks_[b].ref_count = 1;
  return b;
}

void KvBlockManager::release_locked(int b) {
  Block& block = blocks_[b];
  if (block.ref_count <= 0) throw std::logic_error("KvBlockManager: block released twice");
  if (--block.ref_count > 0) return;
  if (block.hashed)
    lru_push_back_locked(b);
  else
    plain_free_.push_back(b);
}

void KvBlockManager::unregister_locked(int b) {
  Block& block = blocks_[b];
  if (!block.hashed) return;
  hash_index_.erase(block.hash);
  block.hashed = false;
  block.tokens.clear();
}

void KvBlockManager::lru_push_back_locked(int b) {
  Block& block = blocks_[b];
  block.lru_prev = lru_tail_;
  block.lru_next = kNone;
  if (lru_tail_ != kNone)
    blocks_[lru_tail_].lru_next = b;
  else
    lru_head_ = b;
  lru_tail_ = b;
  block.in_lru = true;
  ++lru_size_;
}

void KvBlockManager::lru_remove_locked(int b) {
  Block& block = blocks_[b];
  if (block.lru_prev != kNone)
    blocks_[block.lru_prev].lru_next = block.lru_next;
  else
    lru_head_ = block.lru_next;
  if (block.lru_next != kNone)
    blocks_[block.lru_next].lru_prev = block.lru_prev;
  else
    lru_tail_ = block.lru_prev;
  block.lru_prev = block.lru_next = kNone;
  block.in_lru = false;
  --lru_size_;
}

std::string KvBlockManager::check_invariants() const {
  MutexLock lock(mu_);
  std::ostringstream err;
  std::vector<int> refs(num_blocks_, 0);
  for (const auto& [id, seq] : seqs_) {
    for (int b : seq.table) {
      if (b < 0 || b >= num_blocks_) {
        err << "sequence " << id << " has out-of-range block " << b;
        return err.str();
      }
      ++refs[b];
    }
    if (seq.chain.size() > seq.table.size()) {
      err << "sequence " << id << " has more chain hashes than blocks";
      return err.str();
    }
  }
  std::vector<int> seen(num_blocks_, 0);
  for (int b : plain_free_) {
    if (b < 0 || b >= num_blocks_ || seen[b]++) {
      err << "plain free list holds bad or duplicate block " << b;
      return err.str();
    }
  }
  int lru_count = 0;
  for (int b = lru_head_, prev = kNone; b != kNone; prev = b, b = blocks_[b].lru_next) {
    if (seen[b]++ || blocks_[b].lru_prev != prev || !blocks_[b].in_lru) {
      err << "cached free list is corrupt at block " << b;
      return err.str();
    }
    if (++lru_count > num_blocks_) return "cached free list has a cycle";
  }
  if (lru_count != lru_size_) return "cached free list size mismatch";
  int used = 0;
  for (int b = 0; b < num_blocks_; ++b) {
    const Block& block = blocks_[b];
    if (block.ref_count != refs[b]) {
      err << "block " << b << " ref_count " << block.ref_count << " but " << refs[b]
          << " table entries";
      return err.str();
    }
    if (block.ref_count > 0) {
      ++used;
      if (seen[b]) {
        err << "referenced block " << b << " is also on a free list";
        return err.str();
      }
    } else if (!seen[b]) {
      err << "unreferenced block " << b << " is on no free list";
      return err.str();
    }
    if (block.in_lru && !block.hashed) {
      err << "cached free block " << b << " is not registered";
      return err.str();
    }
    if (block.hashed) {
      auto it = hash_index_.find(block.hash);
      if (it == hash_index_.end() || it->second != b) {
        err << "block " << b << " is registered but not indexed";
        return err.str();
      }
    }
  }
  for (const auto& [h, b] : hash_index_)
    if (!blocks_[b].hashed || blocks_[b].hash != h) return "hash index points at a stale block";
  if (used + free_count_locked() != num_blocks_) {
    err << "used " << used << " + free " << free_count_locked() << " != total " << num_blocks_;
    return err.str();
  }
  return "";
}

}  // namespace parklock::engine
