// safetensors: round trips in every dtype, and a clear error for each kind
// of malformed file.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/model/float_convert.h"
#include "engine/model/safetensors.h"
#include "test_util.h"

namespace parklock::engine::testing {
namespace {

TEST(Safetensors, RoundTripAllDtypes) {
  TempDir dir;
  // Values exact in bf16 and f16 (few significant bits), including a subnormal f16.
  const std::vector<float> a = {1.f, -2.5f, 0.f, 0.375f, 1024.f, -0.0625f};
  const std::vector<float> b = {3.f, 6.103515625e-05f / 4};
  const std::vector<float> empty;
  const std::vector entries = {
      SafetensorsEntry::of("a.f32", {2, 3}, a, Dtype::kF32),
      SafetensorsEntry::of("a.bf16", {3, 2}, a, Dtype::kBF16),
      SafetensorsEntry::of("b.f16", {2}, b, Dtype::kF16),
      SafetensorsEntry::of("weird \"name\"\n", {1, 2}, b),
      SafetensorsEntry::of("empty", {0, 4}, empty),
  };
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "q\"uote\\"}};
  write_safetensors(dir.file("t.safetensors"), entries, meta);

  const SafetensorsFile f(dir.file("t.safetensors"));
  EXPECT_EQ(f.metadata(), meta);
  ASSERT_EQ(f.tensors().size(), 5u);
  EXPECT_EQ(f.find("a.f32")->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.find("a.bf16")->dtype, Dtype::kBF16);
  EXPECT_EQ(f.read("a.f32"), a);
  EXPECT_EQ(f.read("a.bf16"), a);
  EXPECT_EQ(f.read("b.f16"), b);
  EXPECT_EQ(f.read("weird \"name\"\n"), b);
  EXPECT_TRUE(f.read("empty").empty());
  EXPECT_EQ(f.find("missing"), nullptr);
}

TEST(Safetensors, HalfConversionsRoundToNearestEven) {
  EXPECT_EQ(f32_to_f16(65504.f), 0x7BFF);      // largest finite
  EXPECT_EQ(f32_to_f16(65520.f), 0x7C00);      // rounds to infinity
  EXPECT_EQ(f32_to_f16(1.f + 1.f / 2048), 0x3C00);  // tie, to even
  EXPECT_EQ(f32_to_f16(5.96046448e-08f), 0x0001);   // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x0001), 5.96046448e-08f);
  EXPECT_EQ(f32_to_bf16(1.f + 1.f / 256), 0x3F80);  // tie, to even
  EXPECT_EQ(bf16_to_f32(0x3FC0), 1.5f);
  for (uint32_t h = 0; h < 0x7C00; ++h)  // every finite non-negative f16 survives a round trip
    ASSERT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h);
}

// Writes an 8-byte length, the header text and data bytes verbatim.
void write_raw(const std::string& path, const std::string& header, size_t data_bytes,
               std::optional<uint64_t> length_field = std::nullopt) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint64_t len = length_field.value_or(header.size());
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(len >> (8 * i)));
  out << header << std::string(data_bytes, '\0');
}

void expect_error(const std::string& path, const std::string& fragment) {
  try {
    SafetensorsFile f(path);
    ADD_FAILURE() << "no error, expected: " << fragment;
  } catch (const SafetensorsError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

std::string one_tensor(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
}

TEST(Safetensors, MalformedFilesGiveClearErrors) {
  TempDir dir;
  const std::string p = dir.file("bad.safetensors");

  expect_error(dir.file("absent.safetensors"), "cannot open");
  { std::ofstream(p) << "abc"; }
  expect_error(p, "too small for the 8-byte header length");
  write_raw(p, "{}", 0, 1000);
  expect_error(p, "header length 1000 exceeds");
  write_raw(p, "{\"w\":", 0);
  expect_error(p, "header is not valid JSON");
  write_raw(p, "{\"a\":1,}", 0);
  expect_error(p, "header is not valid JSON");
  write_raw(p, "[1,2]", 0);
  expect_error(p, "header must be a JSON object");
  write_raw(p, one_tensor("I64", "[2]", "[0,16]"), 16);
  expect_error(p, "unsupported dtype 'I64'");
  write_raw(p, one_tensor("F32", "[2,-1]", "[0,8]"), 8);
  expect_error(p, "non-negative integers");
  write_raw(p, one_tensor("F32", "[2,3]", "[0,20]"), 24);
  expect_error(p, "span 20 bytes, but shape [2, 3] of F32 needs 24");
  write_raw(p, one_tensor("F32", "[2,3]", "[0,24]"), 10);
  expect_error(p, "out of range: the data section is 10 bytes");
  write_raw(p, one_tensor("F32", "[1]", "[8,4]"), 8);
  expect_error(p, "begin after end");
  write_raw(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
  expect_error(p, "tensors 'a' and 'b' overlap");
  write_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4);
  expect_error(p, "unknown field 'x'");
  write_raw(p, "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4);
  expect_error(p, "missing field 'shape'");
  write_raw(p, "{\"__metadata__\":{\"k\":1}}", 0);
  expect_error(p, "__metadata__ value of 'k' must be a string");
  write_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
  expect_error(p, "duplicate key");
}

TEST(Safetensors, TruncatedDataIsReported) {
  TempDir dir;
  const std::string p = dir.file("t.safetensors");
  const std::vector<float> v(100, 1.f);
  write_safetensors(p, std::vector{SafetensorsEntry::of("v", {100}, v)});
  std::filesystem::resize_file(p, std::filesystem::file_size(p) - 7);
  expect_error(p, "out of range");
}

TEST(Safetensors, ReadIntoWrongSizeIsAnError) {
  TempDir dir;
  const std::string p = dir.file("t.safetensors");
  const std::vector<float> v(6, 1.f);
  write_safetensors(p, std::vector{SafetensorsEntry::of("v", {2, 3}, v)});
  const SafetensorsFile f(p);
  std::vector<float> small(5);
  EXPECT_THROW(f.read_f32("v", small), SafetensorsError);
  EXPECT_THROW(f.read("nope"), SafetensorsError);
}

}  // namespace
}  // namespace parklock::engine::testing
