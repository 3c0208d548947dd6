// Forward-pass throughput of the CPU model at a given shape:
//   parklock_model_bench [model] [batch] [context] [decode_steps] [gemm_threads]
// e.g. parklock_model_bench tinyllama-1.1b 32 128 4 2
// Prefills `batch` sequences of `context` tokens (one step per sequence),
// then times `decode_steps` batched decode steps, and prints tokens/s for both.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "kernels/cpu/gemm.h"

namespace {

using parklock::engine::Model;
using parklock::engine::ModelConfig;
using parklock::engine::SeqStep;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int arg_or(int argc, char** argv, int i, int fallback) {
  return argc > i ? std::atoi(argv[i]) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "tiny";
  const int batch = arg_or(argc, argv, 2, 1);
  const int context = arg_or(argc, argv, 3, 64);
  const int decode_steps = arg_or(argc, argv, 4, 8);
  if (argc > 5) parklock::kernels::cpu::set_gemm_threads(std::atoi(argv[5]));

  const ModelConfig c = ModelConfig::by_name(name);
  auto t0 = std::chrono::steady_clock::now();
  auto model = Model::random(c, 1);
  std::printf("%s: weights generated in %.2f s, gemm threads %d\n", name.c_str(), seconds_since(t0),
              parklock::kernels::cpu::gemm_threads());

  const int block_size = 16;
  const int blocks_per_seq = (context + decode_steps + block_size - 1) / block_size;
  model->allocate_kv(batch * blocks_per_seq, block_size);
  std::vector<std::vector<int32_t>> tables(batch), tokens(batch);
  for (int s = 0; s < batch; ++s) {
    for (int b = 0; b < blocks_per_seq; ++b) tables[s].push_back(s * blocks_per_seq + b);
    for (int i = 0; i < context + decode_steps; ++i) tokens[s].push_back((s * 131 + i * 7) % 256 + 3);
  }
  std::vector<float> logits(static_cast<size_t>(batch) * c.vocab_size);
  auto step_for = [&](int s, int pos, int n) {
    return SeqStep{.tokens = tokens[s].data() + pos, .num_tokens = n, .start_pos = pos,
                   .block_table = tables[s].data(), .num_blocks = blocks_per_seq,
                   .want_logits = true};
  };

  std::vector<SeqStep> steps;
  for (int s = 0; s < batch; ++s) steps.push_back(step_for(s, 0, context));
  t0 = std::chrono::steady_clock::now();
  model->forward(steps, logits.data());
  const double prefill = seconds_since(t0);
  std::printf("prefill: %d x %d tokens in %.3f s: %.0f tokens/s\n", batch, context, prefill,
              batch * context / prefill);

  t0 = std::chrono::steady_clock::now();
  for (int d = 0; d < decode_steps; ++d) {
    steps.clear();
    for (int s = 0; s < batch; ++s) steps.push_back(step_for(s, context + d, 1));
    model->forward(steps, logits.data());
  }
  const double decode = seconds_since(t0);
  std::printf("decode: batch %d, %d steps, %.2f ms/step: %.1f tokens/s\n", batch, decode_steps,
              1e3 * decode / decode_steps, batch * decode_steps / decode);
  return 0;
}
