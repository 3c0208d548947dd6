// The LM head's token choice on the device, one block per row of logits:
// greedy argmax (lowest id on ties), or temperature / top-k / top-p sampling
// with the same semantics and candidate order as engine/serving's Sampler
// (descending logit, ascending id on ties; softmax over the top-k; the
// smallest prefix whose mass reaches top_p; one inverse-CDF draw).
//
// Randomness is per request: each row brings one raw 64-bit draw of that
// request's own seeded generator (the host's SamplerRng, advanced once per
// sampled token), so a seed gives the same tokens whatever else is in the
// batch, and the same token the CPU sampler picks for that draw up to fp32
// rounding at a cumulative-mass boundary.
//
// Method: every logit gets a 64-bit key (order-preserving bits of the
// logit, then the complemented id), a strict total order equal to the
// sampler's. Top-k, top-p and the draw are each "the first key, in
// descending order, whose cumulative weight reaches a target" (weight 1 for
// top-k, the softmax numerator for the others), found by an 8-pass radix
// select with 256-bin histograms in shared memory: no sort of the vocabulary.
// The repetition penalty is not applied here (it needs the context's tokens).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace parklock::kernels::cuda {

struct SampleParams {
  int num_rows = 0;                  // N
  int vocab = 0;                     // V
  const float* logits = nullptr;     // [N, V] device
  // Per row, device; temperature == nullptr means every row is greedy.
  const float* temperature = nullptr;     // [N]: <= 0 greedy
  const int32_t* top_k = nullptr;         // [N]: 0 = all
  const float* top_p = nullptr;           // [N]: 1 = all
  const uint64_t* random_words = nullptr; // [N]: u = (word >> 11) * 2^-53
  int32_t* tokens = nullptr;              // [N] device out
};

void sample_tokens(const SampleParams& p, cudaStream_t stream);

}  // namespace parklock::kernels::cuda
