/* Prints whether parklock is loaded and, for each lock entry point (by its
 * default name and by each older glibc symbol version a program may be bound
 * to), which library the dynamic linker resolves it to. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

struct entry {
  const char* name;
  const char* version; /* NULL: the default version, as dlsym finds it */
};

static const struct entry kEntries[] = {
    {"pthread_mutex_init", NULL},          {"pthread_mutex_destroy", NULL},
    {"pthread_mutex_lock", NULL},          {"pthread_mutex_trylock", NULL},
    {"pthread_mutex_timedlock", NULL},     {"pthread_mutex_clocklock", NULL},
    {"pthread_mutex_unlock", NULL},        {"pthread_mutex_trylock", "GLIBC_2.2.5"},
    {"pthread_mutex_timedlock", "GLIBC_2.2.5"}, {"pthread_mutex_clocklock", "GLIBC_2.30"},
    {"__pthread_mutex_init", "GLIBC_2.2.5"}, {"__pthread_mutex_destroy", "GLIBC_2.2.5"},
    {"__pthread_mutex_lock", "GLIBC_2.2.5"}, {"__pthread_mutex_trylock", "GLIBC_2.2.5"},
    {"__pthread_mutex_unlock", "GLIBC_2.2.5"},
    {"pthread_cond_init", NULL},           {"pthread_cond_destroy", NULL},
    {"pthread_cond_wait", NULL},           {"pthread_cond_timedwait", NULL},
    {"pthread_cond_clockwait", NULL},      {"pthread_cond_signal", NULL},
    {"pthread_cond_broadcast", NULL},      {"pthread_cond_init", "GLIBC_2.2.5"},
    {"pthread_cond_destroy", "GLIBC_2.2.5"}, {"pthread_cond_wait", "GLIBC_2.2.5"},
    {"pthread_cond_timedwait", "GLIBC_2.2.5"}, {"pthread_cond_signal", "GLIBC_2.2.5"},
    {"pthread_cond_broadcast", "GLIBC_2.2.5"}, {"pthread_cond_clockwait", "GLIBC_2.30"},
    {"pthread_rwlock_init", NULL},         {"pthread_rwlock_destroy", NULL},
    {"pthread_rwlock_rdlock", NULL},       {"pthread_rwlock_tryrdlock", NULL},
    {"pthread_rwlock_timedrdlock", NULL},  {"pthread_rwlock_clockrdlock", NULL},
    {"pthread_rwlock_wrlock", NULL},       {"pthread_rwlock_trywrlock", NULL},
    {"pthread_rwlock_timedwrlock", NULL},  {"pthread_rwlock_clockwrlock", NULL},
    {"pthread_rwlock_unlock", NULL},
    {"mtx_init", NULL},                    {"mtx_destroy", NULL},
    {"mtx_lock", NULL},                    {"mtx_trylock", NULL},
    {"mtx_timedlock", NULL},               {"mtx_unlock", NULL},
    {"cnd_init", NULL},                    {"cnd_destroy", NULL},
    {"cnd_wait", NULL},                    {"cnd_timedwait", NULL},
    {"cnd_signal", NULL},                  {"cnd_broadcast", NULL},
};

static const char* basename_of(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

int main(void) {
  typedef const char* (*version_fn)(void);
  version_fn version = (version_fn)dlsym(RTLD_DEFAULT, "parklock_version");
  if (version) {
    printf("parklock_version: found %s\n", version());
  } else {
    printf("parklock_version: not found\n");
  }
  for (size_t i = 0; i < sizeof kEntries / sizeof kEntries[0]; ++i) {
    const struct entry* e = &kEntries[i];
    void* fn = e->version ? dlvsym(RTLD_DEFAULT, e->name, e->version)
                          : dlsym(RTLD_DEFAULT, e->name);
    Dl_info info;
    const char* where = "unresolved";
    if (fn && dladdr(fn, &info) && info.dli_fname) where = basename_of(info.dli_fname);
    printf("%s@%s served by %s\n", e->name, e->version ? e->version : "default", where);
  }
  return 0;
}
