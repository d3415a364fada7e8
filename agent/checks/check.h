// Check: one configured check of a bundle (a built-in like "git", or a plugin).
//
// A check sees the bundle through a BundleContext: the open directory (read files only through
// BundleDir, never by path), the parsed manifest and the walk (what is on disk, hashed). It
// returns a CheckResult; rejecting a bundle is a normal result, not an error.
//
// Built-in checks implement the blocking Run(); the pipeline runs them on the worker pool so the
// event loop never waits on one. Checks that wait on something else (a plugin's child process)
// override RunAsync() and stay on the event loop.
//
// Thread safety: a Check is built once per config and used for many bundles, possibly at the
// same time from several workers: Run and RunAsync must not mutate shared state unguarded.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/bundle_walk.h"
#include "agent/checks/check_result.h"
#include "agent/manifest/manifest.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace bg {

struct BundleContext {
  const BundleDir* dir = nullptr;
  const Manifest* manifest = nullptr;  // null when the manifest is invalid
  const WalkReport* walk = nullptr;    // null when the walk failed
  // SHA-256 of the bundle.toml bytes that `manifest` was parsed from (a signature over
  // bundle.toml must be over these very bytes); empty when it could not be read.
  std::string_view manifest_sha256;
  const std::atomic<bool>* cancelled = nullptr;  // set on shutdown: finish quickly

  bool is_cancelled() const { return cancelled != nullptr && cancelled->load(); }
};

// Where checks run: blocking work goes to `pool`, completions come back on `loop`.
struct CheckEnv {
  boost::asio::io_context* loop = nullptr;
  boost::asio::thread_pool* pool = nullptr;
};

class Check {
 public:
  virtual ~Check() = default;
  using Done = std::function<void(CheckResult)>;

  virtual std::string_view kind() const = 0;
  // The blocking form. Checks that only have an asynchronous form run it on a private loop.
  virtual CheckResult Run(const BundleContext& ctx) = 0;
  // Calls `done` exactly once, on env.loop. The default runs Run() on env.pool.
  // `ctx` and what it points to stay valid until `done` is called.
  virtual void RunAsync(const BundleContext& ctx, const CheckEnv& env, Done done);
  // A gate: when its result blocks promotion, the configured checks after it are not run (the
  // signature check: nothing unsigned is handed to a plugin that loads the model).
  virtual bool gates_pipeline() const { return false; }
};

}  // namespace bg
