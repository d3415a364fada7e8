// AllowedSigners: OpenSSH's allowed_signers file (ssh-keygen(1), ALLOWED SIGNERS), which says
// which SSH keys may sign as which principals:
//
//   # comment
//   release@acme.com,ci@acme.com namespaces="bundlegate,git",valid-after="20260101" ssh-ed25519 AAAA...
//   *@acme.com valid-before="20270101Z" ecdsa-sha2-nistp256 AAAA... comment
//
// Fields: principals (a pattern-list, optionally in double quotes), options (comma-separated,
// case-insensitive names: cert-authority, namespaces="<pattern-list>", valid-after="<time>",
// valid-before="<time>"), key type, base64 key, optional comment. Times are YYYYMMDD[HHMM[SS]]
// with an optional "Z" or "UTC" suffix for UTC, else in the process's local time zone, exactly
// as ssh-keygen reads them.
//
// Stricter than ssh-keygen, which only reports a bad line when it reaches it: the whole file is
// parsed up front and any malformed line is an error naming the file and line, so a typo is a
// configuration error rather than a key that silently never matches. Lines whose key type is
// well formed but not supported here (ssh-dss, sk-* security keys, a certificate in the key
// position) and cert-authority lines (bundlegate does not verify SSH certificates) are kept out
// of matching and listed in warnings().
//
// Thread safety: immutable after Parse; Find may be called from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/signature/ssh_key.h"

namespace bg {

inline constexpr std::size_t kMaxAllowedSignersBytes = 4u << 20;

struct AllowedSigner {
  int line = 0;
  std::string principals;  // the pattern-list as written (quotes removed)
  bool cert_authority = false;
  std::optional<std::string> namespaces;
  std::optional<std::int64_t> valid_after;   // seconds since the epoch
  std::optional<std::int64_t> valid_before;
  SshPublicKey key;
};

// The answer to "may `key` sign in `namespace` at `time` (as `principal`)?".
struct SignerLookup {
  const AllowedSigner* signer = nullptr;  // the first line that allows it; null when none does
  std::string why_not;                    // then: the closest miss, in words
  bool key_listed = false;                // some line lists the key (but did not allow it)
};

class AllowedSigners {
 public:
  // `source` names the file in messages.
  static Result<AllowedSigners> Parse(std::string_view text, const std::string& source);
  // Reads and parses the file (at most kMaxAllowedSignersBytes).
  static Result<AllowedSigners> Load(const std::string& path);

  // As `ssh-keygen -Y verify -I principal -n namespace -Overify-time=time` decides whether a
  // key may sign; with an empty `principal`, as `-Y find-principals` followed by that check
  // (any principal of a line listing the key).
  SignerLookup Find(const SshPublicKey& key, std::string_view sig_namespace, std::int64_t time,
                    std::string_view principal = {}) const;

  const std::vector<AllowedSigner>& signers() const { return signers_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::vector<AllowedSigner> signers_;
  std::vector<std::string> warnings_;
};

// "YYYYMMDD", "YYYYMMDDHHMM" or "YYYYMMDDHHMMSS", with an optional "Z"/"UTC" suffix: seconds
// since the epoch (local time without the suffix); nullopt when malformed.
std::optional<std::int64_t> ParseSshTimestamp(std::string_view text);
// "2026-01-01T00:00:00Z" for messages.
std::string FormatUtc(std::int64_t seconds);

}  // namespace bg
