// Byte-level tokenizer: every byte is one token, so any text (valid UTF-8 or
// not) round-trips exactly. Ids:
//   0 <pad>, 1 <bos>, 2 <eos>, then byte b is id 3 + b (ids 3..258).
// A model with a larger vocabulary (TinyLlama's 32000) may sample ids past
// 258; they stand for no byte and decode to U+FFFD.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parklock::engine {

class ByteTokenizer {
 public:
  static constexpr int32_t kPad = 0;
  static constexpr int32_t kBos = 1;
  static constexpr int32_t kEos = 2;
  static constexpr int32_t kFirstByte = 3;
  static constexpr int kMinVocab = kFirstByte + 256;

  // Throws std::invalid_argument when vocab_size < kMinVocab.
  explicit ByteTokenizer(int vocab_size = kMinVocab);

  int vocab_size() const { return vocab_size_; }
  static bool is_special(int32_t id) { return id >= 0 && id < kFirstByte; }
  static bool is_byte(int32_t id) { return id >= kFirstByte && id < kMinVocab; }

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const;
  // The exact bytes of byte tokens; specials produce nothing, other ids in
  // the vocabulary U+FFFD. May be invalid UTF-8 exactly when the bytes are:
  // use Utf8StreamDecoder for text shown to users. Throws
  // std::out_of_range for ids outside [0, vocab_size).
  std::string decode(std::span<const int32_t> ids) const;

 private:
  friend class Utf8StreamDecoder;
  // The bytes one id stands for (see decode).
  std::string_view piece(int32_t id) const;

  int vocab_size_;
};

// Turns a stream of tokens into valid UTF-8 text for streaming responses: an
// incomplete multi-byte sequence is held back until it completes, and bytes
// that can never form a valid character (stray continuation bytes, overlong
// forms, surrogates, > U+10FFFF) become U+FFFD, one per maximal invalid
// subpart as the Unicode standard recommends. For valid UTF-8 input, the
// concatenated output equals ByteTokenizer::decode of all tokens.
class Utf8StreamDecoder {
 public:
  explicit Utf8StreamDecoder(const ByteTokenizer& tokenizer) : tokenizer_(tokenizer) {}

  // Text completed by this token (often empty while a character is pending).
  std::string push(int32_t id);
  // End of stream: a still-incomplete sequence becomes U+FFFD.
  std::string finish();

 private:
  void push_byte(unsigned char b, std::string& out);
  // Bytes the pending sequence needs in total, given its lead byte; 0 if invalid lead.
  static int sequence_length(unsigned char lead);
  // Whether b may follow pending_ as byte number pending_.size().
  bool continues(unsigned char b) const;

  const ByteTokenizer& tokenizer_;
  std::string pending_;  // an incomplete but so-far valid sequence
};

}  // namespace parklock::engine
