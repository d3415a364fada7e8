// ModelSigningStatement: the in-toto Statement (v1) that model_signing signs, the DSSE payload of
// model.sig:
//
//   {"_type": "https://in-toto.io/Statement/v1",
//    "subject": [{"name": "<model directory name>", "digest": {"sha256": "<hex>"}}],
//    "predicateType": "https://model_signing/signature/v1.0",
//    "predicate": {"serialization": {"method": "files", "hash_type": "sha256",
//                                    "allow_symlinks": false, "ignore_paths": [...]},
//                  "resources": [{"name": "<path>", "algorithm": "sha256", "digest": "<hex>"}]}}
//
// The subject's digest is SHA-256 over the resources' raw digests concatenated in the order the
// resources are listed (model_signing lists them sorted by path components, and verifies in
// listed order): SubjectDigest() recomputes it. Only what a verifier of predicate v1.0 may rely
// on is read; other predicate fields are ignored, as the predicate's definition says.
//
// Parsed strictly after the envelope's signature verified: exactly one subject; method "files"
// (shards are refused: "shards" resources name byte ranges, which the gate's per-file integrity
// does not cover) and SHA-256 (blake2/blake3 refused), for every resource too; digests of 64
// hex digits; resource names unique, safe relative paths ('/'-separated, no "..", "." or empty
// component, no leading '/'), or "." alone for a model that is a single file. The v0.2
// predicate (https://model_signing/Digests/v0.1, before model_signing 1.0) is refused.
//
// Thread safety: pure functions and plain data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"

namespace bg {

inline constexpr std::string_view kInTotoStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kModelSigningPredicateType =
    "https://model_signing/signature/v1.0";

struct ModelSigningResource {
  std::string name;    // relative path, or "." for a single-file model
  std::string digest;  // 64 lower-case hex (normalized from what was written)
};

struct ModelSigningStatement {
  std::string subject_name;
  std::string subject_sha256;  // as written: must be lower-case hex
  std::string method;          // "files"
  std::string hash_type;       // "sha256"
  bool allow_symlinks = false;
  std::vector<std::string> ignore_paths;  // what the signer excluded, as recorded
  std::vector<ModelSigningResource> resources;  // in listed order
};

// Failures are signature-invalid rejections.
Result<ModelSigningStatement> ParseModelSigningStatement(std::string_view payload_json);

// Hex SHA-256 over the raw digests of `resources`, in order.
std::string ModelSigningSubjectDigest(const std::vector<ModelSigningResource>& resources);

// Sorts paths as model_signing does (Python PurePosixPath order: component by component).
bool ModelSigningPathLess(std::string_view a, std::string_view b);

// The producer side: the statement's JSON (two-space indent, like protobuf's MessageToJson).
// `resources` must already be in ModelSigningPathLess order.
std::string ModelSigningStatementJson(const std::string& subject_name,
                                      const std::vector<ModelSigningResource>& resources,
                                      const std::vector<std::string>& ignore_paths);

}  // namespace bg
