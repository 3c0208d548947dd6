#include <chrono>
#include <cstdio>

#include "engine/cli/commands.h"

namespace parklock::engine::cli {

int run_generate(int argc, char** argv) {
  CLI::App app("Generates text for one prompt and prints it as it streams in; a summary\n"
               "goes to stderr.",
               "generate");
  ModelSource source;
  EngineOptions engine_options;
  add_model_source_options(app, source);
  add_engine_options(app, engine_options);
  std::string prompt = "Once upon a time";
  std::string lora;
  Request request;
  SamplingParams& s = request.sampling;
  s.max_tokens = 64;
  uint64_t seed = 0;
  app.add_option("--prompt", prompt, "prompt text (BOS is prepended)")->capture_default_str();
  app.add_option("--max-tokens", s.max_tokens, "tokens to generate at most")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app.add_option("--temperature", s.temperature, "0 = greedy")
      ->check(CLI::Range(0.0f, 100.0f))->capture_default_str();
  app.add_option("--top-k", s.top_k, "0 = off")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  app.add_option("--top-p", s.top_p, "nucleus mass in (0, 1]")
      ->check(CLI::Range(1e-6f, 1.0f))->capture_default_str();
  app.add_option("--repetition-penalty", s.repetition_penalty, "1 = off")
      ->check(CLI::Range(1e-3f, 100.0f))->capture_default_str();
  app.add_option("--seed", seed, "sampling seed")->capture_default_str();
  app.add_option("--stop", s.stop, "stop string (repeatable)");
  app.add_option("--lora", lora, "LoRA adapter to apply");
  app.add_flag("--ignore-eos", s.ignore_eos, "keep generating past EOS");
  if (auto rc = parse_command_line(app, argc, argv)) return *rc;
  s.seed = seed;

  const EngineConfig config = engine_config(engine_options);
  auto model = load_model(source, resolve_device(app, engine_options.device));
  Engine engine(*model, config);
  request.prompt = engine.tokenizer().encode(prompt, /*add_bos=*/true);
  if (!lora.empty()) {
    engine.adapters().load("cli", lora, model->config());
    request.adapter = "cli";
  }
  OutputReader reader(engine, std::move(request));
  OutputEvent event;
  bool wrote = false;
  while (reader.next(&event)) {
    std::fwrite(event.text.data(), 1, event.text.size(), stdout);
    std::fflush(stdout);
    wrote = wrote || !event.text.empty();
  }
  const RequestResult r = reader.finish();
  // End a line of text we wrote; an error writes nothing to stdout.
  if (wrote) std::fputc('\n', stdout);
  if (r.reason == FinishReason::kError) {
    std::fprintf(stderr, "parklock-engine generate: error: %s\n", r.error.c_str());
    return 1;
  }
  using Ms = std::chrono::duration<double, std::milli>;
  std::fprintf(stderr, "[%zu tokens, finish: %s, first token %.1f ms, total %.1f ms]\n",
               r.tokens.size(), finish_reason_name(r.reason),
               Ms(r.first_token_time - r.submit_time).count(),
               Ms(r.finish_time - r.submit_time).count());
  return 0;
}

}  // namespace parklock::engine::cli
