#include "agent/signature/in_toto_statement.h"

#include <set>

#include "agent/core/bounded_json.h"
#include "agent/core/hex.h"
#include "agent/core/json.h"
#include "agent/core/sha256.h"
#include "agent/manifest/manifest.h"

namespace bg {
namespace {

Status Invalid(const std::string& message) {
  return Status::Reject(Reason::kSignatureInvalid, "model.sig statement: " + message);
}

Result<std::string> StringAt(const Json& j, std::string_view key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) return Invalid(where + ": \"" + std::string(key) + "\" is missing");
  if (!it->is_string()) return Invalid(where + "." + std::string(key) + " is not a string");
  return it->get<std::string>();
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (const char c : s) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

Status ReadSerialization(const Json& s, ModelSigningStatement& out) {
  const std::string where = "predicate.serialization";
  BG_ASSIGN_OR_RETURN(out.method, StringAt(s, "method", where));
  if (out.method == "shards") {
    return Invalid("serialization method \"shards\" is not supported: sign with the \"files\" "
                   "method (model_signing's default), one digest per file");
  }
  if (out.method != "files") return Invalid("unknown serialization method \"" + out.method.substr(0, 40) + "\"");
  BG_ASSIGN_OR_RETURN(out.hash_type, StringAt(s, "hash_type", where));
  if (out.hash_type != "sha256") {
    return Invalid("hash_type \"" + out.hash_type.substr(0, 40) +
                   "\" is not supported: sign with SHA-256 (model_signing's default)");
  }
  if (const auto it = s.find("allow_symlinks"); it != s.end()) {
    if (!it->is_boolean()) return Invalid(where + ".allow_symlinks is not a boolean");
    out.allow_symlinks = it->get<bool>();
  }
  if (const auto it = s.find("ignore_paths"); it != s.end()) {
    if (!it->is_array()) return Invalid(where + ".ignore_paths is not an array");
    for (const auto& p : *it) {
      if (!p.is_string()) return Invalid(where + ".ignore_paths holds a non-string");
      out.ignore_paths.push_back(p.get<std::string>());
    }
  }
  return Status::Ok();
}

Status ReadResources(const Json& list, ModelSigningStatement& out) {
  if (!list.is_array()) return Invalid("predicate.resources is not an array");
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& r = list[i];
    const std::string where = "predicate.resources[" + std::to_string(i) + "]";
    if (!r.is_object()) return Invalid(where + " is not an object");
    BG_ASSIGN_OR_RETURN(std::string name, StringAt(r, "name", where));
    BG_ASSIGN_OR_RETURN(std::string algorithm, StringAt(r, "algorithm", where));
    BG_ASSIGN_OR_RETURN(std::string digest, StringAt(r, "digest", where));
    if (algorithm != "sha256") {
      return Invalid(where + " (" + name.substr(0, 80) + "): algorithm \"" + algorithm.substr(0, 40) +
                     "\" is not supported (sha256 only)");
    }
    if (!IsHex64(digest)) return Invalid(where + " (" + name.substr(0, 80) + "): digest is not 64 hex digits");
    if (name != "." && !IsSafeRelativePath(name)) {
      return Invalid(where + ": name \"" + name.substr(0, 80) +
                     "\" is not a safe relative path");
    }
    if (!names.insert(name).second) return Invalid(where + ": \"" + name.substr(0, 80) + "\" is listed twice");
    out.resources.push_back({std::move(name), Lower(std::move(digest))});
  }
  if (names.count(".") && out.resources.size() != 1) {
    return Invalid("resource \".\" (a single-file model) must be the only resource");
  }
  return Status::Ok();
}

}  // namespace

Result<ModelSigningStatement> ParseModelSigningStatement(std::string_view payload_json) {
  auto parsed = ParseBoundedJson(payload_json, "model.sig statement", {16u << 20, 16});
  if (!parsed.ok()) return Status::Reject(Reason::kSignatureInvalid, parsed.status().message());
  const Json& j = *parsed;
  if (!j.is_object()) return Invalid("not a JSON object");
  BG_ASSIGN_OR_RETURN(const std::string type, StringAt(j, "_type", "statement"));
  if (type != kInTotoStatementType) {
    return Invalid("_type \"" + type.substr(0, 80) + "\", expected \"" + std::string(kInTotoStatementType) + "\"");
  }
  BG_ASSIGN_OR_RETURN(const std::string predicate_type, StringAt(j, "predicateType", "statement"));
  if (predicate_type == "https://model_signing/Digests/v0.1") {
    return Invalid("predicate type " + predicate_type +
                   " (model_signing before 1.0) is not supported; sign with model_signing 1.0 or later");
  }
  if (predicate_type != kModelSigningPredicateType) {
    return Invalid("predicateType \"" + predicate_type.substr(0, 80) + "\", expected \"" +
                   std::string(kModelSigningPredicateType) + "\"");
  }
  ModelSigningStatement out;
  const auto subjects = j.find("subject");
  if (subjects == j.end() || !subjects->is_array() || subjects->size() != 1) {
    return Invalid("\"subject\" must be an array of exactly one subject");
  }
  const Json& subject = (*subjects)[0];
  if (!subject.is_object()) return Invalid("subject[0] is not an object");
  if (const auto n = subject.find("name"); n != subject.end()) {
    if (!n->is_string()) return Invalid("subject[0].name is not a string");
    out.subject_name = n->get<std::string>();
  }
  const auto digest = subject.find("digest");
  if (digest == subject.end() || !digest->is_object()) return Invalid("subject[0].digest is missing");
  BG_ASSIGN_OR_RETURN(out.subject_sha256, StringAt(*digest, "sha256", "subject[0].digest"));
  if (!IsLowerHex(out.subject_sha256, 64)) return Invalid("subject[0].digest.sha256 is not 64 lower-case hex digits");

  const auto predicate = j.find("predicate");
  if (predicate == j.end() || !predicate->is_object()) return Invalid("\"predicate\" is missing");
  const auto serialization = predicate->find("serialization");
  if (serialization == predicate->end() || !serialization->is_object()) {
    return Invalid("predicate.serialization is missing");
  }
  BG_RETURN_IF_ERROR(ReadSerialization(*serialization, out));
  const auto resources = predicate->find("resources");
  if (resources == predicate->end()) return Invalid("predicate.resources is missing");
  BG_RETURN_IF_ERROR(ReadResources(*resources, out));
  return out;
}

std::string ModelSigningSubjectDigest(const std::vector<ModelSigningResource>& resources) {
  Sha256 hash;
  for (const auto& r : resources) {
    const auto raw = FromHex(r.digest);
    if (raw) hash.Update(*raw);
  }
  return hash.FinalHex();
}

bool ModelSigningPathLess(std::string_view a, std::string_view b) {
  while (true) {
    const std::size_t ea = a.find('/'), eb = b.find('/');
    const std::string_view ca = a.substr(0, ea), cb = b.substr(0, eb);
    if (ca != cb) return ca < cb;
    if (ea == std::string_view::npos || eb == std::string_view::npos) {
      return ea == std::string_view::npos && eb != std::string_view::npos;  // prefix first
    }
    a.remove_prefix(ea + 1);
    b.remove_prefix(eb + 1);
  }
}

std::string ModelSigningStatementJson(const std::string& subject_name,
                                      const std::vector<ModelSigningResource>& resources,
                                      const std::vector<std::string>& ignore_paths) {
  Json list = Json::array();
  for (const auto& r : resources) {
    list.push_back({{"name", r.name}, {"algorithm", "sha256"}, {"digest", r.digest}});
  }
  Json serialization = {{"method", "files"}, {"hash_type", "sha256"}, {"allow_symlinks", false}};
  if (!ignore_paths.empty()) serialization["ignore_paths"] = ignore_paths;
  const Json statement = {
      {"_type", kInTotoStatementType},
      {"subject", Json::array({{{"name", subject_name},
                                {"digest", {{"sha256", ModelSigningSubjectDigest(resources)}}}}})},
      {"predicateType", kModelSigningPredicateType},
      {"predicate", {{"serialization", serialization}, {"resources", list}}}};
  return DumpJson(statement, 2);
}

}  // namespace bg
