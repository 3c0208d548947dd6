// snapshot_worker.h: one thread of our own that takes and symbolizes snapshots.
//
// Reading DWARF with libdw needs a deep stack, and the threads that ask
// for snapshots (the endpoint's, the one running exit handlers) have
// whatever stack the host gives its threads. So every snapshot is taken on
// this thread, created with an 8 MiB stack; callers wait for it. This also
// serializes concurrent scrapes over one symbolizer cache.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "snapshot.h"

namespace parklock {

class SnapshotWorker {
 public:
  // Starts the thread. Never destroyed (see exporter_module.cpp).
  SnapshotWorker(const ExporterContext& context, Symbolizer& symbolizer);
  SnapshotWorker(const SnapshotWorker&) = delete;
  SnapshotWorker& operator=(const SnapshotWorker&) = delete;

  // A snapshot taken on the worker's thread.
  Snapshot take();

 private:
  struct Job {
    Snapshot result;
    bool done = false;
  };
  static void* run(void* self);

  const ExporterContext& context_;
  Symbolizer& symbolizer_;
  std::mutex mu_;
  std::condition_variable wake_;  // a job was queued, or one is done
  std::deque<Job*> queue_;        // guarded by mu_
  bool thread_started_ = false;
};

}  // namespace parklock
