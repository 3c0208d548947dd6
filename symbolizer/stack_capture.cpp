#include "stack_capture.h"

#include <dlfcn.h>
#include <link.h>
#include <sched.h>

#include <algorithm>
#include <atomic>

// Only for the types and the names the entry points are exported under; the
// library itself is loaded with dlopen.
#define UNW_LOCAL_ONLY
#include <libunwind.h>

namespace parklock {
namespace {

// unw_step and friends are macros for the exported names (_ULx86_64_step):
// spelling the lookups through the macros keeps them in step with the header.
#define PARKLOCK_EXPORTED_NAME_(name) #name
#define PARKLOCK_EXPORTED_NAME(name) PARKLOCK_EXPORTED_NAME_(name)

struct Libunwind {
  int (*backtrace)(void** buffer, int size) = nullptr;
  int (*getcontext)(unw_context_t* context) = nullptr;
  int (*init_local)(unw_cursor_t* cursor, unw_context_t* context) = nullptr;
  int (*step)(unw_cursor_t* cursor) = nullptr;
  int (*get_reg)(unw_cursor_t* cursor, unw_regnum_t reg, unw_word_t* value) = nullptr;
};

template <typename Function>
bool look_up(void* library, const char* name, Function*& function) {
  function = reinterpret_cast<Function*>(dlsym(library, name));
  return function != nullptr;
}

bool load_libunwind(Libunwind& unw) {
  // RTLD_LOCAL: libunwind also exports backtrace and _Unwind_Backtrace,
  // which must not replace glibc's and libgcc's for the host.
  void* library = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) return false;
  return look_up(library, PARKLOCK_EXPORTED_NAME(unw_backtrace), unw.backtrace) &&
         look_up(library, PARKLOCK_EXPORTED_NAME(unw_tdep_getcontext), unw.getcontext) &&
         look_up(library, PARKLOCK_EXPORTED_NAME(unw_init_local), unw.init_local) &&
         look_up(library, PARKLOCK_EXPORTED_NAME(unw_step), unw.step) &&
         look_up(library, PARKLOCK_EXPORTED_NAME(unw_get_reg), unw.get_reg);
}

// Address range of a loaded object's segments.
struct CodeRange {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  bool contains(uintptr_t address) const { return address >= begin && address < end; }
};

struct RangeSearch {
  uintptr_t address = 0;
  bool is_main_executable = false;
  bool found = false;
  bool first_object = true;
  CodeRange range;
};

int find_object(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<RangeSearch*>(data);
  // dl_iterate_phdr reports the main executable first.
  const bool is_main = search->first_object;
  search->first_object = false;
  CodeRange range{UINTPTR_MAX, 0};
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD) continue;
    range.begin = std::min<uintptr_t>(range.begin, info->dlpi_addr + segment.p_vaddr);
    range.end = std::max<uintptr_t>(range.end, info->dlpi_addr + segment.p_vaddr + segment.p_memsz);
  }
  if (!range.contains(search->address)) return 0;
  search->found = true;
  search->is_main_executable = is_main;
  search->range = range;
  return 1;
}

// The frames to leave out: the shared object this file is linked into, unless
// that is the main executable (then the range is empty).
CodeRange own_shared_object() {
  RangeSearch search;
  search.address = reinterpret_cast<uintptr_t>(&stack_capture);
  dl_iterate_phdr(find_object, &search);
  if (!search.found || search.is_main_executable) return {};
  return search.range;
}

// Readying a thread mallocs (glibc allocates libunwind's thread-local block on
// first touch, through whatever malloc the process binds). glibc's own malloc
// takes only glibc-internal locks, never a pthread lock, so it cannot wait on
// the lock whose slow path is capturing; an interposed allocator might.
bool process_uses_glibc_malloc() {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (libc == nullptr) return false;
  void* libc_malloc = dlsym(libc, "malloc");
  void* bound_malloc = dlsym(RTLD_DEFAULT, "malloc");
  dlclose(libc);
  return libc_malloc != nullptr && libc_malloc == bound_malloc;
}

struct CaptureState {
  Libunwind unw;
  CodeRange own_object;
  bool ready_threads_on_first_capture = false;
};

enum InitStatus : int { kNotStarted, kLoading, kLoaded, kFailed };

// Written once by the thread that wins kNotStarted -> kLoading, published by
// the release store of kLoaded.
CaptureState g_state;
std::atomic<int> g_status{kNotStarted};

thread_local bool t_ready = false;      // libunwind's per-thread trace state exists
thread_local bool t_capturing = false;  // a capture is running on this thread

const CaptureState* loaded_state() {
  return g_status.load(std::memory_order_acquire) == kLoaded ? &g_state : nullptr;
}

// Frames of the walk that lie inside this file (the walker, stack_capture)
// before the caller's frame. Found by the caller's return address, so the
// count does not depend on what the compiler inlined.
constexpr int kMaxInternalFrames = 4;
// Frames of our own shared object expected above stack_capture (recorder,
// lock slow path, shim) that the fast walk unwinds beyond what it must keep.
constexpr int kOwnFrameAllowance = 16;
constexpr int kMaxRawFrames = 128;

// Turns the raw walk, which starts inside this file, into the caller's frames.
class FrameFilter {
 public:
  FrameFilter(uintptr_t caller_return, int skip, CodeRange own_object, uintptr_t* out,
              int max_depth)
      : caller_return_(caller_return), skip_(skip), own_object_(own_object), out_(out),
        max_depth_(max_depth) {}

  // Takes the next return address of the walk, innermost first. Returns false
  // once no more are wanted.
  bool offer(uintptr_t pc) {
    if (!found_caller_) {
      if (pc != caller_return_) return ++internal_frames_ < kMaxInternalFrames;
      found_caller_ = true;
    }
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    // pc - 1: a return address may be the first byte after its object's code.
    if (in_leading_own_frames_ && own_object_.contains(pc - 1)) return true;
    in_leading_own_frames_ = false;
    out_[count_++] = pc;
    return count_ < max_depth_;
  }

  int count() const { return count_; }

 private:
  const uintptr_t caller_return_;
  int skip_;
  const CodeRange own_object_;
  uintptr_t* const out_;
  const int max_depth_;
  bool found_caller_ = false;
  int internal_frames_ = 0;
  bool in_leading_own_frames_ = true;
  int count_ = 0;
};

// libunwind's fast trace (unw_backtrace): needs a ready thread.
void walk_fast(const Libunwind& unw, FrameFilter& filter, int frames_wanted) {
  void* raw[kMaxRawFrames];
  const int n = unw.backtrace(raw, std::min(frames_wanted, kMaxRawFrames));
  for (int i = 0; i < n && filter.offer(reinterpret_cast<uintptr_t>(raw[i])); ++i) {
  }
}

// One unw_step per frame: touches no libunwind thread-local state, and stops
// as soon as the filter has what it wants. noinline: its context and cursor
// (about 2 KiB) take stack only when this walk is used.
__attribute__((noinline)) void walk_slow(const Libunwind& unw, FrameFilter& filter) {
  unw_context_t context;
  unw_cursor_t cursor;
  if (unw.getcontext(&context) < 0 || unw.init_local(&cursor, &context) < 0) return;
  for (int steps = 0; steps < kMaxRawFrames && unw.step(&cursor) > 0; ++steps) {
    unw_word_t pc;
    if (unw.get_reg(&cursor, UNW_REG_IP, &pc) < 0 || !filter.offer(pc)) return;
  }
}

// Sets t_capturing for the scope; leaves it alone if it was already set.
class CaptureScope {
 public:
  CaptureScope() : entered_(!t_capturing) { t_capturing = true; }
  ~CaptureScope() {
    if (entered_) t_capturing = false;
  }
  bool entered() const { return entered_; }

 private:
  const bool entered_;
};

}  // namespace

bool stack_capture_init() {
  int status = kNotStarted;
  if (g_status.compare_exchange_strong(status, kLoading, std::memory_order_acquire)) {
    CaptureState state;
    const bool loaded = load_libunwind(state.unw);
    if (loaded) {
      state.own_object = own_shared_object();
      state.ready_threads_on_first_capture = process_uses_glibc_malloc();
      g_state = state;
    }
    g_status.store(loaded ? kLoaded : kFailed, std::memory_order_release);
  } else {
    // Another thread is loading: wait for its verdict (dlopen is short).
    while ((status = g_status.load(std::memory_order_acquire)) == kLoading) sched_yield();
  }
  return stack_capture_thread_init();
}

bool stack_capture_thread_init() {
  const CaptureState* state = loaded_state();
  if (state == nullptr) return false;
  if (!t_ready) {
    // The first fast trace allocates the thread's libunwind state.
    void* raw[kMaxInternalFrames];
    state->unw.backtrace(raw, kMaxInternalFrames);
    t_ready = true;
  }
  return true;
}

__attribute__((noinline)) int stack_capture(uintptr_t* pcs, int max_depth, int skip) {
  const CaptureState* state = loaded_state();
  max_depth = std::min(max_depth, kMaxStackDepth);
  if (state == nullptr || max_depth <= 0) return 0;
  CaptureScope scope;
  if (!scope.entered()) return 0;

  skip = std::clamp(skip, 0, kMaxRawFrames);
  FrameFilter filter(reinterpret_cast<uintptr_t>(__builtin_return_address(0)), skip,
                     state->own_object, pcs, max_depth);
  if (!t_ready && state->ready_threads_on_first_capture) t_ready = true;
  if (t_ready) {
    walk_fast(state->unw, filter, kMaxInternalFrames + skip + kOwnFrameAllowance + max_depth);
  } else {
    walk_slow(state->unw, filter);
  }
  return filter.count();
}

}  // namespace parklock
