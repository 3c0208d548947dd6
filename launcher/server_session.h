// A server for one A/B run: started from a shell command line, waited for
// until it is ready (its health URL answers, or it prints "listening on
// URL"), checked to be still up after the load, and stopped by its PID.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "child_process.h"

namespace parklock::launcher {

struct ServerSpec {
  std::string command;  // run by /bin/sh -c
  // Ready when this answers: http://HOST:PORT/PATH with status 200, or
  // tcp://HOST:PORT accepting a connection. May contain {url}, the address
  // the server printed. Without it, ready when the server prints
  // "listening on URL".
  std::optional<std::string> health;
  bool wants_listening_url = false;  // wait for "listening on URL" even with a health URL
  std::chrono::milliseconds ready_timeout{120'000};
  std::chrono::milliseconds grace{10'000};  // SIGTERM to SIGKILL
  Environment environment;
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
};

class ServerSession {
 public:
  // Starts the server and returns once it is ready. Throws
  // std::runtime_error, with the tail of its output, when it exits first or
  // is not ready within the timeout (it is then stopped).
  explicit ServerSession(const ServerSpec& spec);

  // The URL from its "listening on URL" line; empty when it was not waited for.
  const std::string& listening_url() const { return listening_url_; }

  // Throws std::runtime_error when the server has exited.
  void check_running();

  // SIGTERM, then SIGKILL after the grace period.
  ExitStatus stop();

 private:
  std::string output_tail() const;

  ServerSpec spec_;
  std::unique_ptr<ChildProcess> process_;
  std::string listening_url_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound and released).
int pick_free_port();

}  // namespace parklock::launcher
