// The naming API and the version string.
#include <pthread.h>
#include <string.h>

#include <atomic>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "parklock.h"

namespace {

// The name of `lock` as a string, or "(none)".
std::string NameOf(const void* lock) {
  char buffer[64];
  return parklock_get_name(lock, buffer, sizeof buffer) ? std::string(buffer) : "(none)";
}

TEST(Names, UnnamedLockHasNoName) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  EXPECT_EQ(NameOf(&m), "(none)");
}

TEST(Names, RoundTripReplaceAndClear) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  parklock_set_name(&m, "request_queue");
  EXPECT_EQ(NameOf(&m), "request_queue");
  parklock_set_name(&m, "kv_blocks");
  EXPECT_EQ(NameOf(&m), "kv_blocks");
  parklock_set_name(&m, nullptr);
  EXPECT_EQ(NameOf(&m), "(none)");
}

TEST(Names, NameIsCopied) {
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  char buffer[32];
  strcpy(buffer, "scheduler_cv");
  parklock_set_name(&c, buffer);
  strcpy(buffer, "overwritten");
  EXPECT_EQ(NameOf(&c), "scheduler_cv");
  parklock_set_name(&c, nullptr);
}

// The header promises up to 47 bytes are kept.
TEST(Names, LongNameIsTruncatedTo47Bytes) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  const std::string long_name(80, 'x');
  parklock_set_name(&rw, long_name.c_str());
  EXPECT_EQ(NameOf(&rw), long_name.substr(0, 47));
  parklock_set_name(&rw, nullptr);
}

TEST(Names, DistinctLocksKeepDistinctNames) {
  pthread_mutex_t locks[64];
  for (int i = 0; i < 64; ++i) {
    parklock_set_name(&locks[i], ("lock_" + std::to_string(i)).c_str());
  }
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(NameOf(&locks[i]), "lock_" + std::to_string(i));
  }
  parklock_set_name(&locks[10], nullptr);
  EXPECT_EQ(NameOf(&locks[10]), "(none)");
  EXPECT_EQ(NameOf(&locks[11]), "lock_11");
  for (auto& m : locks) parklock_set_name(&m, nullptr);
}

// Linked with the library, the weak reference resolves and the macro names.
TEST(Names, SetNameMacroCallsTheLibrary) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  ASSERT_NE(&parklock_set_name, nullptr);
  PARKLOCK_SET_NAME(&m, "named_by_macro");
  EXPECT_EQ(NameOf(&m), "named_by_macro");
  PARKLOCK_SET_NAME(&m, nullptr);
  EXPECT_EQ(NameOf(&m), "(none)");
}

// A scrape may read a name while it is being replaced: it sees one of the
// two names whole, never a mix (the table copies names out under a sequence
// count).
TEST(Names, ConcurrentReaderSeesWholeNames) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  const std::string a(47, 'a'), b(47, 'b');
  parklock_set_name(&m, a.c_str());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 20000 && !stop.load(); ++i) parklock_set_name(&m, (i % 2 ? a : b).c_str());
  });
  for (int i = 0; i < 20000; ++i) {
    const std::string name = NameOf(&m);
    ASSERT_TRUE(name == a || name == b) << name;
  }
  stop = true;
  writer.join();
  parklock_set_name(&m, nullptr);
}

// Destroying a lock forgets its name: a later lock at the same address
// (a reused allocation) is not reported under the old label.
TEST(Names, DestroyClearsTheName) {
  pthread_mutex_t m;
  parklock_mutex_init(&m, nullptr);
  parklock_set_name(&m, "per_request");
  EXPECT_EQ(NameOf(&m), "per_request");
  parklock_mutex_destroy(&m);
  EXPECT_EQ(NameOf(&m), "(none)");
  pthread_rwlock_t rw;
  parklock_rwlock_init(&rw, nullptr);
  parklock_set_name(&rw, "table");
  parklock_rwlock_destroy(&rw);
  EXPECT_EQ(NameOf(&rw), "(none)");
  pthread_cond_t c;
  parklock_cond_init(&c, nullptr);
  parklock_set_name(&c, "ready");
  parklock_cond_destroy(&c);
  EXPECT_EQ(NameOf(&c), "(none)");
}

TEST(Version, MatchesHeaderMacros) {
  const std::string expected = std::to_string(PARKLOCK_VERSION_MAJOR) + "." +
                               std::to_string(PARKLOCK_VERSION_MINOR) + "." +
                               std::to_string(PARKLOCK_VERSION_PATCH);
  ASSERT_NE(parklock_version(), nullptr);
  EXPECT_EQ(std::string(parklock_version()), expected);
}

}  // namespace
