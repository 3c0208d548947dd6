// host_exit_watch.h: the exporter's threads never keep a process alive.
//
// A process ends when its last thread does: when main leaves by
// pthread_exit, glibc calls exit(0) as the last other thread ends. The
// endpoint's threads and the snapshot thread never end, so such a program
// would run on forever. The watch makes up for them: when the main thread
// leaves by pthread_exit (a thread-specific key's destructor sees it), a
// thread of ours waits until only the exporter's threads are left and then
// calls exit(0), as glibc would have; the exit report and dump are written
// as usual.
//
// The exporter's threads are counted as the growth of the process's thread
// count while they start (at load time, so nothing else should start or end
// a thread meanwhile). A fork child has none of them and is not watched.
#pragma once

namespace parklock {

// The process's threads now (/proc/self/status), or -1 if unknown.
int process_threads();

// Call on the main thread once the exporter's `exporter_threads` threads
// run. Does nothing on another thread, or if exporter_threads <= 0.
void exit_with_last_host_thread(int exporter_threads);

}  // namespace parklock
