// Runs an A/B: every arm once per round, in the same order each round
// (A B C A B C ...), warm-up rounds first and not counted, each run's
// figure read as it finishes.
//
// A run is either a plain command (the arm's environment, wall time around
// it), or a server and a load: the server is started under the arm, waited
// for until ready, the load run against it without any preload (its wall
// time is the run's), and the server stopped by its PID. Per run, these
// placeholders are filled in (in the command's arguments, or in the
// --server, --load and --health strings):
//   {json}  a fresh path for the load's JSON summary (also $PARKLOCK_AB_JSON)
//   {port}  a free port on 127.0.0.1, for the server to listen on
//   {url}   the server's address: the URL from its "listening on URL" line,
//           else http://127.0.0.1:{port} (also $PARKLOCK_AB_URL)
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ab_arms.h"
#include "ab_results.h"
#include "metric.h"

namespace parklock::launcher {

struct Workload {
  std::vector<std::string> command;  // a plain command; empty with a server
  std::optional<std::string> server;  // shell command lines
  std::optional<std::string> load;
  std::optional<std::string> health;  // see ServerSpec::health
  std::chrono::milliseconds timeout{600'000};       // per command or load
  std::chrono::milliseconds ready_timeout{120'000};  // server start
  std::chrono::milliseconds grace{10'000};           // SIGTERM to SIGKILL
};

struct AbPlan {
  Workload workload;
  std::vector<Arm> arms;
  std::string baseline;
  int runs = 5;
  int warmup = 1;
  bool same_output = false;  // every run's stdout must be the first one's
  std::string library;        // libparklock.so
  std::filesystem::path work_dir;  // each run's output files
};

// Throws UsageError when the figure is not in a run's output, and
// std::runtime_error when a run fails (non-zero exit, timeout, a server
// that does not come up or dies); the message names the round and arm.
AbResults run_ab(const AbPlan& plan, const Metric& metric, std::ostream& progress);

}  // namespace parklock::launcher
