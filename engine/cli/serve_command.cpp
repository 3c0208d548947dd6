#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "engine/cli/commands.h"
#include "engine/server/api_server.h"

namespace parklock::engine::cli {
namespace {

struct NamedPath {
  std::string name;
  std::string base;  // LoRA only: the base model's name; empty = the first model
  std::string path;
};

// "NAME=PATH", "PATH" (named after the file), or for --lora "NAME@BASE=PATH".
NamedPath parse_named_path(const std::string& text, const char* option, bool allow_base) {
  NamedPath out;
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    out.path = text;
    out.name = std::filesystem::path(text).stem().string();
  } else {
    out.name = text.substr(0, eq);
    out.path = text.substr(eq + 1);
  }
  if (allow_base) {
    if (const auto at = out.name.find('@'); at != std::string::npos) {
      out.base = out.name.substr(at + 1);
      out.name.resize(at);
    }
  }
  if (out.name.empty() || out.path.empty())
    throw UsageError(std::string(option) + " '" + text + "': expected NAME=PATH");
  return out;
}

// SIGINT and SIGTERM write their number to a pipe that main() reads once
// the server is up. A handler rather than sigwait: threads started before
// main() (OpenBLAS's pool) do not block the signals, so a blocked-signal
// scheme would let the default action kill the process from one of them.
int g_stop_pipe_write = -1;

void on_stop_signal(int signal_number) {
  const unsigned char n = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const ssize_t written = ::write(g_stop_pipe_write, &n, 1);  // async-signal-safe
}

// Returns the pipe's read end.
int install_stop_signals() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot create the signal pipe");
  g_stop_pipe_write = fds[1];
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A client that disconnects mid-stream must fail the write, not kill us.
  signal(SIGPIPE, SIG_IGN);
  return fds[0];
}

// Blocks until SIGINT or SIGTERM (also one that came while loading).
int wait_for_stop_signal(int pipe_read) {
  unsigned char n = 0;
  while (::read(pipe_read, &n, 1) < 0 && errno == EINTR) {
  }
  return n;
}

}  // namespace

int run_serve(int argc, char** argv) {
  CLI::App app(
      "Serves models over an OpenAI-compatible HTTP API (/v1/completions,\n"
      "/v1/chat/completions, /v1/models, /health, /metrics). Prints\n"
      "'listening on http://HOST:PORT' once every model is loaded; stops on SIGINT/SIGTERM\n"
      "(one that comes while loading stops it right after).",
      "serve");
  std::vector<std::string> model_args, lora_args;
  std::string config_name;
  uint64_t weights_seed = 1;
  EngineOptions engine_options;
  server::ServerOptions server_options;
  app.add_option("--model", model_args,
                 "NAME=PATH of a safetensors checkpoint (repeatable; PATH alone: named after the file)");
  app.add_option("--config", config_name,
                 "also serve synthetic weights of this shape, under its name (tiny, small, tinyllama-1.1b)");
  app.add_option("--weights-seed", weights_seed, "seed of the --config weights")->capture_default_str();
  app.add_option("--lora", lora_args,
                 "NAME=PATH of a LoRA adapter, served as model NAME on the first model "
                 "(NAME@BASE=PATH: on model BASE); repeatable");
  add_engine_options(app, engine_options);
  app.add_option("--host", server_options.host, "address to listen on")->capture_default_str();
  app.add_option("--port", server_options.port, "port; 0 picks a free one")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  app.add_option("--threads-http", server_options.http_threads,
                 "HTTP worker threads (connections served at once)")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--api-key", server_options.api_key, "require 'Authorization: Bearer KEY' on /v1/*");
  app.add_option("--max-queue", server_options.max_queue,
                 "requests per model admitted beyond --max-running; more get 429")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  app.add_option("--max-body-bytes", server_options.max_body_bytes, "larger request bodies get 413")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))->capture_default_str();
  app.add_option("--request-timeout-s", server_options.request_timeout_s,
                 "a request not fully received this long after its first byte is cut off")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;
  if (model_args.empty() && config_name.empty())
    throw UsageError("give at least one --model NAME=PATH or --config NAME");

  std::vector<NamedPath> models, loras;
  for (const auto& m : model_args) models.push_back(parse_named_path(m, "--model", false));
  for (const auto& l : lora_args) loras.push_back(parse_named_path(l, "--lora", true));
  const EngineConfig config = engine_config(engine_options);
  const Device device = resolve_device(app, engine_options.device);

  const int stop_pipe = install_stop_signals();
  server::ModelRouter router;
  server::ApiServer api(router, server_options);
  const int port = api.bind();
  // Listen while loading, so /health can say 503 until the models are in.
  std::thread http_thread([&api] { api.serve(); });
  auto stop_http = [&] {
    api.stop();
    http_thread.join();
  };
  try {
    for (const NamedPath& m : models)
      router.add_model(m.name, make_backend(device, LoadedModel::from_checkpoint(m.path)), config);
    if (!config_name.empty())
      router.add_model(config_name,
                       make_backend(device, LoadedModel::synthetic(model_config_by_name(config_name), weights_seed)),
                       config);
    const std::string first = models.empty() ? config_name : models.front().name;
    for (const NamedPath& l : loras) router.add_lora(l.name, l.base.empty() ? first : l.base, l.path);
  } catch (...) {
    stop_http();
    throw;
  }
  api.set_ready();
  std::printf("listening on http://%s:%d\n", server_options.host.c_str(), port);
  std::fflush(stdout);

  const int signal_number = wait_for_stop_signal(stop_pipe);
  std::fprintf(stderr, "parklock-engine serve: %s, stopping\n", strsignal(signal_number));
  stop_http();
  router.clear();
  return 0;
}

}  // namespace parklock::engine::cli
