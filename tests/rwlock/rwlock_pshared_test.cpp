// Process-shared rwlocks stay glibc's: parklock recognises them from the
// bytes glibc's init wrote and passes every call through, so processes that
// map the lock exclude each other exactly as with glibc.
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <new>
#include <vector>

#include "rwlock_api_table.h"

namespace {

struct Shared {
  pthread_rwlock_t rw;
  long a;  // guarded by rw, a == b outside write sections
  long b;
  long violations;  // written under the write lock only
};

class RwProcessShared : public RwBoth {};
INSTANTIATE_RW_BOTH(RwProcessShared);

TEST_P(RwProcessShared, LockExcludesAcrossForkedProcesses) {
  void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  Shared* s = new (mem) Shared{};
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  ASSERT_EQ(api().init(&s->rw, &attr), 0);
  pthread_rwlockattr_destroy(&attr);
  EXPECT_NE(s->rw.__data.__shared, 0);

  // Held here, seen as held from another process.
  ASSERT_EQ(api().wrlock(&s->rw), 0);
  pid_t probe = fork();
  ASSERT_GE(probe, 0);
  if (probe == 0) _exit(api().tryrdlock(&s->rw) == EBUSY && api().trywrlock(&s->rw) == EBUSY ? 0 : 1);
  int status = 0;
  ASSERT_EQ(waitpid(probe, &status, 0), probe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(api().unlock(&s->rw), 0);

  constexpr int kProcesses = 3;
  constexpr int kOps = 20000;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int bad = 0;
      for (int i = 0; i < kOps; ++i) {
        if (i % 4 == 0) {
          if (api().wrlock(&s->rw) != 0) bad = 1;
          if (s->a != s->b) ++s->violations;
          ++s->a;
          ++s->b;
        } else {
          if (api().rdlock(&s->rw) != 0) bad = 1;
          if (s->a != s->b) bad = 1;
        }
        if (api().unlock(&s->rw) != 0) bad = 1;
      }
      _exit(bad);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(s->a, long(kProcesses) * kOps / 4);
  EXPECT_EQ(s->b, s->a);
  EXPECT_EQ(s->violations, 0);
  EXPECT_EQ(api().destroy(&s->rw), 0);
  munmap(mem, sizeof(Shared));
}

}  // namespace
