#include "symbolizer.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "module_map.h"
#include "symbol_names.h"

namespace parklock {
namespace {

struct CachedFrame {
  ResolvedFrame frame;
  std::string description;
};

std::string hex(uintptr_t value) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof(text), "0x%" PRIxPTR, value);
  return text;
}

std::string describe_frame(const ResolvedFrame& frame, uintptr_t pc) {
  if (frame.module.empty()) return hex(pc);
  const std::string offset = frame.module + "+" + hex(frame.module_offset);
  if (frame.function.empty()) return offset;
  const std::string function = without_parameters(frame.function);
  if (frame.file.empty()) return function + " (" + offset + ")";
  return function + " (" + frame.file + ":" + std::to_string(frame.line) + ")";
}

// Code the user did not write and would not look for: the C and C++
// runtimes, and headers installed on the system (the standard library's,
// boost's).
bool is_library_frame(const ResolvedFrame& frame) {
  auto starts_with = [](const std::string& text, const char* prefix) {
    return text.rfind(prefix, 0) == 0;
  };
  return starts_with(frame.module, "libc.so") || starts_with(frame.module, "libstdc++.so") ||
         starts_with(frame.module, "libc++.so") || starts_with(frame.path, "/usr/include/") ||
         starts_with(frame.path, "/usr/lib/gcc/");
}

}  // namespace

// Lock order: modules_mutex before frames_mutex.
struct Symbolizer::State {
  std::mutex modules_mutex;  // guards modules: libdw is not thread-safe
  ModuleMap modules;
  // A copy of modules.reported() (adds + subs), read without modules_mutex.
  std::atomic<unsigned long long> reported_generation{~0ull};

  std::shared_mutex frames_mutex;  // guards frames
  // Only frames inside a loaded object: an address outside any may be
  // covered by an object loaded later.
  std::unordered_map<uintptr_t, CachedFrame> frames;

  // Makes `modules` match the loaded objects; takes modules_mutex only when
  // they changed. Called by every lookup, so a result never describes an
  // object that was unloaded before the call.
  void sync_with_loaded_objects() {
    const LoadCounts now = current_load_counts();
    if (now.adds + now.subs == reported_generation.load(std::memory_order_acquire)) return;
    std::lock_guard modules_lock(modules_mutex);
    if (modules.refresh() == ModuleMap::Change::kUnloaded) {
      std::unique_lock frames_lock(frames_mutex);
      frames.clear();
    }
    const LoadCounts reported = modules.reported();
    reported_generation.store(reported.adds + reported.subs, std::memory_order_release);
  }

  CachedFrame lookup(uintptr_t pc) {
    sync_with_loaded_objects();
    {
      std::shared_lock frames_lock(frames_mutex);
      auto found = frames.find(pc);
      if (found != frames.end()) return found->second;
    }
    // Resolved and cached under modules_mutex, so an unload handled in
    // between cannot leave a stale entry behind.
    std::lock_guard modules_lock(modules_mutex);
    CachedFrame cached;
    cached.frame = modules.frame_at(pc);
    cached.description = describe_frame(cached.frame, pc);
    if (!cached.frame.module.empty()) {
      std::unique_lock frames_lock(frames_mutex);
      frames.emplace(pc, cached);
    }
    return cached;
  }
};

Symbolizer::Symbolizer() : state_(std::make_unique<State>()) {}

Symbolizer::~Symbolizer() = default;

ResolvedFrame Symbolizer::resolve(uintptr_t pc) { return state_->lookup(pc).frame; }

std::string Symbolizer::describe(uintptr_t pc) { return state_->lookup(pc).description; }

std::string Symbolizer::describe_site(const uintptr_t* pcs, size_t count) {
  if (count == 0) return "";
  for (size_t i = 0; i < count; ++i) {
    const CachedFrame cached = state_->lookup(pcs[i]);
    if (!is_library_frame(cached.frame)) return cached.description;
  }
  return describe(pcs[0]);
}

std::optional<std::string> Symbolizer::data_symbol(uintptr_t addr) {
  state_->sync_with_loaded_objects();
  std::lock_guard modules_lock(state_->modules_mutex);
  return state_->modules.data_symbol_at(addr);
}

}  // namespace parklock
