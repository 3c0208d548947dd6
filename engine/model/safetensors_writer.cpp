// safetensors writer; the format and the reader are in safetensors.h/.cpp.
#include <cstdio>
#include <cstring>
#include <fstream>

#include "engine/model/float_convert.h"
#include "engine/model/safetensors.h"
#include "engine/model/strict_json.h"

namespace parklock::engine {
namespace {

uint64_t entry_bytes(const SafetensorsEntry& e) {
  uint64_t n = 1;
  for (int64_t d : e.shape) n *= static_cast<uint64_t>(d);
  return n * dtype_size(e.dtype);
}

std::string build_header(std::span<const SafetensorsEntry> entries,
                         const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const SafetensorsEntry& e : entries) {
    if (header.contains(e.name)) throw SafetensorsError("tensor '" + e.name + "' given twice");
    const uint64_t bytes = entry_bytes(e);
    header[e.name] = {{"dtype", dtype_name(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

// The bytes of one tensor in its stored dtype.
std::vector<char> encode(const SafetensorsEntry& e) {
  std::vector<float> values(entry_bytes(e) / dtype_size(e.dtype));
  e.fill(values);
  std::vector<char> bytes(entry_bytes(e));
  for (size_t i = 0; i < values.size(); ++i) {
    switch (e.dtype) {
      case Dtype::kF32: std::memcpy(&bytes[4 * i], &values[i], 4); break;
      case Dtype::kF16: {
        const uint16_t h = f32_to_f16(values[i]);
        std::memcpy(&bytes[2 * i], &h, 2);
        break;
      }
      case Dtype::kBF16: {
        const uint16_t h = f32_to_bf16(values[i]);
        std::memcpy(&bytes[2 * i], &h, 2);
        break;
      }
    }
  }
  return bytes;
}

}  // namespace

SafetensorsEntry SafetensorsEntry::of(std::string name, std::vector<int64_t> shape,
                                      std::span<const float> data, Dtype dtype) {
  return SafetensorsEntry{.name = std::move(name),
                          .shape = std::move(shape),
                          .dtype = dtype,
                          .fill = [data](std::span<float> dst) {
                            if (dst.size() != data.size())
                              throw SafetensorsError("tensor data size does not match its shape");
                            std::copy(data.begin(), data.end(), dst.begin());
                          }};
}

void write_safetensors(const std::string& path, std::span<const SafetensorsEntry> entries,
                       const std::map<std::string, std::string>& metadata) {
  for (const SafetensorsEntry& e : entries) {
    if (e.name == "__metadata__") throw SafetensorsError(path + ": '__metadata__' is reserved");
    for (int64_t d : e.shape)
      if (d < 0) throw SafetensorsError(path + ": tensor '" + e.name + "' has a negative dimension");
  }
  const std::string header = build_header(entries, metadata);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw SafetensorsError(tmp + ": cannot open for writing");
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(header.size() >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const SafetensorsEntry& e : entries) {
      const std::vector<char> bytes = encode(e);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    out.flush();
    if (!out) throw SafetensorsError(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw SafetensorsError(path + ": cannot rename from " + tmp + ": " + std::strerror(errno));
}

}  // namespace parklock::engine
