// The strict JSON reading behind safetensors headers and HTTP bodies.
#include <gtest/gtest.h>

#include "engine/model/strict_json.h"

namespace parklock::engine::testing {
namespace {

TEST(StrictJson, ParsesValuesInDocumentOrder) {
  const Json v = parse_strict_json(
      R"( {"z": [1, -2, 3.5e1, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00",
           "big": 9007199254740993, "o": {}} )");
  std::vector<std::string> keys;
  for (const auto& [k, _] : v.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "s", "big", "o"}));
  const Json& a = v["z"];
  EXPECT_EQ(exact_int64(a[0]), 1);
  EXPECT_EQ(exact_int64(a[1]), -2);
  EXPECT_EQ(exact_int64(a[2]), std::nullopt);  // not written as an integer
  EXPECT_EQ(v["s"].get<std::string>(), "x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(exact_int64(v["big"]), 9007199254740993);  // exact, not via double
  EXPECT_EQ(exact_int64(parse_strict_json("99999999999999999999")), std::nullopt);
  EXPECT_EQ(exact_int64(parse_strict_json("18446744073709551615")), std::nullopt);
}

TEST(StrictJson, RejectsNonStrictInput) {
  const char* bad[] = {
      "",           "{",         "{\"a\":1,}",   "[1,]",       "{'a':1}",    "{\"a\" 1}",
      "01",         "1.",        "-",            "1e",         "NaN",        "tru",
      "\"\\x\"",    "\"a",       "\"\t\"",       "{} x",       "{\"a\":1,\"a\":2}",
      "\"\\ud800\"", "\"\\udc00\"", "99999999999999999999x", "{\"a\":{\"b\":1,\"b\":2}}",
      "// c\n{}",
  };
  for (const char* text : bad) EXPECT_THROW(parse_strict_json(text), JsonError) << text;
  EXPECT_THROW(parse_strict_json(std::string(100, '[') + std::string(100, ']')), JsonError);
  EXPECT_NO_THROW(parse_strict_json(std::string(60, '[') + std::string(60, ']')));
  // The same key in sibling objects is fine.
  EXPECT_NO_THROW(parse_strict_json("[{\"a\":1},{\"a\":2}]"));
}

TEST(StrictJson, ErrorsNameThePosition) {
  try {
    parse_strict_json("{\"a\": tx}");
    FAIL();
  } catch (const JsonError& e) {
    EXPECT_NE(std::string(e.what()).find("column 8"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace parklock::engine::testing
