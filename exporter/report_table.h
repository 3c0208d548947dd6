// report_table.h: the contention report, a table of the top call-sites by
// total wait, from a dump document (dump_json.h).
//
// The exit report (PARKLOCK_REPORT) and `parklock report DUMP.json` are the
// same function over the same document. Per site: waits, total, mean, p99
// and max wait, kind, lock, and under it the holder sites of the same lock
// that made others wait, with the waiting each caused. p99 is the upper
// bound of its histogram bucket (three buckets a decade), capped at the max.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace parklock {

// Throws std::runtime_error naming what is missing when `dump` is not a
// parklock dump.
std::string render_report(const nlohmann::json& dump, int top_n);

}  // namespace parklock
