// The engine's per-request state while a request waits or runs.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/serving/adapter_registry.h"
#include "engine/serving/kv_block_manager.h"
#include "engine/serving/request.h"
#include "engine/serving/request_stream.h"
#include "engine/serving/sampler.h"

namespace parklock::engine {

struct Sequence {
  Sequence(SeqId id, Request request, std::optional<AdapterRef> adapter, RequestHandle stream);

  SeqId id;
  RequestHandle stream;
  SamplingParams sampling;
  std::function<void(const TokenEvent&)> on_token;
  std::optional<AdapterRef> adapter;  // held for the sequence's whole life

  std::vector<int32_t> tokens;  // prompt then output; the last one may not
                                // have its KV yet (it is the next input)
  int prompt_len = 0;
  // tokens[0, num_computed) have their KV in the cache. Reset to 0 when the
  // sequence is preempted (its blocks are freed; it is recomputed later).
  int num_computed = 0;
  bool has_blocks = false;  // registered with the KvBlockManager
  int cached_prompt_tokens = 0;
  uint64_t scheduled_step = 0;  // Scheduler's step count when last scheduled
  int preemptions = 0;

  SamplerRng rng;
  Clock::time_point first_scheduled_time{};  // first forward pass it took part in
  Clock::time_point first_token_time{};

  int num_output() const { return static_cast<int>(tokens.size()) - prompt_len; }
  int remaining_to_compute() const { return static_cast<int>(tokens.size()) - num_computed; }
  // Seed for the prefix-cache hash: KV depends on the adapter.
  uint64_t kv_hash_seed() const { return adapter ? adapter->id : 0; }
};

}  // namespace parklock::engine
