#include "settings.h"

#include <cstdint>
#include <cstring>

#include "lock_mode.h"
#include "raw_log.h"

namespace parklock {
namespace {

// A decimal in [min, max], the whole string; false otherwise.
bool parse_int(const char* text, long min, long max, int* out) {
  if (!*text) return false;
  long value = 0;
  for (const char* p = text; *p; ++p) {
    if (*p < '0' || *p > '9') return false;
    value = value * 10 + (*p - '0');
    if (value > max) return false;
  }
  if (value < min) return false;
  *out = int(value);
  return true;
}

void warn(const char* name, const char* value, const char* expected, const char* fallback) {
  raw_log("parklock: ", name, "='", value, "' is not ", expected, "; ", fallback);
}

bool copy_text(const char* name, const char* value, char (&out)[Settings::kMaxText]) {
  size_t n = strlen(value);
  if (n >= Settings::kMaxText) {
    warn(name, value, "a path shorter than 256 bytes", "ignored");
    return false;
  }
  memcpy(out, value, n + 1);
  return true;
}

void read_int(GetenvFn getenv, const char* name, long min, long max, const char* expected, int* out) {
  const char* value = getenv(name);
  if (!value) return;
  if (!parse_int(value, min, max, out)) warn(name, value, expected, "using the default");
}

// "[host:]port" -> "host:port", the host 127.0.0.1 when absent.
void read_metrics(GetenvFn getenv, Settings& s) {
  const char* value = getenv("PARKLOCK_METRICS");
  if (!value || !*value) return;
  const char* colon = strrchr(value, ':');
  const char* port_text = colon ? colon + 1 : value;
  int port = 0;
  if (!parse_int(port_text, 0, 65535, &port) || (colon && colon == value) ||
      strlen(value) + 16 >= Settings::kMaxText) {
    warn("PARKLOCK_METRICS", value, "[host:]port with a port in 0..65535", "no metrics endpoint");
    return;
  }
  if (colon) {
    memcpy(s.metrics, value, strlen(value) + 1);
  } else {
    static const char kLoopback[] = "127.0.0.1:";
    memcpy(s.metrics, kLoopback, sizeof kLoopback - 1);
    memcpy(s.metrics + sizeof kLoopback - 1, value, strlen(value) + 1);
  }
}

}  // namespace

Settings read_settings(GetenvFn getenv) {
  Settings s;
  read_metrics(getenv, s);
  if (const char* v = getenv("PARKLOCK_REPORT"); v && *v) copy_text("PARKLOCK_REPORT", v, s.report);
  if (const char* v = getenv("PARKLOCK_DUMP"); v && *v) copy_text("PARKLOCK_DUMP", v, s.dump);
  if (const char* v = getenv("PARKLOCK_RECORD"); v && *v) {
    if (!strcmp(v, "1")) s.record_only = true;
    else if (strcmp(v, "0")) warn("PARKLOCK_RECORD", v, "0 or 1", "not recording");
  }
  // The mode itself is read at the first lock call (lock_mode.h); a value
  // other than glibc or parklock means parklock.
  if (const char* v = getenv("PARKLOCK_LOCKS"); v && *v && strcmp(v, "glibc") && strcmp(v, "parklock"))
    warn("PARKLOCK_LOCKS", v, "parklock or glibc", "using parklock");
  s.observe_only = observe_only();
  read_int(getenv, "PARKLOCK_STACK_DEPTH", 1, 32, "a number in 1..32", &s.stack_depth);
  read_int(getenv, "PARKLOCK_SAMPLE", 1, 1'000'000'000, "a number of 1 or more", &s.sample_every);
  read_int(getenv, "PARKLOCK_TOP", 1, 100'000, "a number of 1 or more", &s.top_k);
  return s;
}

}  // namespace parklock
