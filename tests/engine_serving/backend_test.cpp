// The backend seam on any machine: --device resolution, the Engine driving
// a backend it only knows as a ModelBackend, and the CUDA backend failing
// cleanly where no GPU is usable. Parity of the CUDA backend with the CPU
// one needs a device: tests/kernels_cuda/engine_backend_parity_test.cpp.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "engine/model/backend_select.h"
#include "engine_test_util.h"

namespace parklock::engine::testing {
namespace {

EngineConfig small_config() {
  EngineConfig c;
  c.block_size = 8;
  c.num_kv_blocks = 256;
  c.scheduler.max_batch_tokens = 48;  // long prompts are chunked
  c.scheduler.max_running = 8;
  return c;
}

bool cuda_usable() { return choose_device(Device::kAuto).device == Device::kCuda; }

TEST(BackendSelect, DeviceNamesRoundTrip) {
  for (const Device d : {Device::kAuto, Device::kCpu, Device::kCuda}) EXPECT_EQ(device_from_name(device_name(d)), d);
  EXPECT_THROW(device_from_name("gpu"), std::invalid_argument);
}

TEST(BackendSelect, CpuIsAlwaysGranted) {
  const DeviceChoice c = choose_device(Device::kCpu);
  EXPECT_EQ(c.device, Device::kCpu);
  EXPECT_EQ(c.reason, "requested");
}

TEST(BackendSelect, AutoTakesTheGpuOnlyWhenOneIsUsable) {
  const DeviceChoice c = choose_device(Device::kAuto);
  ASSERT_EQ(c.reason.rfind("auto: ", 0), 0u) << c.reason;
  if (!cuda_backend_built()) {
    EXPECT_EQ(c.device, Device::kCpu);
    EXPECT_NE(c.reason.find("no CUDA support"), std::string::npos) << c.reason;
  } else if (c.device == Device::kCpu) {
    EXPECT_NE(c.reason.find("no usable CUDA device"), std::string::npos) << c.reason;
  }
  std::printf("auto: device %s (%s)\n", device_name(c.device), c.reason.c_str());
}

TEST(BackendSelect, CudaWithoutAUsableDeviceSaysWhy) {
  if (cuda_usable()) {
    EXPECT_EQ(choose_device(Device::kCuda).device, Device::kCuda);
    return;
  }
  try {
    choose_device(Device::kCuda);
    FAIL() << "--device cuda was granted without a usable device";
  } catch (const DeviceUnavailable& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("--device cuda: ", 0), 0u) << what;
    EXPECT_NE(what.find(cuda_backend_built() ? "no usable CUDA device" : "no CUDA support"), std::string::npos)
        << what;
  }
}

// The engine over make_backend's CPU backend, held only as a ModelBackend,
// gives what it gives over a Model built directly from the same seed, with
// prefill chunks, batching and sampling all in play.
TEST(BackendSeam, EngineOverTheCpuBackendInterfaceMatchesTheModel) {
  std::unique_ptr<ModelBackend> backend =
      make_backend(Device::kCpu, LoadedModel::synthetic(ModelConfig::tiny(), 1));
  EXPECT_EQ(backend->name(), "cpu");
  EXPECT_TRUE(backend->supports_lora());
  std::vector<Request> requests;
  for (int i = 0; i < 6; ++i) {
    auto prompt = prompt_tokens(7 + 13 * i, i);
    requests.push_back(i % 2 ? seeded_request(prompt, 12, 40 + i) : greedy_request(prompt, 12));
  }
  auto model = tiny_model(1);
  const auto expected = run_one_by_one(*model, small_config(), requests);

  Engine engine(*backend, small_config());
  EXPECT_EQ(engine.backend_name(), "cpu");
  EXPECT_EQ(backend->block_size(), 8);
  EXPECT_EQ(backend->num_kv_blocks(), 256);
  std::vector<RequestResult> got(requests.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < requests.size(); ++i)
    clients.emplace_back([&, i] { got[i] = engine.submit(requests[i])->wait(); });
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(got[i].reason, FinishReason::kLength) << i << ": " << got[i].error;
    EXPECT_EQ(got[i].tokens, expected[i].tokens) << "request " << i;
  }
}

// Where CUDA is built in but no device is usable, the CUDA backend can be
// made (nothing touches the GPU until the KV pool is allocated) and then
// fails with an exception, never a crash: an engine cannot start on it.
TEST(BackendSeam, CudaBackendWithoutADeviceFailsAtAllocation) {
  if (!cuda_backend_built()) {
    EXPECT_THROW(make_backend(Device::kCuda, LoadedModel::synthetic(ModelConfig::tiny(), 1)), std::logic_error);
    GTEST_SKIP() << "built without CUDA: make_backend(kCuda) refuses, as checked";
  }
  if (cuda_usable()) GTEST_SKIP() << "a CUDA device is usable here";
  auto backend = make_backend(Device::kCuda, LoadedModel::synthetic(ModelConfig::tiny(), 1));
  EXPECT_EQ(backend->name(), "cuda");
  EXPECT_FALSE(backend->supports_lora());
  const std::vector<int32_t> tokens = {1, 2, 3}, table = {0};
  const SeqStep step{.tokens = tokens.data(), .num_tokens = 3, .block_table = table.data(), .num_blocks = 1};
  EXPECT_THROW(backend->forward({&step, 1}, nullptr), std::logic_error);
  EXPECT_THROW(backend->copy_kv_block(0, 1), std::logic_error);
  EXPECT_THROW(backend->allocate_kv({.num_blocks = 8, .block_size = 4}), std::runtime_error);
  EXPECT_THROW(Engine(*backend, small_config()), std::runtime_error);
}

}  // namespace
}  // namespace parklock::engine::testing
