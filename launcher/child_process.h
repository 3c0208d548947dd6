// A child process of the A/B runner: spawned in its own process group with
// its output in files, waited for with a deadline, and stopped by its PID
// (SIGTERM to its group, SIGKILL after a grace period). A ChildProcess that
// is destroyed while its process runs kills the group, and SIGINT/SIGTERM
// to the launcher stop every live child before the launcher dies, so
// nothing is left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "preload.h"

namespace parklock::launcher {

struct ExitStatus {
  int code = 0;    // exit code, when it exited
  int signal = 0;  // the signal that killed it, else 0
  bool succeeded() const { return signal == 0 && code == 0; }
  std::string describe() const;  // "exit status 3", "killed by signal 9 (Killed)"
};

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  Environment environment;
  std::filesystem::path stdout_path;  // created or truncated
  std::filesystem::path stderr_path;
};

class ChildProcess {
 public:
  // Throws std::runtime_error when the command cannot be started.
  explicit ChildProcess(const ChildSpec& spec);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The exit status once the process has exited, without waiting.
  std::optional<ExitStatus> poll();

  // Waits up to `timeout` for the process to exit.
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);

  // SIGTERM to the process group, SIGKILL to it after `grace`; waits for
  // the process. The status of a process that had already exited is kept.
  ExitStatus stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;  // readable once the process has exited
  std::optional<ExitStatus> status_;
};

// The last `lines` lines of a file, for error messages.
std::string tail_of_file(const std::filesystem::path& path, int lines = 20);

// The whole file.
std::string read_file(const std::filesystem::path& path);

}  // namespace parklock::launcher
