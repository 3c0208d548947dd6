#include "glibc_locks.h"

#include <dlfcn.h>

#include <atomic>

#include "raw_log.h"

namespace parklock::glibc {
namespace {

// Resolves `name` (at `version`, or the default one) in the objects after us.
void* find(const char* name, const char* version) {
  return version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
}

// One glibc function: where it is, once known. The atomic is
// constant-initialized, so no guard variable (and no lock) is involved.
struct Symbol {
  std::atomic<void*>* slot;
  const char* name;
  const char* version;
};

// A pointer to every Symbol is placed in this section, so that the load-time
// pass below finds them all (the linker defines the two bounds). Pointers,
// not the Symbols: the compiler may pad larger objects apart.
#define PARKLOCK_GLIBC_SYMBOLS_SECTION "parklock_glibc_symbols"
extern "C" Symbol* __start_parklock_glibc_symbols[];
extern "C" Symbol* __stop_parklock_glibc_symbols[];

// Resolved at load time, before any lock call can need one: dlsym takes the
// dynamic loader's lock, and a first use later could come from a thread that
// unlocks what another thread, inside dlopen (a library constructor, under
// that loader lock), waits for. A symbol missing then is left for its first
// use to report.
__attribute__((constructor(101))) void resolve_all_at_load() {
  for (Symbol** s = __start_parklock_glibc_symbols; s != __stop_parklock_glibc_symbols; ++s)
    (*s)->slot->store(find((*s)->name, (*s)->version), std::memory_order_relaxed);
}

// The lazy path: only a call made before our constructor ran (from another
// library's constructor, in the thread that loads us) or after a failed
// load-time lookup. Any thread may race here; each stores the same value.
template <auto& Slot, typename Fn>
Fn lookup(const char* name, const char* version) {
  void* fn = Slot.load(std::memory_order_relaxed);
  if (__builtin_expect(fn == nullptr, 0)) {
    fn = find(name, version);
    if (fn == nullptr) raw_fatal("parklock: cannot find glibc's ", name);
    Slot.store(fn, std::memory_order_relaxed);
  }
  return reinterpret_cast<Fn>(fn);
}

}  // namespace

// Each forwarder owns one slot and its Symbol; the macro only spares writing
// the same lines thirty times.
#define PARKLOCK_GLIBC_FORWARD(ours, symbol, version, Ret, Params, Args)                  \
  namespace {                                                                              \
  std::atomic<void*> slot_##ours{nullptr};                                                 \
  Symbol symbol_##ours{&slot_##ours, #symbol, version};                                    \
  [[gnu::used, gnu::section(PARKLOCK_GLIBC_SYMBOLS_SECTION)]] Symbol* listed_##ours =       \
      &symbol_##ours;                                                                      \
  }                                                                                        \
  Ret ours Params {                                                                        \
    return lookup<slot_##ours, Ret(*) Params>(#symbol, version) Args;                      \
  }

PARKLOCK_GLIBC_FORWARD(mutex_init, pthread_mutex_init, nullptr, int,
                       (pthread_mutex_t* m, const pthread_mutexattr_t* attr), (m, attr))
PARKLOCK_GLIBC_FORWARD(mutex_destroy, pthread_mutex_destroy, nullptr, int, (pthread_mutex_t* m), (m))
PARKLOCK_GLIBC_FORWARD(mutex_lock, pthread_mutex_lock, nullptr, int, (pthread_mutex_t* m), (m))
PARKLOCK_GLIBC_FORWARD(mutex_trylock, pthread_mutex_trylock, nullptr, int, (pthread_mutex_t* m), (m))
PARKLOCK_GLIBC_FORWARD(mutex_clocklock, pthread_mutex_clocklock, nullptr, int,
                       (pthread_mutex_t* m, clockid_t c, const timespec* t), (m, c, t))
PARKLOCK_GLIBC_FORWARD(mutex_unlock, pthread_mutex_unlock, nullptr, int, (pthread_mutex_t* m), (m))

// The 2.3.2 condition variables: the layout whose __wrefs bits we read.
PARKLOCK_GLIBC_FORWARD(cond_init, pthread_cond_init, "GLIBC_2.3.2", int,
                       (pthread_cond_t* c, const pthread_condattr_t* a), (c, a))
PARKLOCK_GLIBC_FORWARD(cond_destroy, pthread_cond_destroy, "GLIBC_2.3.2", int, (pthread_cond_t* c), (c))
PARKLOCK_GLIBC_FORWARD(cond_wait, pthread_cond_wait, "GLIBC_2.3.2", int,
                       (pthread_cond_t* c, pthread_mutex_t* m), (c, m))
PARKLOCK_GLIBC_FORWARD(cond_clockwait, pthread_cond_clockwait, nullptr, int,
                       (pthread_cond_t* c, pthread_mutex_t* m, clockid_t k, const timespec* t),
                       (c, m, k, t))
PARKLOCK_GLIBC_FORWARD(cond_signal, pthread_cond_signal, "GLIBC_2.3.2", int, (pthread_cond_t* c), (c))
PARKLOCK_GLIBC_FORWARD(cond_broadcast, pthread_cond_broadcast, "GLIBC_2.3.2", int,
                       (pthread_cond_t* c), (c))

PARKLOCK_GLIBC_FORWARD(rwlock_init, pthread_rwlock_init, nullptr, int,
                       (pthread_rwlock_t* r, const pthread_rwlockattr_t* a), (r, a))
PARKLOCK_GLIBC_FORWARD(rwlock_destroy, pthread_rwlock_destroy, nullptr, int, (pthread_rwlock_t* r), (r))
PARKLOCK_GLIBC_FORWARD(rwlock_rdlock, pthread_rwlock_rdlock, nullptr, int, (pthread_rwlock_t* r), (r))
PARKLOCK_GLIBC_FORWARD(rwlock_tryrdlock, pthread_rwlock_tryrdlock, nullptr, int,
                       (pthread_rwlock_t* r), (r))
PARKLOCK_GLIBC_FORWARD(rwlock_timedrdlock, pthread_rwlock_timedrdlock, nullptr, int,
                       (pthread_rwlock_t* r, const timespec* t), (r, t))
PARKLOCK_GLIBC_FORWARD(rwlock_clockrdlock, pthread_rwlock_clockrdlock, nullptr, int,
                       (pthread_rwlock_t* r, clockid_t c, const timespec* t), (r, c, t))
PARKLOCK_GLIBC_FORWARD(rwlock_wrlock, pthread_rwlock_wrlock, nullptr, int, (pthread_rwlock_t* r), (r))
PARKLOCK_GLIBC_FORWARD(rwlock_trywrlock, pthread_rwlock_trywrlock, nullptr, int,
                       (pthread_rwlock_t* r), (r))
PARKLOCK_GLIBC_FORWARD(rwlock_timedwrlock, pthread_rwlock_timedwrlock, nullptr, int,
                       (pthread_rwlock_t* r, const timespec* t), (r, t))
PARKLOCK_GLIBC_FORWARD(rwlock_clockwrlock, pthread_rwlock_clockwrlock, nullptr, int,
                       (pthread_rwlock_t* r, clockid_t c, const timespec* t), (r, c, t))
PARKLOCK_GLIBC_FORWARD(rwlock_unlock, pthread_rwlock_unlock, nullptr, int, (pthread_rwlock_t* r), (r))

PARKLOCK_GLIBC_FORWARD(register_atfork, __register_atfork, "GLIBC_2.3.2", int,
                       (void (*prepare)(), void (*parent)(), void (*child)(), void* dso),
                       (prepare, parent, child, dso))
PARKLOCK_GLIBC_FORWARD(fork_without_handlers, _Fork, "GLIBC_2.34", pid_t, (), ())

#undef PARKLOCK_GLIBC_FORWARD

}  // namespace parklock::glibc
