// The CUDA backend against the CPU backend through the seam the engine
// drives (engine/model/model_backend.h), and through the Engine itself.
// Both backends load the same bf16 checkpoint, so their weights hold
// identical values; the 2e-2 relative L2 bound on logits is argued in
// model_parity_test.cpp (bf16 activations between kernels).
//
// Greedy tokens cannot be required to match token for token: where the top
// two logits lie closer than the bf16 error, either choice is right. So the
// CUDA engine's output is checked by teacher forcing: fed its own tokens,
// the CPU backend must rank each chosen token within the error bound of its
// best one.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>

#include "cuda_test_util.h"
#include "engine/model/backend_select.h"
#include "engine/model/lora_adapter.h"
#include "engine/model/synthetic_weights.h"
#include "engine/serving/engine.h"

namespace parklock::kernels::cuda::testing {
namespace {

using engine::Device;
using engine::LoadedModel;
using engine::ModelBackend;
using engine::SeqStep;

constexpr double kLogitTolerance = 2e-2;

// One bf16 checkpoint loaded as both backends.
struct BackendPair {
  std::string path;
  engine::ModelConfig config;
  std::unique_ptr<ModelBackend> cpu, gpu;

  BackendPair(const engine::ModelConfig& c, uint64_t seed, const std::string& name) : config(c) {
    path = (std::filesystem::temp_directory_path() /
            ("parklock_backend_" + name + "_" + std::to_string(::getpid()) + ".safetensors"))
               .string();
    engine::write_synthetic_model(path, c, seed, engine::Dtype::kBF16);
    cpu = engine::make_backend(Device::kCpu, LoadedModel::from_checkpoint(path));
    gpu = engine::make_backend(Device::kCuda, LoadedModel::from_checkpoint(path));
  }
  ~BackendPair() { std::filesystem::remove(path); }

  void allocate(const engine::KvPoolConfig& pool) {
    cpu->allocate_kv(pool);
    gpu->allocate_kv(pool);
  }
};

std::vector<int32_t> random_tokens(int n, int vocab, std::mt19937& rng) {
  std::vector<int32_t> t(n);
  for (auto& x : t) x = std::uniform_int_distribution<int>(3, vocab - 1)(rng);
  return t;
}

// Runs `steps` on both backends; every wanted row's logits must agree.
void expect_same_logits(BackendPair& b, const std::vector<SeqStep>& steps, const std::string& what) {
  const int v = b.config.vocab_size;
  const int rows = static_cast<int>(std::count_if(steps.begin(), steps.end(), [](const SeqStep& s) { return s.want_logits; }));
  std::vector<float> cpu(static_cast<size_t>(rows) * v), gpu(cpu.size(), std::nanf(""));
  b.cpu->forward(steps, cpu.data());
  b.gpu->forward(steps, gpu.data());
  double worst = 0;
  for (int r = 0; r < rows; ++r) {
    const std::vector<float> c(cpu.begin() + r * v, cpu.begin() + (r + 1) * v);
    const std::vector<float> g(gpu.begin() + r * v, gpu.begin() + (r + 1) * v);
    const double err = rel_l2(g, c);
    EXPECT_LT(err, kLogitTolerance) << what << ", row " << r;
    worst = std::max(worst, err);
  }
  std::printf("engine backend seam, %s: worst row rel L2 %.2e over %d rows\n", what.c_str(), worst, rows);
}

// A batch of sequences prefilled together (chunks over a cached prefix
// included), one forked by copy_kv_block, then batched decode steps.
TEST(CudaBackendParity, ForwardThroughTheSeamMatchesTheCpuBackend) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  BackendPair b(engine::ModelConfig::small(), 31, "seam");
  EXPECT_EQ(b.gpu->name(), "cuda");
  const int s = 8, per_seq = 12, n = 4;
  b.allocate({.num_blocks = (n + 1) * per_seq, .block_size = s, .max_step_sequences = 8, .max_step_tokens = 256});
  EXPECT_EQ(b.gpu->block_size(), s);
  EXPECT_EQ(b.gpu->num_kv_blocks(), (n + 1) * per_seq);
  std::mt19937 rng(11);
  const int lengths[n] = {5, 17, 33, 64};
  std::vector<std::vector<int32_t>> tokens, tables;
  for (int i = 0; i <= n; ++i) {
    tokens.push_back(random_tokens(64 + 8, b.config.vocab_size, rng));
    tables.push_back(scrambled_blocks(i * per_seq, per_seq, rng));
  }
  auto step = [&](int seq, int start, int count) {
    return SeqStep{.tokens = tokens[seq].data() + start, .num_tokens = count, .start_pos = start,
                   .block_table = tables[seq].data(), .num_blocks = per_seq, .want_logits = true};
  };
  // Sequence 3 in two chunks: the second attends over a cached prefix.
  expect_same_logits(b, {step(0, 0, lengths[0]), step(1, 0, lengths[1]), step(2, 0, lengths[2]), step(3, 0, 40)},
                     "batched prefill");
  expect_same_logits(b, {step(3, 40, lengths[3] - 40)}, "prefill over a cached prefix");

  // Sequence 4 shares sequence 1's two full blocks and copies its partial
  // third one, then goes its own way.
  tokens[4].assign(tokens[1].begin(), tokens[1].begin() + lengths[1]);
  tokens[4].resize(64 + 8, 7);
  tables[4][0] = tables[1][0];
  tables[4][1] = tables[1][1];
  b.cpu->copy_kv_block(tables[1][2], tables[4][2]);
  b.gpu->copy_kv_block(tables[1][2], tables[4][2]);
  std::vector<int> pos(lengths, lengths + n);
  pos.push_back(lengths[1]);
  for (int t = 0; t < 6; ++t) {
    std::vector<SeqStep> batch;
    for (int i = 0; i <= n; ++i) batch.push_back(step(i, pos[i], 1));
    expect_same_logits(b, batch, "decode step " + std::to_string(t));
    for (int& p : pos) ++p;
  }
}

TEST(CudaBackendParity, RejectsAdaptersAndMalformedSteps) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  BackendPair b(engine::ModelConfig::tiny(), 37, "reject");
  EXPECT_FALSE(b.gpu->supports_lora());
  b.allocate({.num_blocks = 8, .block_size = 4, .max_step_sequences = 2, .max_step_tokens = 16});
  const std::vector<int32_t> tokens(17, 5), table = {0, 1, 2, 3, 4};
  const std::string lora_path = b.path + ".lora";
  engine::write_synthetic_lora(lora_path, b.config, {.rank = 4});
  const auto adapter = engine::LoraAdapter::load(lora_path, b.config);
  std::filesystem::remove(lora_path);
  const SeqStep with_adapter{.tokens = tokens.data(), .num_tokens = 2, .block_table = table.data(), .num_blocks = 5,
                             .adapter = adapter.get()};
  try {
    b.gpu->forward({&with_adapter, 1}, nullptr);
    FAIL() << "a step with an adapter ran on the cuda backend";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("cannot apply LoRA"), std::string::npos) << e.what();
  }
  const SeqStep too_long{.tokens = tokens.data(), .num_tokens = 17, .block_table = table.data(), .num_blocks = 5};
  EXPECT_THROW(b.gpu->forward({&too_long, 1}, nullptr), std::invalid_argument);
  EXPECT_THROW(b.gpu->copy_kv_block(0, 8), std::out_of_range);
}

// Greedy requests submitted together to an Engine on each backend (chunked
// prefill, batched decode): every token the CUDA engine picks is, by the
// CPU backend's logits given the same prefix, within the bf16 error of the
// best one. Requests with an adapter are refused up front on the CUDA engine.
TEST(CudaBackendParity, EngineGreedyOutputAgreesWithTheCpuBackend) {
  PARKLOCK_REQUIRE_CUDA_DEVICE();
  BackendPair b(engine::ModelConfig::small(), 41, "engine");
  engine::EngineConfig config;
  config.block_size = 8;
  config.num_kv_blocks = 256;
  config.scheduler.max_batch_tokens = 64;
  config.scheduler.max_running = 8;
  std::mt19937 rng(13);
  std::vector<engine::Request> requests;
  for (int i = 0; i < 6; ++i) {
    engine::Request r;
    r.prompt = random_tokens(9 + 14 * i, b.config.vocab_size, rng);
    r.sampling.max_tokens = 10;
    r.sampling.ignore_eos = true;
    requests.push_back(std::move(r));
  }
  auto run_all = [&](ModelBackend& backend) {
    engine::Engine engine(backend, config);
    std::vector<engine::RequestResult> out(requests.size());
    std::vector<std::thread> clients;
    for (size_t i = 0; i < requests.size(); ++i)
      clients.emplace_back([&, i] { out[i] = engine.submit(requests[i])->wait(); });
    for (auto& t : clients) t.join();
    return out;
  };
  const auto on_gpu = run_all(*b.gpu);
  const auto on_cpu = run_all(*b.cpu);

  // Teacher forcing on the CPU backend, one request at a time.
  const int v = b.config.vocab_size;
  b.cpu->allocate_kv({.num_blocks = 32, .block_size = 8});
  std::vector<int32_t> table(32);
  for (int i = 0; i < 32; ++i) table[i] = i;
  std::vector<float> logits(v);
  int same_tokens = 0, total = 0;
  double worst_gap = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_EQ(on_gpu[i].reason, engine::FinishReason::kLength) << on_gpu[i].error;
    ASSERT_EQ(on_gpu[i].tokens.size(), 10u);
    std::vector<int32_t> seq = requests[i].prompt;
    seq.insert(seq.end(), on_gpu[i].tokens.begin(), on_gpu[i].tokens.end());
    const int prompt_len = static_cast<int>(requests[i].prompt.size());
    for (int k = 0; k < 10; ++k) {
      const int start = k == 0 ? 0 : prompt_len + k - 1;
      const SeqStep st{.tokens = seq.data() + start, .num_tokens = k == 0 ? prompt_len : 1, .start_pos = start,
                       .block_table = table.data(), .num_blocks = 32, .want_logits = true};
      b.cpu->forward({&st, 1}, logits.data());
      double sq = 0;
      for (float x : logits) sq += static_cast<double>(x) * x;
      const double rms = std::sqrt(sq / v);
      const float best = *std::max_element(logits.begin(), logits.end());
      const double gap = best - logits[on_gpu[i].tokens[k]];
      // |GPU - CPU| per logit stays under ~5x its RMS (2e-2 of the logits'
      // RMS); the chosen token can trail the best by twice that.
      EXPECT_LE(gap, 0.2 * rms) << "request " << i << " token " << k;
      worst_gap = std::max(worst_gap, gap / rms);
      same_tokens += on_gpu[i].tokens[k] == on_cpu[i].tokens[k];
      ++total;
    }
  }
  std::printf("engine greedy on cuda vs cpu: %d of %d tokens equal; chosen token trails the CPU's best by at most "
              "%.3f logit RMS (rel L2 bound 2e-2)\n",
              same_tokens, total, worst_gap);

  engine::Engine gpu_engine(*b.gpu, config);
  engine::Request with_adapter = requests[0];
  with_adapter.adapter = "any";
  const std::string reason = gpu_engine.check(with_adapter);
  EXPECT_NE(reason.find("cannot apply LoRA"), std::string::npos) << reason;
  const engine::RequestResult refused = gpu_engine.submit(with_adapter)->wait();
  EXPECT_EQ(refused.reason, engine::FinishReason::kError);
  EXPECT_EQ(refused.error, reason);
}

}  // namespace
}  // namespace parklock::kernels::cuda::testing
