// CheckPipeline: every check of one bundle, in order, and the verdict.
//
// Order: "manifest" (bundle.toml read through BundleDir and parsed), "integrity" (the walk,
// hashing every file unless intake already did, compared with [[files]]), "intake" (the same
// name and version already served: a no-op when identical, duplicate-version otherwise), then
// the configured [[checks]] in config order. Every check runs and reports even after one fails,
// so a producer can fix everything in one go; only checks that cannot run are skipped: all
// content checks when the manifest is invalid, or when the tree is unsafe to open.
//
// A gate (Check::gates_pipeline, the signature check) that fails or errors stops the configured
// checks after it: they are reported as skipped, and no plugin sees the bundle.
//
// The verdict: promoted only when no check failed or errored; the first failing check, in the
// order above, gives the reason. A verdict comes only from what the bundle is: when the agent's
// own failure stopped a check (a read error, EACCES, EMFILE, a plugin it could not start:
// Verdict::kHeld), the report is `held` and decides nothing, whatever else failed; the bundle is
// checked again later. With `require_parity` a bundle whose model format no
// configured check handles is rejected (plugin-error): no parity, no promotion.
//
// Thread safety: a pipeline is immutable once built; RunAsync may be called for several bundles
// at once. Each run's state lives until its `done` is called on env.loop.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/bundle/bundle_walk.h"
#include "agent/checks/check.h"
#include "agent/config/config.h"
#include "agent/manifest/manifest.h"

namespace bg {

struct BundleReport {
  std::string bundle_dir;
  std::optional<Manifest> manifest;
  std::string manifest_sha256;  // of bundle.toml's bytes, when it could be read
  std::optional<WalkReport> walk;
  std::vector<CheckResult> results;
  bool passed = false;
  bool cancelled = false;       // shutdown interrupted the run: no verdict
  bool held = false;            // the agent's own failure stopped a check: no verdict
  std::string held_why;         // that check's summary
  int held_errno = 0;
  bool already_served = false;  // identical bundle already in serving/: promotion is a no-op
  std::string reason;           // the first failing check's reason; empty when passed
  std::string message;          // its summary
  std::string digest;           // BundleDigest of [[files]], when the manifest is valid
  Json signer;                  // who signed it (the signature check's details.signer), or null

  Json ToJson() const;
};

class CheckPipeline {
 public:
  struct Options {
    LimitsConfig limits;
    std::string serving_dir;  // for the duplicate-version check; empty: skipped
    bool require_parity = true;
    int hash_threads = 1;  // the integrity check hashes a bundle's files on up to this many
  };

  CheckPipeline(Options options, std::vector<std::shared_ptr<Check>> checks);

  // Runs the checks on the bundle directory at `bundle_dir`. `walk`: what copy intake found
  // while copying (hashes included), or nullopt to walk and hash here.
  void RunAsync(const std::string& bundle_dir, std::optional<WalkReport> walk,
                const CheckEnv& env, const std::atomic<bool>* cancelled,
                std::function<void(BundleReport)> done) const;

  // Blocking convenience for the CLI and tests: a private loop and `threads` workers.
  BundleReport Run(const std::string& bundle_dir, const std::atomic<bool>* cancelled = nullptr,
                   int threads = 2) const;

  const std::vector<std::shared_ptr<Check>>& checks() const { return checks_; }

 private:
  struct RunState;
  void Prelude(RunState& state) const;
  void Next(std::shared_ptr<RunState> state, std::size_t index) const;
  void Finish(std::shared_ptr<RunState> state) const;

  Options options_;
  std::vector<std::shared_ptr<Check>> checks_;
};

}  // namespace bg
