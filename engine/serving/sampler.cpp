#include "engine/serving/sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace parklock::engine {
namespace {

// Uniform in [0, 1) from the top 53 bits of one generator output.
double uniform01(SamplerRng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

}  // namespace

void Sampler::apply_repetition_penalty(std::span<float> logits, float penalty,
                                       std::span<const int32_t> context) {
  seen_.assign(logits.size(), 0);
  for (int32_t t : context) {
    if (t < 0 || static_cast<size_t>(t) >= logits.size() || seen_[t]) continue;
    seen_[t] = 1;  // once per distinct token, however often it occurred
    float& l = logits[t];
    l = l > 0 ? l / penalty : l * penalty;
  }
}

int32_t Sampler::sample(std::span<float> logits, const SamplingParams& params,
                        std::span<const int32_t> context, SamplerRng& rng) {
  if (logits.empty()) throw std::invalid_argument("Sampler: empty logits");
  if (params.repetition_penalty != 1.0f && params.repetition_penalty > 0.0f)
    apply_repetition_penalty(logits, params.repetition_penalty, context);
  if (params.temperature <= 0.0f) return argmax(logits);

  const int vocab = static_cast<int>(logits.size());
  candidates_.clear();
  for (int i = 0; i < vocab; ++i) candidates_.emplace_back(logits[i], i);
  // Descending logit, ascending id on ties: a total order, so the candidate
  // list (and thus the draw) does not depend on the sort algorithm.
  auto better = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  const int k = params.top_k > 0 ? std::min(params.top_k, vocab) : vocab;
  std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(), better);
  candidates_.resize(k);

  // Softmax over the kept candidates, in place (first = probability).
  const float max_logit = candidates_.front().first;
  const float inv_temp = 1.0f / params.temperature;
  double total = 0.0;
  for (auto& c : candidates_) {
    c.first = std::exp((c.first - max_logit) * inv_temp);
    total += c.first;
  }

  // Top-p: the smallest prefix whose mass reaches top_p (at least one token).
  size_t keep = candidates_.size();
  if (params.top_p < 1.0f) {
    const double target = std::max(0.0, static_cast<double>(params.top_p)) * total;
    double mass = 0.0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      mass += candidates_[i].first;
      if (mass >= target) {
        keep = i + 1;
        break;
      }
    }
    total = 0.0;
    for (size_t i = 0; i < keep; ++i) total += candidates_[i].first;
  }

  double r = uniform01(rng) * total;
  for (size_t i = 0; i < keep; ++i) {
    r -= candidates_[i].first;
    if (r < 0.0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;  // rounding left r just above zero
}

}  // namespace parklock::engine
