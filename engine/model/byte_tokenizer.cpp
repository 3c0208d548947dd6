#include "engine/model/byte_tokenizer.h"

#include <stdexcept>

namespace parklock::engine {
namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// All 256 single-byte strings, so piece() can hand out views.
const std::string& byte_table() {
  static const std::string table = [] {
    std::string t(256, '\0');
    for (int b = 0; b < 256; ++b) t[b] = static_cast<char>(b);
    return t;
  }();
  return table;
}
}  // namespace

ByteTokenizer::ByteTokenizer(int vocab_size) : vocab_size_(vocab_size) {
  if (vocab_size < kMinVocab)
    throw std::invalid_argument("byte tokenizer needs a vocabulary of at least " +
                                std::to_string(kMinVocab) + " ids, model has " +
                                std::to_string(vocab_size));
}

std::vector<int32_t> ByteTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 1);
  if (add_bos) ids.push_back(kBos);
  for (const char c : text) ids.push_back(kFirstByte + static_cast<unsigned char>(c));
  return ids;
}

std::string_view ByteTokenizer::piece(int32_t id) const {
  if (id < 0 || id >= vocab_size_)
    throw std::out_of_range("token id " + std::to_string(id) + " outside the vocabulary [0, " +
                            std::to_string(vocab_size_) + ")");
  if (is_special(id)) return {};
  if (is_byte(id)) return std::string_view(byte_table()).substr(id - kFirstByte, 1);
  return kReplacement;
}

std::string ByteTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  out.reserve(ids.size());
  for (const int32_t id : ids) out += piece(id);
  return out;
}

int Utf8StreamDecoder::sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // continuation byte, C0/C1 (always overlong) or F5..FF (past U+10FFFF)
}

bool Utf8StreamDecoder::continues(unsigned char b) const {
  if (pending_.size() == 1) {
    // The second byte's range excludes overlong forms, surrogates and
    // code points past U+10FFFF (Unicode table 3-7).
    switch (static_cast<unsigned char>(pending_[0])) {
      case 0xE0: return b >= 0xA0 && b <= 0xBF;
      case 0xED: return b >= 0x80 && b <= 0x9F;
      case 0xF0: return b >= 0x90 && b <= 0xBF;
      case 0xF4: return b >= 0x80 && b <= 0x8F;
      default: break;
    }
  }
  return b >= 0x80 && b <= 0xBF;
}

void Utf8StreamDecoder::push_byte(unsigned char b, std::string& out) {
  if (!pending_.empty()) {
    if (continues(b)) {
      pending_ += static_cast<char>(b);
      if (static_cast<int>(pending_.size()) == sequence_length(pending_[0])) {
        out += pending_;
        pending_.clear();
      }
      return;
    }
    // The pending prefix can never complete: replace it, then b starts afresh.
    out += kReplacement;
    pending_.clear();
  }
  const int len = sequence_length(b);
  if (len == 0) {
    out += kReplacement;
  } else if (len == 1) {
    out += static_cast<char>(b);
  } else {
    pending_ += static_cast<char>(b);
  }
}

std::string Utf8StreamDecoder::push(int32_t id) {
  std::string out;
  const std::string_view piece = tokenizer_.piece(id);
  if (ByteTokenizer::is_special(id)) return out;  // no text; a pending sequence may continue
  if (!ByteTokenizer::is_byte(id)) {
    // An id past the byte range (U+FFFD) cuts off any pending sequence.
    out += finish();
    out += piece;
    return out;
  }
  push_byte(static_cast<unsigned char>(piece[0]), out);
  return out;
}

std::string Utf8StreamDecoder::finish() {
  if (pending_.empty()) return {};
  pending_.clear();
  return std::string(kReplacement);
}

}  // namespace parklock::engine
