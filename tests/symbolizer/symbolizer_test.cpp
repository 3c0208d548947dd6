// The symbolizer on this executable (a PIE linked without -rdynamic), on
// fixture libraries loaded with dlopen (with debug info, without it, fully
// stripped, loaded late), on libc, and from many threads at once.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "fixture_api.h"
#include "known_sites.h"
#include "stack_capture.h"
#include "symbolizer.h"

namespace {

using parklock::ResolvedFrame;
using parklock::Symbolizer;

std::string hex(uintptr_t value) {
  char text[32];
  std::snprintf(text, sizeof(text), "0x%" PRIxPTR, value);
  return text;
}

// Where the object holding `address` is loaded (its address 0).
uintptr_t load_base_of(uintptr_t address) {
  Dl_info info;
  EXPECT_NE(dladdr(reinterpret_cast<void*>(address), &info), 0);
  return reinterpret_cast<uintptr_t>(info.dli_fbase);
}

struct Library {
  void* handle = nullptr;
  const FixtureApi* api = nullptr;
};

Library open_fixture(const char* path) {
  Library library;
  library.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(library.handle, nullptr) << dlerror();
  if (library.handle == nullptr) return library;
  auto entry = reinterpret_cast<const FixtureApi* (*)()>(dlsym(library.handle, "symbolizer_fixture_api"));
  EXPECT_NE(entry, nullptr);
  if (entry != nullptr) library.api = entry();
  return library;
}

class SymbolizerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(parklock::stack_capture_init()); }
  Symbolizer symbolizer_;
};

TEST_F(SymbolizerTest, ExecutableIsPieWithoutRdynamic) {
  // A PIE loads at a non-zero bias; without -rdynamic its functions are in
  // .symtab only, so the dynamic linker cannot find them.
  uintptr_t main_bias = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* bias) {
        *static_cast<uintptr_t*>(bias) = info->dlpi_addr;
        return 1;
      },
      &main_bias);
  EXPECT_NE(main_bias, 0u);
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "_ZN5known4Site7captureEi"), nullptr);
}

TEST_F(SymbolizerTest, ResolvesMemberFunctionFileAndLine) {
  const Capture capture = known::Site::capture(4);
  ASSERT_GE(capture.frames, 1);
  const uintptr_t pc = capture.pcs[0];
  const ResolvedFrame frame = symbolizer_.resolve(pc);
  EXPECT_EQ(frame.function, "known::Site::capture(int)");
  EXPECT_EQ(frame.file, "known_sites.cpp");
  EXPECT_EQ(frame.line, capture.line);
  EXPECT_NE(frame.path.find("tests/symbolizer/known_sites.cpp"), std::string::npos) << frame.path;
  EXPECT_EQ(frame.module, "symbolizer_tests");
  EXPECT_EQ(frame.module_offset, pc - 1 - load_base_of(pc));
  EXPECT_EQ(symbolizer_.describe(pc),
            "known::Site::capture (known_sites.cpp:" + std::to_string(capture.line) + ")");
}

TEST_F(SymbolizerTest, ResolvesFunctionWithInternalLinkage) {
  const Capture capture = known::capture_in_internal_function();
  ASSERT_GE(capture.frames, 1);
  const ResolvedFrame frame = symbolizer_.resolve(capture.pcs[0]);
  EXPECT_EQ(frame.function, "known::internal_function()");
  EXPECT_EQ(frame.line, capture.line);
}

TEST_F(SymbolizerTest, InlinedCallResolvesToTheCallInTheFunction) {
  // The return address lies in capture_inline's code (inlined_helper.h); the
  // frame names the function it was inlined into, at the call.
  const Capture capture = known::capture_through_inlined_helper();
  ASSERT_GE(capture.frames, 1);
  const ResolvedFrame frame = symbolizer_.resolve(capture.pcs[0]);
  EXPECT_EQ(frame.function, "known::capture_through_inlined_helper()");
  EXPECT_EQ(frame.file, "known_sites.cpp");
  EXPECT_EQ(frame.line, capture.line);
}

TEST_F(SymbolizerTest, SiteIsTheFirstFrameOutsideTheRuntimesAndHeaders) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer's pthread_once interceptor is one more frame in between";
#endif
  const Capture capture = known::capture_through_call_once();
  ASSERT_GE(capture.frames, 2);
  const std::string site =
      "known::capture_through_call_once (known_sites.cpp:" + std::to_string(capture.line) + ")";
  EXPECT_NE(symbolizer_.describe(capture.pcs[0]), site);
  EXPECT_EQ(symbolizer_.describe_site(capture.pcs, capture.frames), site);
  // A stack of library frames only is named by its first.
  EXPECT_EQ(symbolizer_.describe_site(capture.pcs, 1), symbolizer_.describe(capture.pcs[0]));
  EXPECT_EQ(symbolizer_.describe_site(capture.pcs, 0), "");
}

TEST_F(SymbolizerTest, ResolvesSharedLibraryLoadedWithDlopen) {
  const Library library = open_fixture(SYMBOLIZER_FIXTURE);
  ASSERT_NE(library.api, nullptr);
  const FixtureCall member = library.api->call_from_member(parklock::stack_capture);
  ASSERT_GE(member.frames, 1);
  const ResolvedFrame frame = symbolizer_.resolve(member.pcs[0]);
  EXPECT_EQ(frame.function, "fixture::Widget::call_through(int (*)(unsigned long*, int, int))");
  EXPECT_EQ(frame.file, "fixture_lib.cpp");
  EXPECT_EQ(frame.line, member.line);
  EXPECT_EQ(frame.module, "libsymbolizer_fixture.so");
  EXPECT_EQ(frame.module_offset, member.pcs[0] - 1 - load_base_of(member.pcs[0]));

  const FixtureCall internal = library.api->call_from_internal(parklock::stack_capture);
  ASSERT_GE(internal.frames, 1);
  EXPECT_EQ(symbolizer_.describe(internal.pcs[0]),
            "(anonymous namespace)::internal_call (fixture_lib.cpp:" + std::to_string(internal.line) + ")");
}

TEST_F(SymbolizerTest, WithoutDebugInfoNamesFunctionAndModuleOffset) {
  const Library library = open_fixture(SYMBOLIZER_FIXTURE_NODEBUG);
  ASSERT_NE(library.api, nullptr);
  const FixtureCall call = library.api->call_from_member(parklock::stack_capture);
  ASSERT_GE(call.frames, 1);
  const uintptr_t pc = call.pcs[0];
  const ResolvedFrame frame = symbolizer_.resolve(pc);
  EXPECT_EQ(frame.function, "fixture::Widget::call_through(int (*)(unsigned long*, int, int))");
  EXPECT_EQ(frame.file, "");
  EXPECT_EQ(frame.line, 0);
  const uintptr_t offset = pc - 1 - load_base_of(pc);
  EXPECT_EQ(frame.module_offset, offset);
  EXPECT_EQ(symbolizer_.describe(pc),
            "fixture::Widget::call_through (libsymbolizer_fixture_nodebug.so+" + hex(offset) + ")");
}

TEST_F(SymbolizerTest, FullyStrippedInternalFunctionIsModulePlusOffset) {
  const Library library = open_fixture(SYMBOLIZER_FIXTURE_STRIPPED);
  ASSERT_NE(library.api, nullptr);
  const FixtureCall call = library.api->call_from_internal(parklock::stack_capture);
  ASSERT_GE(call.frames, 1);
  const uintptr_t pc = call.pcs[0];
  const ResolvedFrame frame = symbolizer_.resolve(pc);
  EXPECT_EQ(frame.function, "");
  EXPECT_EQ(symbolizer_.describe(pc),
            "libsymbolizer_fixture_stripped.so+" + hex(pc - 1 - load_base_of(pc)));
}

TEST_F(SymbolizerTest, ObjectLoadedAfterFirstUseIsFoundAndForgottenOnUnload) {
  const Capture early = known::Site::capture(1);
  ASSERT_EQ(symbolizer_.resolve(early.pcs[0]).function, "known::Site::capture(int)");

  void* late = dlopen(SYMBOLIZER_FIXTURE_LATE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(late, nullptr) << dlerror();
  using LateCapture = int (*)(CaptureFunction, uintptr_t*, int*);
  auto late_capture = reinterpret_cast<LateCapture>(dlsym(late, "late_capture"));
  ASSERT_NE(late_capture, nullptr);
  uintptr_t pc = 0;
  int line = 0;
  late_capture(parklock::stack_capture, &pc, &line);
  const ResolvedFrame frame = symbolizer_.resolve(pc);
  EXPECT_EQ(frame.function, "late_capture");
  EXPECT_EQ(frame.file, "fixture_late.c");
  EXPECT_EQ(frame.line, line);
  EXPECT_EQ(frame.module, "libsymbolizer_fixture_late.so");

  ASSERT_EQ(dlclose(late), 0);
  ASSERT_EQ(dlopen(SYMBOLIZER_FIXTURE_LATE, RTLD_NOW | RTLD_NOLOAD), nullptr) << "still loaded";
  EXPECT_EQ(symbolizer_.resolve(pc).module, "");
  EXPECT_EQ(symbolizer_.describe(pc), hex(pc));
  EXPECT_EQ(symbolizer_.resolve(early.pcs[0]).function, "known::Site::capture(int)");
}

TEST_F(SymbolizerTest, NamesLibcFunctionsFromDynamicSymbols) {
  // getenv has a single dynamic symbol (getpid has two: __getpid, getpid).
  const uintptr_t pc = reinterpret_cast<uintptr_t>(&getenv) + 1;
  const ResolvedFrame frame = symbolizer_.resolve(pc);
  EXPECT_EQ(frame.function, "getenv");
  EXPECT_EQ(frame.module, "libc.so.6");
}

// The build ID of the object holding `address`, in hex ("" if none).
std::string build_id_of(uintptr_t address) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(address), &info) == 0 || info.dli_fname == nullptr) return "";
  const int fd = open(info.dli_fname, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
  const void* bits = nullptr;
  const ssize_t length = elf != nullptr ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
  std::string id;
  for (ssize_t i = 0; i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof(byte), "%02x", static_cast<const unsigned char*>(bits)[i]);
    id += byte;
  }
  if (elf != nullptr) elf_end(elf);
  close(fd);
  return id;
}

TEST_F(SymbolizerTest, SeparateDebugInfoIsFoundByBuildId) {
  const uintptr_t pc = reinterpret_cast<uintptr_t>(&getenv) + 1;
  const std::string id = build_id_of(pc);
  ASSERT_GT(id.size(), 2u);
  const std::string debug_file = "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
  if (access(debug_file.c_str(), R_OK) != 0) GTEST_SKIP() << "no " << debug_file << " (libc6-dbg)";
  const ResolvedFrame frame = symbolizer_.resolve(pc);
  EXPECT_EQ(frame.module, "libc.so.6");
  EXPECT_EQ(frame.file, "getenv.c");
  EXPECT_GT(frame.line, 0);
}

TEST_F(SymbolizerTest, DataSymbolNamesStaticAndGlobalVariables) {
  const auto* something = static_cast<const char*>(known::something_mutex());
  EXPECT_EQ(symbolizer_.data_symbol(reinterpret_cast<uintptr_t>(something)), "g_something_mutex");
  // Any byte of the variable's storage.
  EXPECT_EQ(symbolizer_.data_symbol(reinterpret_cast<uintptr_t>(something + sizeof(pthread_mutex_t) - 1)),
            "g_something_mutex");
  EXPECT_EQ(symbolizer_.data_symbol(reinterpret_cast<uintptr_t>(&known::g_table_mutex)),
            "known::g_table_mutex");
  EXPECT_EQ(symbolizer_.data_symbol(reinterpret_cast<uintptr_t>(known::function_local_static_mutex())),
            "known::function_local_static_mutex()::m");

  const Library library = open_fixture(SYMBOLIZER_FIXTURE);
  ASSERT_NE(library.api, nullptr);
  EXPECT_EQ(symbolizer_.data_symbol(reinterpret_cast<uintptr_t>(library.api->something_mutex)),
            "(anonymous namespace)::g_something_mutex");
}

TEST_F(SymbolizerTest, DataSymbolIsEmptyOutsideStaticStorage) {
  std::mutex on_stack;
  auto on_heap = std::make_unique<std::mutex>();
  EXPECT_EQ(symbolizer_.data_symbol(reinterpret_cast<uintptr_t>(&on_stack)), std::nullopt);
  EXPECT_EQ(symbolizer_.data_symbol(reinterpret_cast<uintptr_t>(on_heap.get())), std::nullopt);
  EXPECT_EQ(symbolizer_.data_symbol(0), std::nullopt);
}

TEST_F(SymbolizerTest, ConcurrentLookupsAgreeWithSequentialOnes) {
  const Library library = open_fixture(SYMBOLIZER_FIXTURE);
  ASSERT_NE(library.api, nullptr);
  std::vector<uintptr_t> pcs;
  for (const Capture& capture : {known::Site::capture(8), known::capture_through_inlined_helper(),
                                 known::capture_in_internal_function()}) {
    pcs.insert(pcs.end(), capture.pcs, capture.pcs + capture.frames);
  }
  const FixtureCall call = library.api->call_from_member(parklock::stack_capture);
  pcs.insert(pcs.end(), call.pcs, call.pcs + call.frames);
  pcs.push_back(reinterpret_cast<uintptr_t>(&getenv) + 1);
  const std::vector<uintptr_t> data = {reinterpret_cast<uintptr_t>(known::something_mutex()),
                                       reinterpret_cast<uintptr_t>(&known::g_table_mutex),
                                       reinterpret_cast<uintptr_t>(library.api->something_mutex)};

  Symbolizer reference_symbolizer;
  std::vector<std::string> expected;
  for (uintptr_t pc : pcs) expected.push_back(reference_symbolizer.describe(pc));
  std::vector<std::optional<std::string>> expected_data;
  for (uintptr_t address : data) expected_data.push_back(reference_symbolizer.data_symbol(address));

  // A cold symbolizer shared by 8 threads, each walking the addresses from a
  // different starting point.
  Symbolizer shared;
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (size_t i = 0; i < pcs.size(); ++i) {
          const size_t k = (i + t) % pcs.size();
          if (shared.describe(pcs[k]) != expected[k]) ++mismatches[t];
        }
        for (size_t i = 0; i < data.size(); ++i) {
          if (shared.data_symbol(data[i]) != expected_data[i]) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
