// The naming API and the version string.
#include <pthread.h>
#include <string.h>

#include <string>

#include <gtest/gtest.h>

#include "parklock.h"

namespace {

TEST(Names, UnnamedLockHasNoName) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  EXPECT_EQ(parklock_get_name(&m), nullptr);
}

TEST(Names, RoundTripReplaceAndClear) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  parklock_set_name(&m, "request_queue");
  ASSERT_NE(parklock_get_name(&m), nullptr);
  EXPECT_STREQ(parklock_get_name(&m), "request_queue");
  parklock_set_name(&m, "kv_blocks");
  ASSERT_NE(parklock_get_name(&m), nullptr);
  EXPECT_STREQ(parklock_get_name(&m), "kv_blocks");
  parklock_set_name(&m, nullptr);
  EXPECT_EQ(parklock_get_name(&m), nullptr);
}

TEST(Names, NameIsCopied) {
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  char buffer[32];
  strcpy(buffer, "scheduler_cv");
  parklock_set_name(&c, buffer);
  strcpy(buffer, "overwritten");
  ASSERT_NE(parklock_get_name(&c), nullptr);
  EXPECT_STREQ(parklock_get_name(&c), "scheduler_cv");
  parklock_set_name(&c, nullptr);
}

// The header promises up to 47 bytes are kept.
TEST(Names, LongNameIsTruncatedTo47Bytes) {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  const std::string long_name(80, 'x');
  parklock_set_name(&rw, long_name.c_str());
  ASSERT_NE(parklock_get_name(&rw), nullptr);
  EXPECT_EQ(std::string(parklock_get_name(&rw)), long_name.substr(0, 47));
  parklock_set_name(&rw, nullptr);
}

TEST(Names, DistinctLocksKeepDistinctNames) {
  pthread_mutex_t locks[64];
  for (int i = 0; i < 64; ++i) {
    parklock_set_name(&locks[i], ("lock_" + std::to_string(i)).c_str());
  }
  for (int i = 0; i < 64; ++i) {
    ASSERT_NE(parklock_get_name(&locks[i]), nullptr) << i;
    EXPECT_EQ(std::string(parklock_get_name(&locks[i])), "lock_" + std::to_string(i));
  }
  parklock_set_name(&locks[10], nullptr);
  EXPECT_EQ(parklock_get_name(&locks[10]), nullptr);
  ASSERT_NE(parklock_get_name(&locks[11]), nullptr);
  EXPECT_STREQ(parklock_get_name(&locks[11]), "lock_11");
  for (auto& m : locks) parklock_set_name(&m, nullptr);
}

// Linked with the library, the weak reference resolves and the macro names.
TEST(Names, SetNameMacroCallsTheLibrary) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  ASSERT_NE(&parklock_set_name, nullptr);
  PARKLOCK_SET_NAME(&m, "named_by_macro");
  ASSERT_NE(parklock_get_name(&m), nullptr);
  EXPECT_STREQ(parklock_get_name(&m), "named_by_macro");
  PARKLOCK_SET_NAME(&m, nullptr);
  EXPECT_EQ(parklock_get_name(&m), nullptr);
}

TEST(Version, MatchesHeaderMacros) {
  const std::string expected = std::to_string(PARKLOCK_VERSION_MAJOR) + "." +
                               std::to_string(PARKLOCK_VERSION_MINOR) + "." +
                               std::to_string(PARKLOCK_VERSION_PATCH);
  ASSERT_NE(parklock_version(), nullptr);
  EXPECT_EQ(std::string(parklock_version()), expected);
}

}  // namespace
