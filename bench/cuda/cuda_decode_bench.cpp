// GPU decode and prefill benchmark of the CUDA backend at a model shape
// (default TinyLlama-1.1B, seeded synthetic weights): decode ms per step and
// tokens/s per batch size (a prompt prefilled, then greedy decode steps
// through the graph-captured path, each step timed on the host from input
// upload to sampled tokens read back), prefill time of one long prompt, the
// device's copy bandwidth, and the weight-streaming floor of a decode step
// (bf16 weight bytes / copy bandwidth) with the share of it reached at
// batch 1. Also each batch's device time per step from back-to-back graph
// replays (the way decode_graph.py times PyTorch), without the host's
// upload / read-back / synchronisation. Exits 0 with a message when no
// device is present.
//
//   cuda_decode_bench [--model=tinyllama-1.1b] [--batches=1,16,64,256]
//                     [--prompt=128] [--generate=128] [--prefill=512] [--json=PATH]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/cuda/copy_bandwidth.cuh"
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "engine/model/synthetic_weights.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/from_engine.h"

namespace parklock::bench {
namespace {

using namespace parklock::kernels::cuda;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model = "tinyllama-1.1b";
  std::vector<int> batches = {1, 16, 64, 256};
  int prompt = 128;
  int generate = 128;
  int prefill = 512;
  std::string json;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string key = a.substr(0, eq), value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (key == "--model") o.model = value;
    else if (key == "--prompt") o.prompt = std::stoi(value);
    else if (key == "--generate") o.generate = std::stoi(value);
    else if (key == "--prefill") o.prefill = std::stoi(value);
    else if (key == "--json") o.json = value;
    else if (key == "--batches") {
      o.batches.clear();
      std::stringstream ss(value);
      for (std::string part; std::getline(ss, part, ',');) o.batches.push_back(std::stoi(part));
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if (o.batches.empty() || o.prompt < 1 || o.generate < 3 || o.prefill < 1)
    throw std::invalid_argument("need batches, prompt >= 1, generate >= 3 (two warm-up steps), prefill >= 1");
  return o;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct BatchResult {
  int batch;
  double prefill_ms;      // all prompts of the batch
  double step_ms_median;  // decode
  double step_ms_mean;
  double tokens_per_s;    // batch / mean step
  double replay_ms;       // device time per step: back-to-back graph replays, no host round trip
};

int32_t argmax(const float* row, int n) { return static_cast<int32_t>(std::max_element(row, row + n) - row); }

BatchResult run_batch(CudaLlama& model, const Options& o, int batch, int block_size, int max_forward_tokens) {
  const int v = model.shape().vocab_size;
  const int blocks_per_seq = (o.prompt + o.generate + block_size - 1) / block_size;
  std::mt19937 rng(batch);
  std::vector<std::vector<int32_t>> prompts(batch), tables(batch);
  for (int i = 0; i < batch; ++i) {
    prompts[i].resize(o.prompt);
    for (auto& t : prompts[i]) t = std::uniform_int_distribution<int>(3, v - 1)(rng);
    tables[i].resize(blocks_per_seq);
    std::iota(tables[i].begin(), tables[i].end(), i * blocks_per_seq);
  }
  // Prefill in forward() calls of at most max_forward_tokens tokens.
  std::vector<int32_t> cur(batch);
  const int per_call = std::max(1, max_forward_tokens / o.prompt);
  std::vector<float> logits(static_cast<size_t>(per_call) * v);
  const auto t_prefill = Clock::now();
  for (int first = 0; first < batch; first += per_call) {
    std::vector<SeqInput> steps;
    for (int i = first; i < std::min(batch, first + per_call); ++i)
      steps.push_back({.tokens = prompts[i].data(), .num_tokens = o.prompt, .block_table = tables[i].data(),
                       .num_blocks = blocks_per_seq, .want_logits = true});
    model.forward(steps, logits.data());
    for (size_t j = 0; j < steps.size(); ++j) cur[first + j] = argmax(logits.data() + j * v, v);
  }
  const double prefill_ms = seconds_since(t_prefill) * 1e3;

  std::vector<DecodeInput> inputs(batch);
  std::vector<int32_t> next(batch);
  std::vector<double> step_ms;
  for (int s = 0; s < o.generate; ++s) {
    for (int i = 0; i < batch; ++i)
      inputs[i] = {.token = cur[i], .position = o.prompt + s, .block_table = tables[i].data(), .num_blocks = blocks_per_seq};
    const auto t0 = Clock::now();
    model.decode(inputs, next.data());
    const double ms = seconds_since(t0) * 1e3;
    if (s >= 2) step_ms.push_back(ms);  // step 0 runs eagerly and captures the graph
    cur = next;
  }
  const double mean = std::accumulate(step_ms.begin(), step_ms.end(), 0.0) / step_ms.size();
  model.replay_decode_ms(batch, 5);  // warm-up
  return {.batch = batch, .prefill_ms = prefill_ms, .step_ms_median = median(step_ms), .step_ms_mean = mean,
          .tokens_per_s = batch / (mean * 1e-3), .replay_ms = model.replay_decode_ms(batch, 50)};
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!cuda_device_available()) {
    std::printf("cuda_decode_bench: skipped, no CUDA device (%s)\n", cuda_unavailable_reason().c_str());
    return 0;
  }
  const DeviceInfo dev = device_info();
  std::printf("device: %s, %d SMs, %.1f GiB\n", dev.name.c_str(), dev.sm_count, dev.global_bytes / 1073741824.0);

  const CopyBandwidth bw = measure_copy_bandwidth(size_t{4} << 30, 20);  // 4 GiB: far past the 60 MB L2
  const double bandwidth = std::max(bw.kernel_gbps, bw.memcpy_gbps);
  std::printf("copy bandwidth (read + write): kernel %.0f GB/s, cudaMemcpy %.0f GB/s\n", bw.kernel_gbps, bw.memcpy_gbps);

  const engine::ModelConfig config = engine::ModelConfig::by_name(o.model);
  const auto t_weights = Clock::now();
  const engine::ModelWeights weights = engine::ModelWeights::load(engine::SyntheticWeights(config, 1), config);
  std::printf("synthetic %s weights generated in %.1f s\n", o.model.c_str(), seconds_since(t_weights));

  const int block_size = 16, max_forward_tokens = 2048;
  const int max_batch = *std::max_element(o.batches.begin(), o.batches.end());
  const int blocks_per_seq = (std::max(o.prompt + o.generate, o.prefill) + block_size - 1) / block_size;
  const auto t_upload = Clock::now();
  CudaLlama model(llama_shape(config), llama_host_weights(weights),
                  {.num_kv_blocks = max_batch * blocks_per_seq, .block_size = block_size, .max_batch = max_batch,
                   .max_forward_tokens = std::max(max_forward_tokens, o.prefill)});
  std::printf("weights converted and uploaded in %.1f s\n", seconds_since(t_upload));
  const double floor_ms = model.weight_bytes() / (bandwidth * 1e9) * 1e3;
  std::printf("weights streamed per decode step: %.3f GB; floor %.3f ms at %.0f GB/s\n", model.weight_bytes() / 1e9,
              floor_ms, bandwidth);

  // Prefill of one long prompt: median of 5 after a warm-up.
  std::vector<int32_t> prompt(o.prefill), table(blocks_per_seq);
  std::mt19937 rng(5);
  for (auto& t : prompt) t = std::uniform_int_distribution<int>(3, config.vocab_size - 1)(rng);
  std::iota(table.begin(), table.end(), 0);
  std::vector<float> logits(config.vocab_size);
  const SeqInput long_prompt{.tokens = prompt.data(), .num_tokens = o.prefill, .block_table = table.data(),
                             .num_blocks = blocks_per_seq, .want_logits = true};
  std::vector<double> prefill_ms;
  for (int r = 0; r < 6; ++r) {
    const auto t0 = Clock::now();
    model.forward({&long_prompt, 1}, logits.data());
    if (r > 0) prefill_ms.push_back(seconds_since(t0) * 1e3);
  }
  const double prefill = median(prefill_ms);
  std::printf("prefill %d tokens: %.2f ms (%.0f tokens/s)\n", o.prefill, prefill, o.prefill / (prefill * 1e-3));

  std::vector<BatchResult> results;
  std::printf("\n%6s %14s %14s %12s %14s %12s %10s\n", "batch", "ms/step (med)", "ms/step (mean)", "tokens/s",
              "prefill ms", "replay ms", "of floor");
  for (const int b : o.batches) {
    const BatchResult r = run_batch(model, o, b, block_size, max_forward_tokens);
    results.push_back(r);
    std::printf("%6d %14.3f %14.3f %12.0f %14.1f %12.3f %9.0f%%\n", r.batch, r.step_ms_median, r.step_ms_mean,
                r.tokens_per_s, r.prefill_ms, r.replay_ms, 100.0 * floor_ms / r.step_ms_median);
  }

  if (!o.json.empty()) {
    std::ofstream js(o.json);
    js << "{\n  \"device\": \"" << dev.name << "\",\n  \"model\": \"" << o.model << "\",\n"
       << "  \"copy_kernel_gbps\": " << bw.kernel_gbps << ",\n  \"copy_memcpy_gbps\": " << bw.memcpy_gbps << ",\n"
       << "  \"weight_bytes\": " << model.weight_bytes() << ",\n  \"floor_ms\": " << floor_ms << ",\n"
       << "  \"prefill_tokens\": " << o.prefill << ",\n  \"prefill_ms\": " << prefill << ",\n  \"decode\": [\n";
    for (size_t i = 0; i < results.size(); ++i) {
      const BatchResult& r = results[i];
      js << "    {\"batch\": " << r.batch << ", \"ms_per_step\": " << r.step_ms_median
         << ", \"ms_per_step_mean\": " << r.step_ms_mean << ", \"decode_tok_s\": " << r.tokens_per_s
         << ", \"prefill_ms\": " << r.prefill_ms << ", \"replay_ms\": " << r.replay_ms << "}" << (i + 1 < results.size() ? "," : "") << "\n";
    }
    js << "  ]\n}\n";
  }
  return 0;
}

}  // namespace
}  // namespace parklock::bench

int main(int argc, char** argv) {
  try {
    return parklock::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_decode_bench: %s\n", e.what());
    return 1;
  }
}
