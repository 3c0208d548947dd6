// The HTTP API of `parklock-engine serve` through real HTTP clients: every
// endpoint, streaming and not, errors, LoRA by model name, the API key, and
// greedy/seeded output equal to `parklock-engine generate`.
#include <gtest/gtest.h>

#include "server_test_util.h"

namespace parklock::engine::testing {
namespace {

class ServerApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const ModelFiles& f = ModelFiles::get();
    // The CPU backend, which applies LoRA adapters, on any machine.
    server_ = new ServerProcess({"--model", "tiny=" + f.model, "--lora", "ad=" + f.lora, "--device", "cpu",
                                 "--threads", "2", "--max-body-bytes", "65536"});
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->stop(), 0) << "serve must exit cleanly on SIGTERM";
    delete server_;
  }
  static ServerProcess* server_;
};
ServerProcess* ServerApi::server_ = nullptr;

TEST_F(ServerApi, HealthAndModels) {
  httplib::Client http(server_->url());
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = http.Get("/v1/models");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  const json m = json::parse(models->body);
  ASSERT_EQ(m["data"].size(), 2u);
  EXPECT_EQ(m["data"][0]["id"], "ad");
  EXPECT_EQ(m["data"][0]["parent"], "tiny");
  EXPECT_EQ(m["data"][1]["id"], "tiny");
  EXPECT_EQ(m["data"][1]["max_model_len"], 1024);
}

TEST_F(ServerApi, StreamedAndWholeCompletionsAgree) {
  CompletionClient client(server_->url());
  const CompletionOutcome whole = client.post("/v1/completions", completion("tiny", "Hello", 12, false));
  ASSERT_TRUE(whole.ok()) << whole.error;
  const json body = json::parse(whole.body);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 6);  // BOS + 5 bytes
  EXPECT_EQ(body["usage"]["completion_tokens"], 12);
  EXPECT_EQ(body["usage"]["total_tokens"], 18);

  json req = completion("tiny", "Hello", 12, true);
  req["stream_options"] = {{"include_usage", true}};
  const CompletionOutcome streamed = client.post("/v1/completions", req);
  ASSERT_TRUE(streamed.ok()) << streamed.error;
  EXPECT_TRUE(streamed.done);
  EXPECT_EQ(streamed.text, whole.text);
  EXPECT_EQ(streamed.finish_reason, "length");
  EXPECT_EQ(streamed.completion_tokens, 12);
  ASSERT_GE(streamed.events.size(), 2u);
  EXPECT_TRUE(streamed.events.back()["choices"].empty());  // the usage chunk is last
  EXPECT_EQ(streamed.events.front()["object"], "text_completion");

  // Without include_usage, no usage chunk.
  const CompletionOutcome plain = client.post("/v1/completions", completion("tiny", "Hello", 12, true));
  ASSERT_TRUE(plain.ok()) << plain.error;
  EXPECT_EQ(plain.completion_tokens, -1);
  EXPECT_EQ(plain.text, whole.text);
}

TEST_F(ServerApi, ChatCompletions) {
  CompletionClient client(server_->url());
  json req = {{"model", "tiny"},
              {"messages", {{{"role", "system"}, {"content", "be brief"}}, {{"role", "user"}, {"content", "hi"}}}},
              {"max_tokens", 6},
              {"temperature", 0},
              {"ignore_eos", true}};
  const CompletionOutcome whole = client.post("/v1/chat/completions", req);
  ASSERT_TRUE(whole.ok()) << whole.error;
  const json body = json::parse(whole.body);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  req["stream"] = true;
  const CompletionOutcome streamed = client.post("/v1/chat/completions", req);
  ASSERT_TRUE(streamed.ok()) << streamed.error;
  EXPECT_EQ(streamed.text, body["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(streamed.events.front()["object"], "chat.completion.chunk");
  EXPECT_EQ(streamed.events.front()["choices"][0]["delta"]["role"], "assistant");
}

// What `generate` prints for the same prompt, settings and seed, on the
// server's backend.
std::string generate_text(const std::vector<std::string>& args) {
  std::string command =
      std::string(PARKLOCK_ENGINE_BIN) + " generate --device cpu --model " + ModelFiles::get().model;
  for (const auto& a : args) command += " '" + a + "'";
  int status = 0;
  std::string out = run_command(command + " 2>/dev/null", &status);
  EXPECT_EQ(status, 0) << command;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST_F(ServerApi, OutputEqualsGenerateCommand) {
  CompletionClient client(server_->url());
  const CompletionOutcome greedy = client.post("/v1/completions", completion("tiny", "Once upon", 20, true));
  ASSERT_TRUE(greedy.ok()) << greedy.error;
  EXPECT_EQ(greedy.text, generate_text({"--prompt", "Once upon", "--max-tokens", "20", "--ignore-eos"}));

  json seeded = completion("tiny", "The cat", 20, false);
  seeded["temperature"] = 0.8;
  seeded["top_k"] = 20;
  seeded["seed"] = 5;
  const CompletionOutcome sampled = client.post("/v1/completions", seeded);
  ASSERT_TRUE(sampled.ok()) << sampled.error;
  EXPECT_EQ(sampled.text, generate_text({"--prompt", "The cat", "--max-tokens", "20", "--ignore-eos",
                                         "--temperature", "0.8", "--top-k", "20", "--seed", "5"}));

  // A LoRA served by name runs on the base model with its adapter.
  const CompletionOutcome adapted = client.post("/v1/completions", completion("ad", "Once upon", 20, false));
  ASSERT_TRUE(adapted.ok()) << adapted.error;
  EXPECT_EQ(adapted.text, generate_text({"--prompt", "Once upon", "--max-tokens", "20", "--ignore-eos",
                                         "--lora", ModelFiles::get().lora}));
  EXPECT_NE(adapted.text, greedy.text);
}

// The n-th UTF-8 character of `text` (the output may hold U+FFFD).
std::string nth_character(const std::string& text, int n) {
  size_t begin = 0;
  for (int i = 0; i <= n; ++i) {
    size_t end = begin + 1;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    if (i == n) return text.substr(begin, end - begin);
    begin = end;
  }
  return "";
}

TEST_F(ServerApi, StopStringsEndTheOutput) {
  CompletionClient client(server_->url());
  const CompletionOutcome full = client.post("/v1/completions", completion("tiny", "abc", 16, false));
  ASSERT_TRUE(full.ok());
  const std::string stop = nth_character(full.text, 3);
  ASSERT_FALSE(stop.empty()) << full.text;
  json req = completion("tiny", "abc", 16, true);
  req["stop"] = stop;
  req["stream_options"] = {{"include_usage", true}};
  const CompletionOutcome stopped = client.post("/v1/completions", req);
  ASSERT_TRUE(stopped.ok()) << stopped.error;
  EXPECT_EQ(stopped.finish_reason, "stop");
  EXPECT_EQ(full.text.find(stop), stopped.text.size());
  EXPECT_EQ(full.text.substr(0, stopped.text.size()), stopped.text);
  // Usage counts the tokens through the one that completed the stop string,
  // not those the engine made before the cancel reached it: the same count,
  // streamed or not, as `generate` reports.
  EXPECT_GT(stopped.completion_tokens, 0);
  EXPECT_LT(stopped.completion_tokens, 16);
  req["stream"] = false;
  const CompletionOutcome whole = client.post("/v1/completions", req);
  ASSERT_TRUE(whole.ok()) << whole.error;
  EXPECT_EQ(whole.finish_reason, "stop");
  EXPECT_EQ(whole.text, stopped.text);
  EXPECT_EQ(whole.completion_tokens, stopped.completion_tokens);
  int status = 0;
  const std::string summary =
      run_command(std::string(PARKLOCK_ENGINE_BIN) + " generate --model " + ModelFiles::get().model +
                      " --prompt abc --max-tokens 16 --ignore-eos --stop '" + stop + "' 2>&1 >/dev/null",
                  &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(summary.find("[" + std::to_string(whole.completion_tokens) + " tokens, finish: stop"),
            std::string::npos)
      << summary;
}

struct BadCase {
  const char* name;
  std::string body;
  int status;
  const char* code;
};

TEST_F(ServerApi, BadRequestsGetOpenAiErrors) {
  const BadCase cases[] = {
      {"malformed JSON", R"({"model": "tiny", "prompt": )", 400, "invalid_json"},
      {"not an object", R"(["tiny"])", 400, "invalid_json"},
      {"duplicate key", R"({"model": "tiny", "model": "x", "prompt": "a"})", 400, "invalid_json"},
      {"missing model", R"({"prompt": "a"})", 400, "missing_field"},
      {"missing prompt", R"({"model": "tiny"})", 400, "missing_field"},
      {"model not a string", R"({"model": 3, "prompt": "a"})", 400, "invalid_type"},
      {"max_tokens a string", R"({"model": "tiny", "prompt": "a", "max_tokens": "9"})", 400, "invalid_type"},
      {"max_tokens zero", R"({"model": "tiny", "prompt": "a", "max_tokens": 0})", 400, "invalid_value"},
      {"temperature too high", R"({"model": "tiny", "prompt": "a", "temperature": 9})", 400, "invalid_value"},
      {"top_p zero", R"({"model": "tiny", "prompt": "a", "top_p": 0})", 400, "invalid_value"},
      {"n = 2", R"({"model": "tiny", "prompt": "a", "n": 2})", 400, "unsupported_value"},
      {"stream not a bool", R"({"model": "tiny", "prompt": "a", "stream": "yes"})", 400, "invalid_type"},
      {"empty prompt", R"({"model": "tiny", "prompt": ""})", 400, "invalid_value"},
      {"token outside vocabulary", R"({"model": "tiny", "prompt": [1, 5000]})", 400, "invalid_value"},
      {"prompt beyond context", R"({"model": "tiny", "prompt": ")" + std::string(1100, 'x') + R"("})", 400,
       "context_length_exceeded"},
      {"max_tokens cannot fit", R"({"model": "tiny", "prompt": "a", "max_tokens": 1024})", 400,
       "context_length_exceeded"},
      {"bad chat role", R"({"model": "tiny", "messages": [{"role": "bot", "content": "a"}]})", 400, "invalid_value"},
      {"unknown model", R"({"model": "nope", "prompt": "a"})", 404, "model_not_found"},
      {"body over the limit", R"({"model": "tiny", "prompt": ")" + std::string(70000, 'x') + R"("})", 413,
       "payload_too_large"},
  };
  httplib::Client http(server_->url());
  for (const BadCase& c : cases) {
    const char* path = std::string(c.name) == "bad chat role" ? "/v1/chat/completions" : "/v1/completions";
    auto res = http.Post(path, c.body, "application/json");
    ASSERT_TRUE(res) << c.name;
    EXPECT_EQ(res->status, c.status) << c.name << ": " << res->body;
    json err;
    ASSERT_NO_THROW(err = json::parse(res->body)) << c.name << ": " << res->body;
    ASSERT_TRUE(err["error"].is_object()) << c.name;
    EXPECT_EQ(err["error"]["code"], c.code) << c.name << ": " << res->body;
    EXPECT_TRUE(err["error"]["message"].is_string()) << c.name;
    EXPECT_TRUE(err["error"]["type"].is_string()) << c.name;
  }
  auto route = http.Get("/v2/nothing");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 404);
  EXPECT_TRUE(json::parse(route->body)["error"].is_object());
  // The server still answers after all that.
  CompletionClient client(server_->url());
  EXPECT_TRUE(client.post("/v1/completions", completion("tiny", "ok", 4, true)).ok());
}

TEST(ServerAuth, ApiKeyGuardsV1Routes) {
  ServerProcess server({"--config", "tiny", "--api-key", "sekrit"});
  httplib::Client http(server.url());
  auto none = http.Get("/v1/models");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(json::parse(none->body)["error"]["code"], "invalid_api_key");
  auto wrong = http.Get("/v1/models", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto health = http.Get("/health");  // not under /v1: no key needed
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  CompletionClient keyed(server.url(), "sekrit");
  EXPECT_TRUE(keyed.post("/v1/completions", completion("tiny", "a", 3, true)).ok());
  CompletionClient unkeyed(server.url());
  EXPECT_EQ(unkeyed.post("/v1/completions", completion("tiny", "a", 3, true)).status, 401);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace parklock::engine::testing
