// A program that forks and execs under the preload, for the tests that the
// exporter stays in the process that started it:
//
//   forks_and_execs STDERR_DIR   the parent
//   forks_and_execs --exec-child the program exec'd again by the parent
//
// The parent makes known contention on a named mutex ("parent_lock"),
// prints "ready" and waits for a line on its standard input (the test
// scrapes it). Then, one at a time and each waited for:
//   1. a fork child without exec makes its own contention ("child_lock",
//      from two threads of its own) and calls exit(0);
//   2. a fork child execs /bin/true;
//   3. a fork child execs this program with --exec-child.
// The exec'd children's standard error goes to STDERR_DIR/true.err and
// STDERR_DIR/self.err. The parent prints each child's exit, whether the exit
// report (PARKLOCK_REPORT, when a path) existed after child 1, then "done",
// and runs until its standard input closes (the test scrapes it again).
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "parked_rounds.h"
#include "parklock.h"

namespace {

constexpr int kParentWaits = 5;
constexpr int kChildWaits = 7;

pthread_mutex_t g_parent_lock = PTHREAD_MUTEX_INITIALIZER;

// Every round's lock call parks (parked_rounds.h).
int contend(pthread_mutex_t* m, int waits) {
  return parked_rounds::run(m, waits, [m](int) {
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
  });
}

void wait_for_line() {
  char line[64];
  if (!fgets(line, sizeof line, stdin)) std::printf("stdin closed\n");
}

// "exit N", "signal N", or "not waited for".
std::string wait_child(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return "not waited for";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  return "signal " + std::to_string(WTERMSIG(status));
}

void redirect_stderr(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(120);
  close(fd);
}

// The child of step 1: the fork leaves it one thread; it starts two more.
[[noreturn]] void fork_child_contends() {
  pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;
  PARKLOCK_SET_NAME(&child_lock, "child_lock");
  const int late = contend(&child_lock, kChildWaits);
  pthread_mutex_destroy(&child_lock);
  std::printf("fork child: %d waits, late %d\n", kChildWaits, late);
  std::fflush(stdout);
  exit(late == 0 ? 0 : 1);  // exit(), not _exit(): its atexit handlers run
}

pid_t spawn_exec(const char* stderr_path, const char* program, const char* arg) {
  pid_t pid = fork();
  if (pid == 0) {
    redirect_stderr(stderr_path);
    execl(program, program, arg, static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

bool file_exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && !strcmp(argv[1], "--exec-child")) {
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    const int late = contend(&lock, 3);
    std::printf("exec child: late %d\n", late);
    return late == 0 ? 0 : 1;
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s STDERR_DIR | --exec-child\n", argv[0]);
    return 2;
  }
  const std::string stderr_dir = argv[1];
  PARKLOCK_SET_NAME(&g_parent_lock, "parent_lock");
  const int late = contend(&g_parent_lock, kParentWaits);
  std::printf("pid %d\nparent: %d waits, late %d\nready\n", int(getpid()), kParentWaits, late);
  std::fflush(stdout);  // before any fork: a child's exit flushes its copy
  wait_for_line();

  pid_t pid = fork();
  if (pid == 0) fork_child_contends();
  std::printf("fork child: %s\n", wait_child(pid).c_str());
  const char* report = getenv("PARKLOCK_REPORT");
  if (report && strcmp(report, "stderr"))
    std::printf("report after the fork child: %s\n", file_exists(report) ? "present" : "absent");
  std::fflush(stdout);

  pid = spawn_exec((stderr_dir + "/true.err").c_str(), "/bin/true", nullptr);
  std::printf("exec /bin/true: %s\n", wait_child(pid).c_str());
  std::fflush(stdout);
  pid = spawn_exec((stderr_dir + "/self.err").c_str(), "/proc/self/exe", "--exec-child");
  std::printf("exec self: %s\n", wait_child(pid).c_str());
  std::printf("done\n");
  std::fflush(stdout);

  alarm(120);
  char buffer[64];
  while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
  }
  return 0;
}
