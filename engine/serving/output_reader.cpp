#include "engine/serving/output_reader.h"

#include <utility>

namespace parklock::engine {

OutputReader::OutputReader(Engine& engine, Request request)
    : engine_(engine), decoder_(engine.tokenizer()), stop_(request.sampling.stop) {
  handle_ = engine_.submit(std::move(request));
}

bool OutputReader::next(OutputEvent* event) { return read(event, nullptr) == Next::kEvent; }

OutputReader::Next OutputReader::next_for(OutputEvent* event, Clock::duration timeout) {
  return read(event, &timeout);
}

OutputReader::Next OutputReader::read(OutputEvent* out, const Clock::duration* timeout) {
  // After a stop string nothing more is shown; finish() waits for the engine.
  if (ended_ || stopped_) return Next::kEnded;
  TokenEvent event;
  const RequestStream::Next got =
      timeout ? handle_->next_for(&event, *timeout)
              : (handle_->next(&event) ? RequestStream::Next::kToken : RequestStream::Next::kFinished);
  if (got == RequestStream::Next::kTimeout) return Next::kTimeout;
  if (got == RequestStream::Next::kFinished) {
    ended_ = true;
    engine_result_ = handle_->wait();  // finished: returns at once
    std::string tail = held_back_text();
    if (tail.empty()) return Next::kEnded;
    *out = OutputEvent{kNoToken, std::move(tail), Clock::now()};
    return Next::kEvent;
  }
  ++tokens_read_;
  StopMatcher::Result r = stop_.append(decoder_.push(event.token));
  *out = OutputEvent{event.token, std::move(r.emit), event.time};
  if (r.stopped) {
    stopped_ = true;
    engine_.cancel(handle_);
  }
  return Next::kEvent;
}

std::string OutputReader::held_back_text() {
  if (engine_result_->reason == FinishReason::kError) return "";
  // A stop string completed by the tail truncates the text, but the request
  // has ended already: its finish reason stays the engine's.
  std::string tail = stop_.append(decoder_.finish()).emit;
  return tail + stop_.flush();
}

void OutputReader::cancel() { engine_.cancel(handle_); }

RequestResult OutputReader::finish() {
  OutputEvent dropped;
  while (next(&dropped)) {
  }
  RequestResult result = engine_result_ ? std::move(*engine_result_) : handle_->wait();
  engine_result_.reset();
  if (stopped_) {
    // Whatever the engine did after the match (the cancel, the length
    // limit, even a failed step) came after the output had ended.
    result.reason = FinishReason::kStop;
    result.error.clear();
    result.tokens.resize(static_cast<size_t>(tokens_read_));
  }
  result.text = stop_.text();
  return result;
}

}  // namespace parklock::engine
