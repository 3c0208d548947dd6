// Forward-pass throughput of the CPU model at a given shape:
//   parklock_model_bench [model] [batch] [context] [decode_steps] [gemm_threads] [threads]
// e.g. parklock_model_bench tinyllama-1.1b 32 128 4 2
// `threads` sizes the model's compute pool (default 1).
// Prefills `batch` sequences of `context` tokens (one step per sequence),
// then runs `decode_steps` decode steps, alternately batched and one
// sequence per pass, and prints tokens/s and the batched/unbatched ratio.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
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

struct BadArgument : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// argv[i] as a positive integer, or `fallback` when absent.
int positive_arg(int argc, char** argv, int i, const char* what, int fallback) {
  if (argc <= i) return fallback;
  char* end = nullptr;
  const long v = std::strtol(argv[i], &end, 10);
  if (*argv[i] == '\0' || *end != '\0' || v < 1 || v > (1 << 24))
    throw BadArgument(std::string(what) + " must be a positive integer, got '" + argv[i] + "'");
  return static_cast<int>(v);
}

int run(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "tiny";
  const int batch = positive_arg(argc, argv, 2, "batch", 1);
  const int context = positive_arg(argc, argv, 3, "context", 64);
  const int decode_steps = positive_arg(argc, argv, 4, "decode_steps", 8);
  if (argc > 5) parklock::kernels::cpu::set_gemm_threads(positive_arg(argc, argv, 5, "gemm_threads", 1));
  const int threads = positive_arg(argc, argv, 6, "threads", 1);

  ModelConfig c;
  try {
    c = ModelConfig::by_name(name);
  } catch (const std::invalid_argument& e) {
    throw BadArgument(e.what());
  }
  if (context + decode_steps > c.max_positions)
    throw BadArgument("context " + std::to_string(context) + " + decode_steps " +
                      std::to_string(decode_steps) + " exceeds " + name + "'s " +
                      std::to_string(c.max_positions) + " positions");
  auto t0 = std::chrono::steady_clock::now();
  auto model = Model::random(c, 1);
  model->set_compute_threads(threads);
  std::printf("%s: weights generated in %.2f s, gemm threads %d, compute threads %d\n", name.c_str(),
              seconds_since(t0), parklock::kernels::cpu::gemm_threads(), threads);

  const int block_size = 16;
  const int blocks_per_seq = (context + decode_steps + block_size - 1) / block_size;
  model->allocate_kv({.num_blocks = batch * blocks_per_seq, .block_size = block_size});
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

  // Decode steps alternate between the whole batch in one forward pass and
  // the same sequences one pass each, so both see the same machine load:
  // batching must never be the slower of the two.
  double batched = 0, one_by_one = 0;
  int pos = context;
  for (int d = 0; d < decode_steps; ++d, ++pos) {
    steps.clear();
    t0 = std::chrono::steady_clock::now();
    if (d % 2 == 0) {
      for (int s = 0; s < batch; ++s) steps.push_back(step_for(s, pos, 1));
      model->forward(steps, logits.data());
      batched += seconds_since(t0);
    } else {
      for (int s = 0; s < batch; ++s) {
        const SeqStep one = step_for(s, pos, 1);
        model->forward(std::span(&one, 1), logits.data());
      }
      one_by_one += seconds_since(t0);
    }
  }
  const int batched_steps = (decode_steps + 1) / 2, single_steps = decode_steps / 2;
  std::printf("decode: batch %d, %d steps, %.2f ms/step: %.1f tokens/s\n", batch, batched_steps,
              1e3 * batched / batched_steps, batch * batched_steps / batched);
  if (single_steps > 0)
    std::printf("decode one at a time: %d x %d passes, %.2f ms per %d tokens; batched/one-at-a-time "
                "time ratio %.2f\n",
                single_steps, batch, 1e3 * one_by_one / single_steps, batch,
                (batched / batched_steps) / (one_by_one / single_steps));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const BadArgument& e) {
    std::fprintf(stderr,
                 "parklock_model_bench: %s\nusage: parklock_model_bench [model] [batch] [context] "
                 "[decode_steps] [gemm_threads] [threads]\n",
                 e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parklock_model_bench: error: %s\n", e.what());
    return 1;
  }
}
