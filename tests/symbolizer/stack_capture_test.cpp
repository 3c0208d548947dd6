// Stack capture from known functions of this executable and of a shared
// object that links stack_capture the way the preload does, checked by
// symbolizing the captured return addresses.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <malloc.h>

#include <thread>
#include <vector>

#include "known_sites.h"
#include "stack_capture.h"
#include "symbolizer.h"

extern "C" bool stack_probe_init();

namespace {

using parklock::ResolvedFrame;
using parklock::Symbolizer;

class StackCapture : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(parklock::stack_capture_init()); }
  Symbolizer symbolizer_;
};

// The shared object that holds `pc`, by file name.
std::string object_of(uintptr_t pc) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(pc - 1), &info) == 0 || info.dli_fname == nullptr) return "";
  const std::string name = info.dli_fname;
  return name.substr(name.rfind('/') + 1);
}

TEST_F(StackCapture, InitIsIdempotent) {
  EXPECT_TRUE(parklock::stack_capture_init());
  EXPECT_TRUE(parklock::stack_capture_thread_init());
}

TEST_F(StackCapture, FirstFrameIsTheCallerAtItsLine) {
  const Capture capture = known::Site::capture(8);
  ASSERT_GE(capture.frames, 2);
  const ResolvedFrame frame = symbolizer_.resolve(capture.pcs[0]);
  EXPECT_EQ(frame.function, "known::Site::capture(int)");
  EXPECT_EQ(frame.file, "known_sites.cpp");
  EXPECT_EQ(frame.line, capture.line);
  // The next frame is this test's body.
  EXPECT_NE(symbolizer_.resolve(capture.pcs[1]).function.find("FirstFrameIsTheCallerAtItsLine"),
            std::string::npos)
      << symbolizer_.describe(capture.pcs[1]);
}

TEST_F(StackCapture, SkipDropsInnermostFrames) {
  const Capture capture = known::capture_skipping_helper();
  ASSERT_GE(capture.frames, 1);
  const ResolvedFrame frame = symbolizer_.resolve(capture.pcs[0]);
  EXPECT_EQ(frame.function, "known::capture_skipping_helper()");
  EXPECT_EQ(frame.line, capture.line);
}

TEST_F(StackCapture, DepthIsBounded) {
  EXPECT_EQ(known::Site::capture(3).frames, 3);
  EXPECT_EQ(known::Site::capture(1).frames, 1);
  EXPECT_EQ(known::Site::capture(0).frames, 0);
  const Capture deep = known::Site::capture(1000);
  EXPECT_GT(deep.frames, 3);
  EXPECT_LE(deep.frames, parklock::kMaxStackDepth);
}

TEST_F(StackCapture, FramesOfTheCapturingSharedObjectAreSkipped) {
  ASSERT_TRUE(stack_probe_init());
  const Capture capture = known::lock_through_probe_library();
  ASSERT_GE(capture.frames, 2);
  // The probe's three frames (entry, slow path, recorder) are gone: the first
  // frame is the call into the probe.
  EXPECT_NE(object_of(capture.pcs[0]), "libsymbolizer_stack_probe.so");
  const ResolvedFrame frame = symbolizer_.resolve(capture.pcs[0]);
  EXPECT_EQ(frame.function, "known::lock_through_probe_library()");
  EXPECT_EQ(frame.file, "known_sites.cpp");
  EXPECT_EQ(frame.line, capture.line);
}

TEST_F(StackCapture, NewThreadsCaptureTheSameFrames) {
  const Capture reference = known::Site::capture(1);
  ASSERT_EQ(reference.frames, 1);
  constexpr int kThreads = 8;
  constexpr int kCapturesPerThread = 200;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCapturesPerThread; ++i) {
        const Capture capture = known::Site::capture(1);
        if (capture.frames != 1 || capture.pcs[0] != reference.pcs[0]) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// This process allocates with glibc's malloc, so a thread is readied by its
// first capture, and that allocates libunwind's thread-local block; later
// captures allocate nothing. (stack_capture_alloc_test.cpp covers a process
// with its own malloc, where that first capture must not allocate.)
TEST_F(StackCapture, ThreadIsReadiedByItsFirstCaptureUnderGlibcMalloc) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer's allocator replaces glibc's malloc";
#endif
  size_t allocated[3] = {};
  std::thread([&] {
    allocated[0] = mallinfo2().uordblks;
    for (int i = 1; i < 3; ++i) {
      known::Site::capture(8);  // one call site: the same stack twice
      allocated[i] = mallinfo2().uordblks;
    }
  }).join();
  EXPECT_GT(allocated[1], allocated[0]);
  EXPECT_EQ(allocated[2], allocated[1]);
}

}  // namespace
