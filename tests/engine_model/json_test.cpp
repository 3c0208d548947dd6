// The strict JSON parser behind the safetensors header.
#include <gtest/gtest.h>

#include "engine/model/json.h"

namespace parklock::engine::testing {
namespace {

TEST(Json, ParsesValues) {
  const JsonValue v = JsonValue::parse(
      R"( {"a": [1, -2, 3.5e1, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00",
           "big": 9007199254740993, "o": {}} )");
  const auto& a = v.find("a")->as_array();
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].as_int64(), 1);
  EXPECT_EQ(a[1].as_int64(), -2);
  EXPECT_DOUBLE_EQ(a[2].as_double(), 35.0);
  EXPECT_THROW(a[2].as_int64(), JsonError);  // not written as an integer
  EXPECT_TRUE(a[3].as_bool());
  EXPECT_FALSE(a[4].as_bool());
  EXPECT_EQ(a[5].kind(), JsonValue::Kind::kNull);
  EXPECT_EQ(v.find("s")->as_string(), "x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(v.find("big")->as_int64(), 9007199254740993);  // exact, not via double
  EXPECT_TRUE(v.find("o")->as_object().empty());
  EXPECT_EQ(v.find("zzz"), nullptr);
}

TEST(Json, RejectsNonStrictInput) {
  const char* bad[] = {
      "",           "{",         "{\"a\":1,}",   "[1,]",       "{'a':1}",    "{\"a\" 1}",
      "01",         "1.",        "-",            "1e",         "NaN",        "tru",
      "\"\\x\"",    "\"a",       "\"\t\"",       "{} x",       "{\"a\":1,\"a\":2}",
      "\"\\ud800\"", "\"\\udc00\"", "99999999999999999999x",
  };
  for (const char* text : bad) EXPECT_THROW(JsonValue::parse(text), JsonError) << text;
  EXPECT_THROW(JsonValue::parse(std::string(100, '[') + std::string(100, ']')), JsonError);
}

TEST(Json, ErrorsNameTheOffset) {
  try {
    JsonValue::parse("{\"a\": tx}");
    FAIL();
  } catch (const JsonError& e) {
    EXPECT_NE(std::string(e.what()).find("at byte 6"), std::string::npos) << e.what();
  }
}

TEST(Json, OutOfRangeIntegerIsNotExact) {
  const JsonValue v = JsonValue::parse("99999999999999999999");
  EXPECT_THROW(v.as_int64(), JsonError);
  EXPECT_GT(v.as_double(), 9e19);
}

}  // namespace
}  // namespace parklock::engine::testing
