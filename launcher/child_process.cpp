#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace parklock::launcher {
namespace {

// The process groups of live children, for the signal handler. A fixed
// array of atomics: the handler may only read plain memory and call kill().
constexpr int kMaxLiveChildren = 16;
std::array<std::atomic<pid_t>, kMaxLiveChildren> live_groups{};

void stop_children_and_die(int signal_number) {
  for (auto& group : live_groups) {
    pid_t pid = group.load();
    if (pid > 0) kill(-pid, SIGKILL);
  }
  ::signal(signal_number, SIG_DFL);
  raise(signal_number);
}

// Once per launcher: the signal handlers, and becoming the subreaper of
// what the children start, so that a server's own children, orphaned when
// it is stopped, are reaped here rather than lingering as zombies.
void prepare_parent_once() {
  static bool prepared = false;
  if (prepared) return;
  prepared = true;
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction action {};
  action.sa_handler = stop_children_and_die;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal_number, &action, nullptr);
}

// The A/B has at most a server, a load and gnuplot alive at once; a child
// beyond the table's size would only miss the signal-time cleanup.
void remember_group(pid_t pid) {
  for (auto& group : live_groups) {
    pid_t empty = 0;
    if (group.compare_exchange_strong(empty, pid)) return;
  }
}

void forget_group(pid_t pid) {
  for (auto& group : live_groups) {
    pid_t expected = pid;
    if (group.compare_exchange_strong(expected, 0)) return;
  }
}

ExitStatus decode(int wait_status) {
  ExitStatus status;
  if (WIFSIGNALED(wait_status)) status.signal = WTERMSIG(wait_status);
  else status.code = WEXITSTATUS(wait_status);
  return status;
}

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class SpawnAttributes {
 public:
  SpawnAttributes() { posix_spawnattr_init(&attributes_); }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attributes_); }
  posix_spawnattr_t* get() { return &attributes_; }

 private:
  posix_spawnattr_t attributes_;
};

}  // namespace

std::string ExitStatus::describe() const {
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit status " + std::to_string(code);
}

ChildProcess::ChildProcess(const ChildSpec& spec) {
  prepare_parent_once();
  SpawnActions actions;
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC;
  posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, spec.stdout_path.c_str(), kFlags, 0644);
  posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, spec.stderr_path.c_str(), kFlags, 0644);
  // Its own process group, so that stopping it reaches whatever it started
  // (a shell's children), and default signal handling whatever ours is.
  SpawnAttributes attributes;
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(attributes.get(), &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(attributes.get(), &none);
  posix_spawnattr_setpgroup(attributes.get(), 0);
  posix_spawnattr_setflags(attributes.get(),
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : spec.environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  int error = posix_spawnp(&pid_, argv[0], actions.get(), attributes.get(), argv.data(), envp.data());
  if (error != 0) throw std::runtime_error("cannot run '" + spec.argv[0] + "': " + std::strerror(error));
  remember_group(pid_);
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    forget_group(pid_);
    throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(errno));
  }
}

ChildProcess::~ChildProcess() {
  if (!status_) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  forget_group(pid_);
  close(pidfd_);
}

std::optional<ExitStatus> ChildProcess::poll() { return wait_for(std::chrono::milliseconds(0)); }

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  struct pollfd ready = {pidfd_, POLLIN, 0};
  int result;
  do {
    result = ::poll(&ready, 1, static_cast<int>(timeout.count()));
  } while (result < 0 && errno == EINTR);
  if (result <= 0) return std::nullopt;
  int wait_status = 0;
  if (waitpid(pid_, &wait_status, 0) != pid_) throw std::runtime_error("waitpid failed");
  status_ = decode(wait_status);
  return status_;
}

ExitStatus ChildProcess::stop(std::chrono::milliseconds grace) {
  auto status = poll();
  if (!status) {
    kill(-pid_, SIGTERM);
    status = wait_for(grace);
  }
  // Whatever is left in its group (a shell's children, a process that
  // ignored SIGTERM) is killed, and waited for until the group is gone,
  // so nothing it started outlives the stop.
  kill(-pid_, SIGKILL);
  if (!status) status = wait_for(std::chrono::milliseconds(-1));
  auto deadline = std::chrono::steady_clock::now() + grace + std::chrono::seconds(5);
  while (kill(-pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
    while (waitpid(-pid_, nullptr, WNOHANG) > 0) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return *status;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tail_of_file(const std::filesystem::path& path, int lines) {
  std::string text = read_file(path);
  size_t start = text.size();
  if (start > 0 && text[start - 1] == '\n') --start;
  for (int seen = 0; start > 0; --start)
    if (text[start - 1] == '\n' && ++seen == lines) break;
  return text.substr(start);
}

}  // namespace parklock::launcher
