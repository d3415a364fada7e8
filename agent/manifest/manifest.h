// Manifest: bundle.toml, parsed and validated exactly as SPEC.md ("The bundle") says.
//
// ParseManifest never throws; every problem found (not only the first) is reported in one
// manifest-invalid Status, each naming the line, the field and why. Beyond SPEC.md's fields a
// producer may add a free-form [metadata] table, which is kept but not interpreted; any other
// unknown key is an error, as in the config.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

inline constexpr const char* kManifestFileName = "bundle.toml";
inline constexpr const char* kManifestSignatureFileName = "bundle.toml.sig";  // SSH signature
inline constexpr const char* kModelSignatureFileName = "model.sig";  // OpenSSF model signing
inline constexpr std::int64_t kManifestFormat = 1;

struct ManifestFile {
  std::string path;  // as declared; integrity rejects it (unsafe-path) unless IsSafeRelativePath
  std::uint64_t size = 0;
  std::string sha256;  // 64 lower-case hex
};

struct SignatureEntry {
  std::string name;  // state_dict key
  std::string kind;  // "parameter" or "buffer"
  std::vector<std::int64_t> shape;
  std::string dtype;  // torch dtype name without "torch."
};

struct Tolerance {
  double rtol = 0;
  double atol = 0;
};

struct Manifest {
  std::int64_t format = kManifestFormat;
  std::string name;
  std::string version;
  std::string created;  // RFC 3339, as written

  struct Source {
    std::string repo;    // informational, may be empty
    std::string commit;  // 40 or 64 lower-case hex
    bool dirty = false;
    std::string branch;  // informational, may be empty
    std::string lockfile_path;
    std::string preprocessing_path;
  } source;

  struct Model {
    std::string path;
    std::string format;
    std::vector<SignatureEntry> signature;  // empty: no architecture contract
  } model;

  struct Inference {
    std::string device = "cpu";
    std::int64_t threads = 1;
    std::int64_t max_batch = 64;
  };
  std::optional<Inference> inference;

  struct Dependencies {
    std::string lockfile;
  } dependencies;

  struct Preprocessing {
    std::string version;
    std::string spec;
  } preprocessing;

  struct Parity {
    std::string inputs;
    std::string expected;
    std::map<std::string, Tolerance> tolerance;  // per output key
  } parity;

  std::vector<ManifestFile> files;
  Json metadata = Json::object();  // the producer's free-form [metadata]

  // The form given to plugins ("manifest" in the request) and shown by `check --json`.
  Json ToJson() const;
  // A file entry by path; nullptr when not listed.
  const ManifestFile* FindFile(std::string_view path) const;
};

// Parses and validates bundle.toml's text. `source` names the file in messages.
Result<Manifest> ParseManifest(std::string_view text, const std::string& source = kManifestFileName);

// The name and version rules of SPEC.md.
bool IsValidBundleName(std::string_view name);
bool IsValidBundleVersion(std::string_view version);
// Relative, '/'-separated, no empty, "." or ".." component, no leading '/', no NUL or '\\'.
bool IsSafeRelativePath(std::string_view path);
// The dtype names a signature may use (torch's, without "torch.").
bool IsKnownDtypeName(std::string_view dtype);

}  // namespace bg
