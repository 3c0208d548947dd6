#include "ab_runner.h"

#include <cstdio>

#include "child_process.h"
#include "placeholders.h"
#include "server_session.h"
#include "usage_error.h"

namespace parklock::launcher {
namespace {

using Clock = std::chrono::steady_clock;

struct RunContext {
  const AbPlan& plan;
  const Arm& arm;
  std::string tag;  // "round-2.parklock", names the run's files
};

std::filesystem::path file_of(const RunContext& run, const char* suffix) {
  return run.plan.work_dir / (run.tag + suffix);
}

// Runs one command to completion within the timeout; its wall time.
double run_to_completion(const ChildSpec& spec, std::chrono::milliseconds timeout, const char* what) {
  auto start = Clock::now();
  ChildProcess process(spec);
  auto status = process.wait_for(timeout);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!status) {
    process.stop(std::chrono::seconds(2));
    throw std::runtime_error(std::string(what) + " did not finish within " +
                             std::to_string(timeout.count() / 1000) + " s");
  }
  if (!status->succeeded())
    throw std::runtime_error(std::string(what) + " failed (" + status->describe() + "); its output ends:\n" +
                             tail_of_file(spec.stdout_path) + tail_of_file(spec.stderr_path));
  return seconds;
}

RunOutput run_plain(const RunContext& run, const Environment& base) {
  RunOutput output{0, file_of(run, ".stdout"), file_of(run, ".stderr"), file_of(run, ".json")};
  Placeholders values = {{"json", output.loadgen_json_path.string()}};
  ChildSpec spec{{}, environment_for(run.arm, base, run.plan.library), output.stdout_path, output.stderr_path};
  for (const auto& arg : run.plan.workload.command) spec.argv.push_back(substitute(arg, values));
  set_variable(spec.environment, "PARKLOCK_AB_JSON", output.loadgen_json_path.string());
  output.wall_seconds = run_to_completion(spec, run.plan.workload.timeout, "the command");
  return output;
}

RunOutput run_server_and_load(const RunContext& run, const Environment& base) {
  const auto& workload = run.plan.workload;
  RunOutput output{0, file_of(run, ".load.stdout"), file_of(run, ".load.stderr"), file_of(run, ".json")};
  std::string port = std::to_string(pick_free_port());
  Placeholders values = {{"port", port}, {"json", output.loadgen_json_path.string()}};

  // {url}: a server given {port} is at http://127.0.0.1:{port}; any other
  // says where it is in its "listening on URL" line, waited for when the
  // load or the health check need the URL.
  bool port_given = mentions(*workload.server, "port");
  if (port_given) values["url"] = "http://127.0.0.1:" + port;
  bool url_needed = mentions(*workload.load, "url") || (workload.health && mentions(*workload.health, "url"));

  ServerSpec server_spec;
  server_spec.command = substitute(*workload.server, values);
  if (workload.health) server_spec.health = substitute(*workload.health, values);
  server_spec.wants_listening_url = url_needed && !port_given;
  server_spec.ready_timeout = workload.ready_timeout;
  server_spec.grace = workload.grace;
  server_spec.environment = environment_for(run.arm, base, run.plan.library);
  server_spec.stdout_path = file_of(run, ".server.stdout");
  server_spec.stderr_path = file_of(run, ".server.stderr");
  ServerSession server(server_spec);

  if (!port_given)
    values["url"] = server.listening_url().empty() ? "http://127.0.0.1:" + port : server.listening_url();
  const std::string& url = values["url"];
  ChildSpec load{{"/bin/sh", "-c", substitute(*workload.load, values)}, without_preload(base),
                 output.stdout_path, output.stderr_path};
  set_variable(load.environment, "PARKLOCK_AB_JSON", output.loadgen_json_path.string());
  set_variable(load.environment, "PARKLOCK_AB_URL", url);
  try {
    output.wall_seconds = run_to_completion(load, workload.timeout, "the load");
  } catch (const std::runtime_error&) {
    server.check_running();  // a server that died is the story, not the load's failure
    throw;
  }
  server.check_running();
  server.stop();
  return output;
}

void check_same_output(const RunOutput& output, const std::optional<std::string>& first) {
  if (!first) return;
  std::string text = read_file(output.stdout_path);
  if (text == *first) return;
  throw std::runtime_error("its stdout (" + output.stdout_path.string() +
                           ") differs from the first run's (--same-output)");
}

}  // namespace

AbResults run_ab(const AbPlan& plan, const Metric& metric, std::ostream& progress) {
  AbResults results;
  for (const auto& arm : plan.arms) results.arms.push_back(arm.name);
  results.baseline = plan.baseline;
  const auto base = current_environment();
  std::optional<std::string> first_output;
  int total = (plan.warmup + plan.runs) * int(plan.arms.size());
  int done = 0;
  for (int round = 1 - plan.warmup; round <= plan.runs; ++round) {
    bool warmup = round <= 0;
    std::string number = std::to_string(warmup ? round + plan.warmup : round);
    std::string round_name = (warmup ? "warm-up " : "round ") + number;
    for (const auto& arm : plan.arms) {
      RunContext run{plan, arm, (warmup ? "warmup-" : "round-") + number + "." + arm.name};
      try {
        RunOutput output = plan.workload.server ? run_server_and_load(run, base) : run_plain(run, base);
        double value = metric.read(output);
        if (plan.same_output) {
          check_same_output(output, first_output);
          if (!first_output) first_output = read_file(output.stdout_path);
        }
        if (!warmup) results.samples.push_back({round, arm.name, value, output.wall_seconds});
        char line[160];
        std::snprintf(line, sizeof line, "[%*d/%d] %-9s %-10s %.6g\n", int(std::to_string(total).size()), ++done,
                      total, round_name.c_str(), arm.name.c_str(), value);
        progress << line << std::flush;
      } catch (const UsageError& error) {
        throw UsageError(round_name + ", arm " + arm.name + ": " + error.what());
      } catch (const std::exception& error) {
        throw std::runtime_error(round_name + ", arm " + arm.name + ": " + error.what());
      }
    }
  }
  return results;
}

}  // namespace parklock::launcher
