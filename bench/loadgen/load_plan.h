// What parklock-loadgen sends: how many requests, how they arrive, and
// what each asks for.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace parklock::loadgen {

// A length fixed ("N") or drawn uniformly per request from [min, max] ("A:B").
struct LengthRange {
  int min = 0;
  int max = 0;
  int draw(std::mt19937_64& rng) const;
};
// Throws std::invalid_argument for anything but N or A:B with 1 <= A <= B.
LengthRange parse_length_range(const std::string& text);

struct LoadPlan {
  std::string url;    // http://HOST:PORT
  std::string model;
  std::string api_key;
  // Closed loop: `clients` concurrent clients, each sending its next request
  // when the last one ends. Open loop (rate > 0): Poisson arrivals at
  // `rate` requests/s, at most `max_concurrency` in flight.
  int clients = 1;
  double rate = 0;
  int max_concurrency = 256;
  int requests = 100;
  std::optional<double> duration_s;  // stop sending new requests after this long
  LengthRange prompt_len{64, 64};    // prompt bytes (one token each with the byte tokenizer)
  LengthRange max_tokens{32, 32};
  bool stream = true;
  bool chat = false;
  uint64_t seed = 1;
};

}  // namespace parklock::loadgen
