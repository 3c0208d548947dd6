#include <chrono>
#include <cstdio>
#include <limits>

#include "engine/cli/commands.h"

namespace parklock::engine::cli {
namespace {

const CommandSpec& spec() {
  static const CommandSpec s = [] {
    CommandSpec c{"generate",
                  "Generates text for one prompt and prints it as it streams in; a summary\n"
                  "goes to stderr.",
                  model_options()};
    for (auto& o : engine_options()) c.options.push_back(o);
    c.options.insert(
        c.options.end(),
        {
            {"prompt", "TEXT", "prompt text (BOS is prepended)", "Once upon a time", false},
            {"max-tokens", "N", "tokens to generate at most", "64", false},
            {"temperature", "T", "0 = greedy", "0", false},
            {"top-k", "K", "0 = off", "0", false},
            {"top-p", "P", "nucleus mass in (0, 1]", "1", false},
            {"repetition-penalty", "R", "1 = off", "1", false},
            {"seed", "N", "sampling seed", "0", false},
            {"stop", "TEXT", "stop string", "", true},
            {"lora", "PATH", "LoRA adapter to apply", "", false},
            {"ignore-eos", "", "keep generating past EOS", "", false},
        });
    return c;
  }();
  return s;
}

}  // namespace

int run_generate(std::span<char* const> argv) {
  const ParsedArgs args = parse_args(spec(), argv);
  if (args.flag("help")) {
    std::fputs(usage(spec()).c_str(), stdout);
    return 0;
  }
  const EngineConfig config = engine_config(args);
  Request request;
  SamplingParams& s = request.sampling;
  s.max_tokens = static_cast<int>(args.integer("max-tokens", 1, 1 << 20));
  s.temperature = static_cast<float>(args.real("temperature", 0.0, 100.0));
  s.top_k = static_cast<int>(args.integer("top-k", 0, 1 << 20));
  s.top_p = static_cast<float>(args.real("top-p", 1e-6, 1.0));
  s.repetition_penalty = static_cast<float>(args.real("repetition-penalty", 1e-3, 100.0));
  s.seed = static_cast<uint64_t>(args.integer("seed", 0, std::numeric_limits<int64_t>::max()));
  s.stop = args.all("stop");
  s.ignore_eos = args.flag("ignore-eos");

  auto model = load_model(args);
  Engine engine(*model, config);
  request.prompt = engine.tokenizer().encode(args.str("prompt"), /*add_bos=*/true);
  if (args.has("lora")) {
    engine.adapters().load("cli", args.str("lora"), model->config());
    request.adapter = "cli";
  }
  RequestHandle handle = engine.submit(std::move(request));
  TokenEvent event;
  while (handle->next(&event)) {
    std::fwrite(event.text.data(), 1, event.text.size(), stdout);
    std::fflush(stdout);
  }
  const RequestResult r = handle->wait();
  std::fputc('\n', stdout);
  if (r.reason == FinishReason::kError) {
    std::fprintf(stderr, "parklock-engine generate: %s\n", r.error.c_str());
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
