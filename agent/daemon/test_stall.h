// Test-only stalls, inert unless their environment variable is set (like BUNDLEGATE_CRASH_AT):
//   BUNDLEGATE_TEST_STALL_RECOVERY_S=<s>  recovery sleeps <s> seconds before it starts, so that
//                                         a test can see /readyz say "recovering" and /healthz
//                                         stay healthy meanwhile;
//   BUNDLEGATE_TEST_STALL_LOOP_S=<s>      SIGUSR2 makes the event loop itself sleep <s> seconds:
//                                         a stuck loop, for /healthz and the watchdog. (SIGSTOP
//                                         cannot stand in: it stops the probing thread too.)
// Never set them in production; nothing else reads them.
//
// Thread safety: StallFor* may be called from any thread; InstallLoopStall on the loop's thread
// before it runs.
#pragma once

#include <memory>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace bg {

// Sleeps for BUNDLEGATE_TEST_STALL_RECOVERY_S, if set.
void StallForRecoveryIfAsked();

// With BUNDLEGATE_TEST_STALL_LOOP_S set: a SIGUSR2 handler on `loop` that blocks the loop. The
// returned object keeps it installed; null when the variable is unset.
std::shared_ptr<void> InstallLoopStallIfAsked(boost::asio::io_context& loop);

}  // namespace bg
