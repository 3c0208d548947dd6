#include "engine/serving/sequence.h"

namespace parklock::engine {

Sequence::Sequence(SeqId seq_id, Request request, std::optional<AdapterRef> adapter_ref,
                   RequestHandle request_stream)
    : id(seq_id),
      stream(std::move(request_stream)),
      sampling(std::move(request.sampling)),
      on_token(std::move(request.on_token)),
      adapter(std::move(adapter_ref)),
      tokens(std::move(request.prompt)),
      prompt_len(static_cast<int>(tokens.size())),
      rng(sampling.seed.value_or(0)) {
  // Room for the whole output up front: the engine loop appends one token
  // per step and should not reallocate as it goes.
  tokens.reserve(tokens.size() + static_cast<size_t>(sampling.max_tokens) + 1);
}

}  // namespace parklock::engine
