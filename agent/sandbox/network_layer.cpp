// The network layer: a network namespace of the run's own, with no interface but a loopback
// that stays down, so that nothing it starts reaches any network, the host's loopback included.
// (The seccomp layer also refuses sockets other than AF_UNIX, and Landlock ABI 4+ TCP bind and
// connect, for kernels or hosts where this namespace is refused.)
#include <sched.h>

#include <cerrno>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {
namespace {

void Enter(const Prepared&, Report& r) {
  LayerResult& res = r.of(Layer::kNetwork);
  if (::unshare(CLONE_NEWNET) == 0) {
    MarkApplied(res);
  } else {
    MarkFailed(res, 1, errno);
  }
}

void Describe(const Prepared&, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kNetwork);
  if (res.state == LayerState::kApplied) return;
  out.why = "unshare(CLONE_NEWNET): " + ErrnoName(res.err);
  if (r.userns < 0) out.why += "; no user namespace either: " + ErrnoName(r.userns_err);
}

}  // namespace

const LayerOps kNetworkLayer = {Layer::kNetwork, nullptr, Enter, nullptr, Describe};

}  // namespace bg::sandbox::internal
