#!/bin/sh
# Checks that the preload defines every versioned lock symbol glibc's libc
# defines, with the same version and the same default ('@@') marker: a
# program bound to any of them (e.g. pthread_cond_wait@GLIBC_2.2.5 from an
# old binary) must reach parklock.
#
# usage: check_exported_symbols.sh PRELOAD LIBC FAMILY
#   FAMILY: mutex_cond   pthread_mutex_* lock calls and pthread_cond_*
#           rwlock_c11   pthread_rwlock_* and C11 mtx_* / cnd_*
set -u
if [ $# -ne 3 ]; then
  echo "usage: $0 PRELOAD LIBC mutex_cond|rwlock_c11" >&2
  exit 2
fi
preload=$1
libc=$2
family=$3

case "$family" in
  mutex_cond)
    # pthread_mutex_consistent / _getprioceiling / _setprioceiling are left
    # out: they only apply to robust and priority-protect mutexes, which stay
    # glibc's, so glibc's own functions serve them.
    # The old __pthread_mutex_* aliases too (binaries built before glibc 2.34).
    pattern='^(pthread_mutex_(init|destroy|lock|trylock|timedlock|clocklock|unlock)|__pthread_mutex_(init|destroy|lock|trylock|unlock)|pthread_cond_(init|destroy|wait|timedwait|clockwait|signal|broadcast))@'
    # Named explicitly, so an unexpected libc cannot shrink the check.
    required='pthread_mutex_lock@@GLIBC_2.2.5
pthread_mutex_unlock@@GLIBC_2.2.5
__pthread_mutex_lock@GLIBC_2.2.5
__pthread_mutex_unlock@GLIBC_2.2.5
pthread_mutex_clocklock@@GLIBC_2.34
pthread_cond_wait@GLIBC_2.2.5
pthread_cond_wait@@GLIBC_2.3.2
pthread_cond_timedwait@GLIBC_2.2.5
pthread_cond_timedwait@@GLIBC_2.3.2
pthread_cond_signal@GLIBC_2.2.5
pthread_cond_signal@@GLIBC_2.3.2
pthread_cond_broadcast@GLIBC_2.2.5
pthread_cond_broadcast@@GLIBC_2.3.2
pthread_cond_init@GLIBC_2.2.5
pthread_cond_init@@GLIBC_2.3.2
pthread_cond_destroy@GLIBC_2.2.5
pthread_cond_destroy@@GLIBC_2.3.2
pthread_cond_clockwait@GLIBC_2.30
pthread_cond_clockwait@@GLIBC_2.34'
    ;;
  rwlock_c11)
    pattern='^(pthread_rwlock_(init|destroy|rdlock|tryrdlock|timedrdlock|clockrdlock|wrlock|trywrlock|timedwrlock|clockwrlock|unlock)|(mtx|cnd)_[a-z]+)@'
    required='pthread_rwlock_rdlock@@GLIBC_2.34
pthread_rwlock_wrlock@@GLIBC_2.34
pthread_rwlock_unlock@@GLIBC_2.34
mtx_lock@@GLIBC_2.34
cnd_wait@@GLIBC_2.34'
    ;;
  *)
    echo "unknown family: $family" >&2
    exit 2
    ;;
esac

ours=$(nm -D --defined-only "$preload" | awk '{print $3}' | sort -u) || exit 1
glibcs=$(nm -D --defined-only "$libc" | awk '{print $3}' | grep -E "$pattern" | sort -u)
expected=$(printf '%s\n%s\n' "$glibcs" "$required" | sort -u)

missing=$(printf '%s\n' "$expected" | while read -r sym; do
  printf '%s\n' "$ours" | grep -qxF "$sym" || echo "$sym"
done)
if [ -n "$missing" ]; then
  echo "FAIL: $preload does not define:"
  printf '  %s\n' $missing
  exit 1
fi
echo "PASS: all $(printf '%s\n' "$expected" | wc -l) $family symbols defined:"
printf '  %s\n' $expected
