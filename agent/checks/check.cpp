#include "agent/checks/check.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace bg {

void Check::RunAsync(const BundleContext& ctx, const CheckEnv& env, Done done) {
  boost::asio::post(*env.pool, [this, &ctx, loop = env.loop, done = std::move(done),
                                guard = boost::asio::make_work_guard(*env.loop)]() mutable {
    CheckResult result = Run(ctx);
    boost::asio::post(*loop, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  });
}

}  // namespace bg
