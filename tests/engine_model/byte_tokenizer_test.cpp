// Byte tokenizer round trips and the streaming UTF-8 decoder.
#include <gtest/gtest.h>

#include <random>

#include "engine/model/byte_tokenizer.h"

namespace parklock::engine::testing {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(ByteTokenizer, RoundTripsRandomBytes) {
  const ByteTokenizer tok;
  std::mt19937 rng(1);
  for (int n : {0, 1, 7, 1000}) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    const auto ids = tok.encode(s, /*add_bos=*/true);
    ASSERT_EQ(ids.size(), s.size() + 1);
    EXPECT_EQ(ids[0], ByteTokenizer::kBos);
    EXPECT_EQ(tok.decode(ids), s);
  }
}

TEST(ByteTokenizer, RoundTripsUtf8) {
  const ByteTokenizer tok;
  using namespace std::string_literals;
  const std::string text = "héllo wörld — 日本語 🙂 \0 end"s;  // embedded NUL too
  EXPECT_EQ(tok.decode(tok.encode(text, false)), text);
  EXPECT_EQ(tok.encode("A", false), (std::vector<int32_t>{ByteTokenizer::kFirstByte + 'A'}));
}

TEST(ByteTokenizer, SpecialAndLargeVocabIds) {
  const ByteTokenizer tok(32000);
  EXPECT_EQ(tok.decode(std::vector<int32_t>{ByteTokenizer::kBos, 3 + 'x', ByteTokenizer::kEos}), "x");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{31999}), kReplacement);
  EXPECT_THROW(tok.decode(std::vector<int32_t>{32000}), std::out_of_range);
  EXPECT_THROW(tok.decode(std::vector<int32_t>{-1}), std::out_of_range);
  EXPECT_THROW(ByteTokenizer(100), std::invalid_argument);
}

std::string stream(const ByteTokenizer& tok, const std::vector<int32_t>& ids,
                   std::vector<std::string>* pieces = nullptr) {
  Utf8StreamDecoder dec(tok);
  std::string out;
  for (int32_t id : ids) {
    const std::string piece = dec.push(id);
    if (pieces) pieces->push_back(piece);
    out += piece;
  }
  return out + dec.finish();
}

TEST(Utf8StreamDecoder, HoldsBackIncompleteCharacters) {
  const ByteTokenizer tok;
  std::vector<std::string> pieces;
  const std::string text = "a€🙂";  // 1 + 3 + 4 bytes
  EXPECT_EQ(stream(tok, tok.encode(text, false), &pieces), text);
  const std::vector<std::string> expected = {"a", "", "", "€", "", "", "", "🙂"};
  EXPECT_EQ(pieces, expected);
}

// Independent well-formedness check (Unicode table 3-7), for the property test.
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = [&](size_t j) { return j < s.size() ? static_cast<unsigned char>(s[j]) : 0u; };
    const unsigned c = b(i);
    auto cont = [&](size_t j, unsigned lo = 0x80, unsigned hi = 0xBF) { return b(j) >= lo && b(j) <= hi; };
    if (c < 0x80) { i += 1; continue; }
    if (c >= 0xC2 && c <= 0xDF && cont(i + 1)) { i += 2; continue; }
    if (c == 0xE0 && cont(i + 1, 0xA0) && cont(i + 2)) { i += 3; continue; }
    if (((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) && cont(i + 1) && cont(i + 2)) { i += 3; continue; }
    if (c == 0xED && cont(i + 1, 0x80, 0x9F) && cont(i + 2)) { i += 3; continue; }
    if (c == 0xF0 && cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3)) { i += 4; continue; }
    if (c >= 0xF1 && c <= 0xF3 && cont(i + 1) && cont(i + 2) && cont(i + 3)) { i += 4; continue; }
    if (c == 0xF4 && cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3)) { i += 4; continue; }
    return false;
  }
  return true;
}

TEST(Utf8StreamDecoder, ReplacesInvalidSequences) {
  const ByteTokenizer tok;
  auto s = [&](const std::string& bytes) { return stream(tok, tok.encode(bytes, false)); };
  EXPECT_EQ(s("\x80"), kReplacement);                        // stray continuation
  EXPECT_EQ(s("\xC0\xAF"), kReplacement + kReplacement);     // overlong lead, then stray
  EXPECT_EQ(s("\xE2\x82"), kReplacement);                    // truncated at the end
  EXPECT_EQ(s("\xE2\x82x"), kReplacement + "x");             // cut off by ASCII
  EXPECT_EQ(s("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);  // surrogate
  EXPECT_EQ(s("\xF4\x90\x80\x80"), std::string() + kReplacement + kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(s("\xFF"), kReplacement);
  // A special token inside a character does not break it.
  auto ids = tok.encode("€", false);
  ids.insert(ids.begin() + 1, ByteTokenizer::kEos);
  EXPECT_EQ(stream(tok, ids), "€");
}

TEST(Utf8StreamDecoder, AlwaysEmitsValidUtf8AndPassesValidTextThrough) {
  const ByteTokenizer tok;
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(0x70 + rng() % 0x90);  // mostly high bytes
    const std::string out = stream(tok, tok.encode(bytes, false));
    ASSERT_TRUE(valid_utf8(out)) << "trial " << trial;
    if (valid_utf8(bytes)) {
      EXPECT_EQ(out, bytes);
    }
  }
  const std::string text = "Grüße, 世界! 🙂🙃 ok";
  EXPECT_EQ(stream(tok, tok.encode(text, true)), text);
}

}  // namespace
}  // namespace parklock::engine::testing
