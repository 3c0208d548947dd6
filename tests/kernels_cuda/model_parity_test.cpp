// The whole CUDA model against the CPU model (engine/model) on the same
// weights: a bf16 checkpoint, so both sides hold identical weight values
// and the differences come from the GPU keeping activations in bf16 between
// kernels (about six roundings of 2^-9 per layer on the GEMM inputs and
// outputs; the residual stream stays fp32). Measured against logits of
// unit scale, that compounds to well under 2e-2 relative L2 for these
// depths, while a wrong index, mask or layout gives errors of order 1.
// Also: decode graphs against eager launches, batched against unbatched.
#include <unistd.h>

#include <filesystem>

#include "cuda_test_util.h"
#include "engine/model/model.h"
#include "engine/model/model_weights.h"
#include "engine/model/safetensors.h"
#include "engine/model/synthetic_weights.h"
#include "kernels/cuda/from_engine.h"

namespace parklock::kernels::cuda::testing {
namespace {

constexpr double kModelTolerance = 2e-2;

// A bf16 checkpoint of a config, loaded once as the CPU model and once as
// host fp32 weights for the GPU.
struct Checkpoint {
  std::string path;
  engine::ModelConfig config;
  std::unique_ptr<engine::Model> cpu;
  engine::ModelWeights weights;

  Checkpoint(const engine::ModelConfig& c, uint64_t seed, const std::string& name) : config(c) {
    path = (std::filesystem::temp_directory_path() /
            ("parklock_cuda_" + name + "_" + std::to_string(::getpid()) + ".safetensors"))
               .string();
    engine::write_synthetic_model(path, c, seed, engine::Dtype::kBF16);
    cpu = engine::Model::load(path);
    const engine::SafetensorsFile file(path);
    weights = engine::ModelWeights::load(file, c);
  }
  ~Checkpoint() { std::filesystem::remove(path); }

  std::unique_ptr<CudaLlama> gpu(const CudaLlamaOptions& o) const {
    return std::make_unique<CudaLlama>(llama_shape(config), llama_host_weights(weights), o);
  }
};

engine::ModelConfig small_gqa() { return engine::ModelConfig::small(); }

std::vector<int32_t> random_tokens(int n, int vocab, std::mt19937& rng) {
  std::vector<int32_t> t(n);
  for (auto& x : t) x = std::uniform_int_distribution<int>(0, vocab - 1)(rng);
  return t;
}

double rel_l2_rows(const float* a, const float* b, size_t n) {
  return rel_l2(std::vector<float>(a, a + n), std::vector<float>(b, b + n));
}

// Prefill in uneven chunks through forward(), then decode steps through
// decode() (graphs on), comparing every step's logits with the CPU model
// fed the same tokens.
TEST(CudaLlamaParity, PrefillThenDecodeMatchesCpuModel) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  for (const auto& [name, config] : {std::pair{"tiny", engine::ModelConfig::tiny()}, std::pair{"small", small_gqa()}}) {
    const Checkpoint ck(config, 17, name);
    const int s = 5, blocks = 64, v = config.vocab_size;
    ck.cpu->allocate_kv({.num_blocks = blocks, .block_size = s});
    auto gpu = ck.gpu({.num_kv_blocks = blocks, .block_size = s, .max_batch = 8, .max_forward_tokens = 256});
    std::mt19937 rng(3);
    const std::vector<int32_t> tokens = random_tokens(60, v, rng);
    const std::vector<int32_t> table = scrambled_blocks(2, 14, rng);
    std::vector<float> cpu_logits(v), gpu_logits(v);
    int done = 0;
    for (const int chunk : {23, 1, 9}) {  // prefill chunks, the last over a cached prefix
      const engine::SeqStep step{.tokens = tokens.data() + done, .num_tokens = chunk, .start_pos = done,
                                 .block_table = table.data(), .num_blocks = 14, .want_logits = true};
      ck.cpu->forward({&step, 1}, cpu_logits.data());
      const SeqInput in = seq_input(step);
      gpu->forward({&in, 1}, gpu_logits.data());
      done += chunk;
      const double err = rel_l2(gpu_logits, cpu_logits);
      EXPECT_LT(err, kModelTolerance) << name << " prefill to " << done;
      std::printf("model %s prefill to %d: rel L2 %.2e\n", name, done, err);
    }
    for (; done < 60; ++done) {
      const engine::SeqStep step{.tokens = tokens.data() + done, .num_tokens = 1, .start_pos = done,
                                 .block_table = table.data(), .num_blocks = 14, .want_logits = true};
      ck.cpu->forward({&step, 1}, cpu_logits.data());
      const DecodeInput in{.token = tokens[done], .position = done, .block_table = table.data(), .num_blocks = 14};
      int32_t next = -1;
      gpu->decode({&in, 1}, &next, gpu_logits.data());
      const double err = rel_l2(gpu_logits, cpu_logits);
      EXPECT_LT(err, kModelTolerance) << name << " decode at " << done;
      EXPECT_GE(next, 0);
      if (done % 9 == 0) std::printf("model %s decode at %d: rel L2 %.2e\n", name, done, err);
    }
  }
}

// The same decode steps replayed from graphs and launched eagerly give
// bit-identical logits and tokens: one instance (so the same tuned GEMM
// algorithms) runs two copies of the same sequences in disjoint blocks,
// alternating graph replay and eager launches step by step.
TEST(CudaLlamaParity, GraphReplayEqualsEagerLaunches) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  const Checkpoint ck(small_gqa(), 19, "graph");
  const int s = 16, blocks = 128, v = ck.config.vocab_size, n = 3;
  auto gpu = ck.gpu({.num_kv_blocks = blocks, .block_size = s, .max_batch = 4});
  std::mt19937 rng(5);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::vector<int32_t>> tables[2];  // copy 0 replays graphs, copy 1 launches eagerly
  for (int i = 0; i < n; ++i) {
    prompts.push_back(random_tokens(10 + 7 * i, v, rng));
    for (int c = 0; c < 2; ++c) tables[c].push_back(scrambled_blocks((c * n + i) * 20, 20, rng));
  }
  std::vector<float> logits[2] = {std::vector<float>(v * n), std::vector<float>(v * n)};
  for (int c = 0; c < 2; ++c) {
    std::vector<SeqInput> pre;
    for (int i = 0; i < n; ++i)
      pre.push_back({.tokens = prompts[i].data(), .num_tokens = static_cast<int>(prompts[i].size()),
                     .block_table = tables[c][i].data(), .num_blocks = 20, .want_logits = true});
    gpu->forward(pre, logits[c].data());
  }
  EXPECT_EQ(logits[0], logits[1]);
  std::vector<int32_t> cur(n), pos(n);
  for (int i = 0; i < n; ++i) {
    cur[i] = prompts[i].back();
    pos[i] = static_cast<int>(prompts[i].size());
  }
  for (int step = 0; step < 12; ++step) {
    std::vector<int32_t> next[2] = {std::vector<int32_t>(n), std::vector<int32_t>(n)};
    for (int c = 0; c < 2; ++c) {
      std::vector<DecodeInput> batch;
      for (int i = 0; i < n; ++i)
        batch.push_back({.token = cur[i], .position = pos[i], .block_table = tables[c][i].data(), .num_blocks = 20,
                         .temperature = i == 1 ? 0.8f : 0.f, .top_k = 40, .top_p = 0.9f,
                         .random_word = 0x9E3779B97F4A7C15ull * (step + 1) + i});
      gpu->set_use_graphs(c == 0);
      gpu->decode(batch, next[c].data(), logits[c].data());
    }
    EXPECT_EQ(next[0], next[1]) << "step " << step;
    EXPECT_EQ(logits[0], logits[1]) << "step " << step;
    for (int i = 0; i < n; ++i) {
      cur[i] = next[0][i];
      ++pos[i];
    }
  }
}

// Five sequences at different lengths decoded together give the logits each
// gives decoded alone (same weights, separate KV pools); only the GEMMs'
// blocking changes with M, hence a bf16-rounding-level tolerance.
TEST(CudaLlamaParity, BatchedEqualsUnbatched) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  const Checkpoint ck(small_gqa(), 23, "batch");
  const int s = 8, blocks = 128, v = ck.config.vocab_size, n = 5;
  auto batched = ck.gpu({.num_kv_blocks = blocks, .block_size = s, .max_batch = 8});
  auto single = ck.gpu({.num_kv_blocks = blocks, .block_size = s, .max_batch = 8});
  std::mt19937 rng(7);
  const int lengths[n] = {1, 9, 17, 4, 130};
  std::vector<std::vector<int32_t>> tables, tokens;
  for (int i = 0; i < n; ++i) {
    tables.push_back(scrambled_blocks(i * 24, 24, rng));
    tokens.push_back(random_tokens(lengths[i] + 4, v, rng));
  }
  std::vector<SeqInput> pre;
  for (int i = 0; i < n; ++i)
    pre.push_back({.tokens = tokens[i].data(), .num_tokens = lengths[i], .block_table = tables[i].data(),
                   .num_blocks = 24});
  batched->forward(pre, nullptr);
  for (const SeqInput& p : pre) single->forward({&p, 1}, nullptr);
  for (int step = 0; step < 4; ++step) {
    std::vector<DecodeInput> batch;
    for (int i = 0; i < n; ++i)
      batch.push_back({.token = tokens[i][lengths[i] + step], .position = lengths[i] + step,
                       .block_table = tables[i].data(), .num_blocks = 24});
    std::vector<float> lb(static_cast<size_t>(n) * v), ls(v);
    std::vector<int32_t> tb(n);
    batched->decode(batch, tb.data(), lb.data());
    for (int i = 0; i < n; ++i) {
      int32_t t1 = -1;
      single->decode({&batch[i], 1}, &t1, ls.data());
      EXPECT_LT(rel_l2_rows(lb.data() + static_cast<size_t>(i) * v, ls.data(), v), 1e-2) << "seq " << i << " step " << step;
    }
  }
}

TEST(CudaLlamaParity, RejectsMalformedInputsBeforeRunning) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  const Checkpoint ck(engine::ModelConfig::tiny(), 29, "reject");
  auto gpu = ck.gpu({.num_kv_blocks = 8, .block_size = 4, .max_batch = 2, .max_forward_tokens = 16});
  const std::vector<int32_t> table = {0, 1};
  const std::vector<int32_t> too_many(17, 1), bad_token = {1, 9999};
  const SeqInput long_step{.tokens = too_many.data(), .num_tokens = 17, .block_table = table.data(), .num_blocks = 2};
  EXPECT_THROW(gpu->forward({&long_step, 1}, nullptr), std::invalid_argument);
  const SeqInput bad{.tokens = bad_token.data(), .num_tokens = 2, .block_table = table.data(), .num_blocks = 2};
  EXPECT_THROW(gpu->forward({&bad, 1}, nullptr), std::invalid_argument);
  const DecodeInput short_table{.token = 1, .position = 9, .block_table = table.data(), .num_blocks = 2};
  int32_t out = 0;
  EXPECT_THROW(gpu->decode({&short_table, 1}, &out), std::invalid_argument);
  const std::vector<DecodeInput> three(3, DecodeInput{.token = 1, .block_table = table.data(), .num_blocks = 1});
  std::vector<int32_t> outs(3);
  EXPECT_THROW(gpu->decode(three, outs.data()), std::invalid_argument);
}

}  // namespace
}  // namespace parklock::kernels::cuda::testing
