#include "snapshot_worker.h"

#include <pthread.h>

#include <cstdio>

namespace parklock {
namespace {
constexpr size_t kStackBytes = size_t(8) << 20;

// Keeps the caller's own locking (a scrape thread's, the worker's) out of
// the tables for the scope.
class NotRecorded {
 public:
  explicit NotRecorded(const ExporterContext& context) : context_(context) {
    if (context_.ignore_this_thread) context_.ignore_this_thread(true);
  }
  ~NotRecorded() {
    if (context_.ignore_this_thread) context_.ignore_this_thread(false);
  }

 private:
  const ExporterContext& context_;
};
}  // namespace

SnapshotWorker::SnapshotWorker(const ExporterContext& context, Symbolizer& symbolizer)
    : context_(context), symbolizer_(symbolizer) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackBytes);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  thread_started_ = pthread_create(&thread, &attr, &SnapshotWorker::run, this) == 0;
  pthread_attr_destroy(&attr);
  if (thread_started_) pthread_setname_np(thread, "parklock-snap");
  else std::fprintf(stderr, "parklock: cannot start the snapshot thread; snapshots run on the caller's thread\n");
}


Snapshot SnapshotWorker::take() {
  NotRecorded not_recorded(context_);
  if (!thread_started_) {
    std::lock_guard<std::mutex> lock(mu_);
    return take_snapshot(context_, symbolizer_);
  }
  Job job;
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&job);
  wake_.notify_all();
  wake_.wait(lock, [&] { return job.done; });
  return std::move(job.result);
}

void* SnapshotWorker::run(void* self) {
  auto* worker = static_cast<SnapshotWorker*>(self);
  if (worker->context_.ignore_this_thread) worker->context_.ignore_this_thread(true);
  std::unique_lock<std::mutex> lock(worker->mu_);
  for (;;) {
    worker->wake_.wait(lock, [&] { return !worker->queue_.empty(); });
    Job* job = worker->queue_.front();
    worker->queue_.pop_front();
    lock.unlock();
    Snapshot snapshot = take_snapshot(worker->context_, worker->symbolizer_);
    lock.lock();
    job->result = std::move(snapshot);
    job->done = true;
    worker->wake_.notify_all();
  }
}

}  // namespace parklock
