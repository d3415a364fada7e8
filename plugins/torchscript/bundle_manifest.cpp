#include "plugins/torchscript/bundle_manifest.h"

namespace bg::torchscript {
namespace {

using sdk::Json;
using sdk::Result;
using sdk::Status;

// Walks one JSON object, recording the first problem.
class Fields {
 public:
  Fields(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}

  const Json* Get(const char* key, bool required) {
    const Json* v = j_.is_object() && j_.contains(key) ? &j_.at(key) : nullptr;
    if (!v && required) Problem(key, "is missing");
    return v;
  }
  std::string String(const char* key, bool required = true) {
    const Json* v = Get(key, required);
    if (v && !v->is_string()) Problem(key, "is not a string");
    return v && v->is_string() ? v->get<std::string>() : "";
  }
  std::int64_t Int(const char* key, std::int64_t fallback) {
    const Json* v = Get(key, false);
    if (v && !v->is_number_integer()) Problem(key, "is not an integer");
    return v && v->is_number_integer() ? v->get<std::int64_t>() : fallback;
  }
  double Number(const char* key) {
    const Json* v = Get(key, true);
    if (v && !v->is_number()) Problem(key, "is not a number");
    return v && v->is_number() ? v->get<double>() : 0;
  }
  const Json& Object(const char* key, bool required) {
    static const Json kEmpty = Json::object();
    const Json* v = Get(key, required);
    if (v && !v->is_object()) Problem(key, "is not an object");
    return v && v->is_object() ? *v : kEmpty;
  }
  void Problem(const std::string& key, const std::string& what) {
    if (problem_.empty()) problem_ = path_ + "." + key + " " + what;
  }
  const std::string& problem() const { return problem_; }

 private:
  const Json& j_;
  std::string path_;
  std::string problem_;
};

std::vector<std::int64_t> ReadShape(const Json* v, Fields& f) {
  std::vector<std::int64_t> shape;
  if (!v || !v->is_array()) {
    f.Problem("shape", "is not an array");
    return shape;
  }
  for (const auto& d : *v) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
      f.Problem("shape", "holds a bad dimension");
    shape.push_back(d.is_number_integer() ? d.get<std::int64_t>() : -1);
  }
  return shape;
}

std::string ReadSignature(const Json& model, BundleManifest& m) {
  if (!model.contains("signature")) return "";
  const Json& sig = model.at("signature");
  if (!sig.is_array()) return "manifest.model.signature is not an array";
  for (std::size_t i = 0; i < sig.size(); ++i) {
    Fields f(sig[i], "manifest.model.signature[" + std::to_string(i) + "]");
    SignatureEntry e{f.String("name"), f.String("kind"), ReadShape(f.Get("shape", true), f),
                     f.String("dtype")};
    if (!f.problem().empty()) return f.problem();
    m.signature.push_back(std::move(e));
  }
  return "";
}

std::string ReadTolerance(const Json& parity, BundleManifest& m) {
  Fields p(parity, "manifest.parity");
  const Json& tol = p.Object("tolerance", false);
  if (!p.problem().empty()) return p.problem();
  for (const auto& [key, value] : tol.items()) {
    Fields f(value, "manifest.parity.tolerance." + key);
    ToleranceSpec t{f.Number("rtol"), f.Number("atol")};
    if (f.problem().empty() && (t.rtol < 0 || t.atol < 0)) f.Problem("rtol", "or atol is negative");
    if (!f.problem().empty()) return f.problem();
    m.tolerance[key] = t;
  }
  return "";
}

void ReadInference(Fields& top, BundleManifest& m) {
  const Json* inf = top.Get("inference", false);
  if (!inf || inf->is_null()) return;
  Fields f(*inf, "manifest.inference");
  m.has_inference = true;
  m.device = f.String("device", false);
  if (m.device.empty()) m.device = "cpu";
  m.threads = f.Int("threads", 0);
  m.max_batch = f.Int("max_batch", 64);
  if (m.device != "cpu" && m.device != "cuda") f.Problem("device", "is not \"cpu\" or \"cuda\"");
  if (m.threads < 0 || m.max_batch < 1) f.Problem("threads", "or max_batch is out of range");
  if (!f.problem().empty()) top.Problem("inference", "is invalid: " + f.problem());
}

}  // namespace

Result<BundleManifest> ParseBundleManifest(const Json& manifest) {
  BundleManifest m;
  Fields top(manifest, "manifest");
  m.name = top.String("name", false);
  m.version = top.String("version", false);
  Fields model(top.Object("model", true), "manifest.model");
  m.model_path = model.String("path");
  Fields prep(top.Object("preprocessing", true), "manifest.preprocessing");
  m.preprocessing_version = prep.String("version");
  const Json& parity_json = top.Object("parity", true);
  Fields parity(parity_json, "manifest.parity");
  m.parity_inputs = parity.String("inputs");
  m.parity_expected = parity.String("expected");
  ReadInference(top, m);
  for (const auto* f : {&top, &model, &prep, &parity}) {
    if (!f->problem().empty()) return Status::Error("request: " + f->problem());
  }
  std::string problem = ReadSignature(top.Object("model", true), m);
  if (problem.empty()) problem = ReadTolerance(parity_json, m);
  if (!problem.empty()) return Status::Error("request: " + problem);
  return m;
}

}  // namespace bg::torchscript
