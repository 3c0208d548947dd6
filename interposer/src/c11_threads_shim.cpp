// C11 <threads.h> mutexes and condition variables, served by the same
// algorithms as their pthread twins. glibc implements each as a thin wrapper
// over the pthread call on the same object (mtx_t is a pthread_mutex_t,
// cnd_t a pthread_cond_t), mapping the error code with thrd_err_map; so do
// we, through the direct-call API. glibc's wrappers call its internal
// pthread functions, which the preload cannot reach: left to glibc, a C11
// mutex would be glibc's while a pthread call on it would be ours.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include "parklock.h"
#include "symbol_versions.h"

namespace {

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t) && alignof(mtx_t) == alignof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t) && alignof(cnd_t) == alignof(pthread_cond_t));

pthread_mutex_t* as_pthread(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* as_pthread(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }

// glibc's thrd_err_map (sysdeps/pthread/thrd_priv.h).
int to_thrd(int err) {
  switch (err) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

}  // namespace

// glibc 2.36 makes exactly mtx_plain|mtx_recursive and mtx_timed|mtx_recursive
// recursive; every other type, invalid ones included, gets a normal mutex and
// thrd_success (it has no thrd_error case). Matched as measured.
PARKLOCK_EXPORT_2_28_AND_2_34(mtx_init)
int shim_mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  bool recursive = type == (mtx_plain | mtx_recursive) || type == (mtx_timed | mtx_recursive);
  pthread_mutexattr_settype(&attr, recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
  return to_thrd(parklock_mutex_init(as_pthread(m), &attr));
}

PARKLOCK_EXPORT_2_28_AND_2_34(mtx_lock)
int shim_mtx_lock(mtx_t* m) { return to_thrd(parklock_mutex_lock(as_pthread(m))); }

PARKLOCK_EXPORT_2_28_AND_2_34(mtx_timedlock)
int shim_mtx_timedlock(mtx_t* __restrict m, const timespec* __restrict abstime) {
  return to_thrd(parklock_mutex_timedlock(as_pthread(m), abstime));
}

PARKLOCK_EXPORT_2_28_AND_2_34(mtx_trylock)
int shim_mtx_trylock(mtx_t* m) { return to_thrd(parklock_mutex_trylock(as_pthread(m))); }

PARKLOCK_EXPORT_2_28_AND_2_34(mtx_unlock)
int shim_mtx_unlock(mtx_t* m) { return to_thrd(parklock_mutex_unlock(as_pthread(m))); }

PARKLOCK_EXPORT_2_28_AND_2_34(mtx_destroy)
void shim_mtx_destroy(mtx_t* m) { parklock_mutex_destroy(as_pthread(m)); }

PARKLOCK_EXPORT_2_28_AND_2_34(cnd_init)
int shim_cnd_init(cnd_t* c) { return to_thrd(parklock_cond_init(as_pthread(c), nullptr)); }

PARKLOCK_EXPORT_2_28_AND_2_34(cnd_signal)
int shim_cnd_signal(cnd_t* c) { return to_thrd(parklock_cond_signal(as_pthread(c))); }

PARKLOCK_EXPORT_2_28_AND_2_34(cnd_broadcast)
int shim_cnd_broadcast(cnd_t* c) { return to_thrd(parklock_cond_broadcast(as_pthread(c))); }

PARKLOCK_EXPORT_2_28_AND_2_34(cnd_wait)
int shim_cnd_wait(cnd_t* c, mtx_t* m) {
  return to_thrd(parklock_cond_wait(as_pthread(c), as_pthread(m)));
}

PARKLOCK_EXPORT_2_28_AND_2_34(cnd_timedwait)
int shim_cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m, const timespec* __restrict abstime) {
  return to_thrd(parklock_cond_timedwait(as_pthread(c), as_pthread(m), abstime));
}

PARKLOCK_EXPORT_2_28_AND_2_34(cnd_destroy)
void shim_cnd_destroy(cnd_t* c) { parklock_cond_destroy(as_pthread(c)); }
