// The probe that every GPU test and the benchmark start with. These tests
// run everywhere: with no GPU or no driver the probe must answer false with
// a reason, and never throw.
#include <cstdlib>
#include <cstring>

#include "cuda_test_util.h"

namespace parklock::kernels::cuda::testing {
namespace {

TEST(DeviceProbe, AnswersWithoutThrowing) {
  const bool available = cuda_device_available();
  EXPECT_EQ(available, cuda_device_available()) << "the answer is stable";
  if (available) {
    EXPECT_TRUE(cuda_unavailable_reason().empty());
    const DeviceInfo info = device_info();
    EXPECT_GT(info.sm_count, 0);
    std::printf("device: %s, %d SMs, compute %d.%d\n", info.name.c_str(), info.sm_count, info.compute_major,
                info.compute_minor);
  } else {
    EXPECT_FALSE(cuda_unavailable_reason().empty());
    EXPECT_THROW(device_info(), CudaError);
    std::printf("no device: %s\n", cuda_unavailable_reason().c_str());
  }
}

// Run by CTest with CUDA_VISIBLE_DEVICES=-1, which hides every device even
// on a GPU machine: the probe must then say no.
TEST(DeviceProbe, HiddenDevicesReadAsUnavailable) {
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  if (visible == nullptr || std::strcmp(visible, "-1") != 0) GTEST_SKIP() << "runs with CUDA_VISIBLE_DEVICES=-1";
  EXPECT_FALSE(cuda_device_available());
  EXPECT_FALSE(cuda_unavailable_reason().empty());
}

}  // namespace
}  // namespace parklock::kernels::cuda::testing
