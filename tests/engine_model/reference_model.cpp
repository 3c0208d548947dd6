#include "reference_model.h"

#include <cmath>

#include "engine/model/llama_layout.h"

namespace parklock::engine::testing {
namespace {

std::vector<double> read(const TensorSource& src, const std::string& name) {
  const auto shape = src.shape_of(name);
  int64_t n = 1;
  for (int64_t d : *shape) n *= d;
  std::vector<float> f(n);
  src.read_f32(name, f);
  return std::vector<double>(f.begin(), f.end());
}

// y = W x for W [out, in]
std::vector<double> matvec(const std::vector<double>& w, const std::vector<double>& x, int out) {
  const size_t in = x.size();
  std::vector<double> y(out, 0.0);
  for (int o = 0; o < out; ++o)
    for (size_t i = 0; i < in; ++i) y[o] += w[o * in + i] * x[i];
  return y;
}

std::vector<double> rms_norm(const std::vector<double>& x, const std::vector<double>& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double inv = 1.0 / std::sqrt(ss / x.size() + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * w[i];
  return y;
}

// Rotate-half RoPE on each head of a [heads * D] vector.
void rope(std::vector<double>& x, int heads, int d, int pos, double theta) {
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < d / 2; ++i) {
      const double angle = pos * std::pow(theta, -2.0 * i / d);
      double& a = x[h * d + i];
      double& b = x[h * d + i + d / 2];
      const double a0 = a, b0 = b;
      a = a0 * std::cos(angle) - b0 * std::sin(angle);
      b = b0 * std::cos(angle) + a0 * std::sin(angle);
    }
  }
}

}  // namespace

ReferenceModel::ReferenceModel(const ModelConfig& c, const TensorSource& src,
                               const ReferenceLora& lora)
    : c_(c) {
  embed_ = read(src, kEmbedName);
  final_norm_ = read(src, kFinalNormName);
  lm_head_ = c.tie_embeddings ? embed_ : read(src, kLmHeadName);
  for (int l = 0; l < c.num_layers; ++l) {
    Layer layer;
    layer.attn_norm = read(src, layer_tensor_name(l, kAttnNormModule));
    layer.mlp_norm = read(src, layer_tensor_name(l, kMlpNormModule));
    Matrix* targets[] = {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down};
    for (Projection p : kAllProjections) {
      Matrix& w = *targets[static_cast<int>(p)];
      w = read(src, layer_tensor_name(l, projection_module(p)));
      if (lora.source == nullptr) continue;
      // Effective weight W + scale * B A, the definition of LoRA.
      const std::string base = "base_model.model.model.layers." + std::to_string(l) + "." +
                               std::string(projection_module(p));
      if (!lora.source->shape_of(base + ".lora_A.weight")) continue;
      const std::vector<double> a = read(*lora.source, base + ".lora_A.weight");
      const std::vector<double> b = read(*lora.source, base + ".lora_B.weight");
      const ProjectionShape s = projection_shape(c, p);
      const int r = static_cast<int>(a.size() / s.in_features);
      for (int o = 0; o < s.out_features; ++o)
        for (int i = 0; i < s.in_features; ++i) {
          double delta = 0;
          for (int j = 0; j < r; ++j) delta += b[o * r + j] * a[j * s.in_features + i];
          w[o * s.in_features + i] += lora.scale * delta;
        }
    }
    layers_.push_back(std::move(layer));
  }
}

std::vector<std::vector<double>> ReferenceModel::logits(const std::vector<int32_t>& tokens) const {
  const int h = c_.hidden_size, d = c_.head_dim;
  const int group = c_.num_heads / c_.num_kv_heads;
  // keys[layer][pos] and values[layer][pos]: [NKV * D] each
  std::vector<std::vector<std::vector<double>>> keys(c_.num_layers), values(c_.num_layers);
  std::vector<std::vector<double>> out;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    std::vector<double> x(embed_.begin() + tokens[pos] * h, embed_.begin() + (tokens[pos] + 1) * h);
    for (int l = 0; l < c_.num_layers; ++l) {
      const Layer& w = layers_[l];
      const std::vector<double> xn = rms_norm(x, w.attn_norm, c_.rms_eps);
      std::vector<double> q = matvec(w.q, xn, c_.q_dim());
      std::vector<double> k = matvec(w.k, xn, c_.kv_dim());
      const std::vector<double> v = matvec(w.v, xn, c_.kv_dim());
      rope(q, c_.num_heads, d, static_cast<int>(pos), c_.rope_theta);
      rope(k, c_.num_kv_heads, d, static_cast<int>(pos), c_.rope_theta);
      keys[l].push_back(k);
      values[l].push_back(v);
      std::vector<double> attn(c_.q_dim(), 0.0);
      for (int head = 0; head < c_.num_heads; ++head) {
        const int kvh = head / group;
        std::vector<double> scores(pos + 1);
        double max_score = -INFINITY;
        for (size_t j = 0; j <= pos; ++j) {
          double dot = 0;
          for (int i = 0; i < d; ++i) dot += q[head * d + i] * keys[l][j][kvh * d + i];
          scores[j] = dot / std::sqrt(static_cast<double>(d));
          max_score = std::max(max_score, scores[j]);
        }
        double sum = 0;
        for (double& s : scores) sum += (s = std::exp(s - max_score));
        for (size_t j = 0; j <= pos; ++j)
          for (int i = 0; i < d; ++i)
            attn[head * d + i] += scores[j] / sum * values[l][j][kvh * d + i];
      }
      const std::vector<double> o = matvec(w.o, attn, h);
      for (int i = 0; i < h; ++i) x[i] += o[i];
      const std::vector<double> xn2 = rms_norm(x, w.mlp_norm, c_.rms_eps);
      const std::vector<double> g = matvec(w.gate, xn2, c_.ffn_size);
      const std::vector<double> u = matvec(w.up, xn2, c_.ffn_size);
      std::vector<double> act(c_.ffn_size);
      for (int i = 0; i < c_.ffn_size; ++i) act[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const std::vector<double> down = matvec(w.down, act, h);
      for (int i = 0; i < h; ++i) x[i] += down[i];
    }
    out.push_back(matvec(lm_head_, rms_norm(x, final_norm_, c_.rms_eps), c_.vocab_size));
  }
  return out;
}

}  // namespace parklock::engine::testing
