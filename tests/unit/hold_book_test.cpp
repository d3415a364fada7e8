// The hold book (agent/daemon/hold_book.h), driven with a manual clock.
#include <catch2/catch.hpp>
#include <cerrno>

#include "agent/core/errno_status.h"
#include "agent/daemon/hold_book.h"

using namespace bg;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = HoldBook::Kind;
using News = HoldBook::News;

TEST_CASE("a fault is held with a doubling backoff, news once, repeats quiet") {
  HoldBook book({seconds(1), seconds(5)});
  HoldBook::TimePoint now{};
  const Status eio = ErrnoStatus("read", "x", EIO);
  CHECK(book.Hold("b", Kind::kFault, "copy", eio, now) == News::kNew);
  CHECK(book.Blocks("b"));
  CHECK(book.NextWakeup() == now + seconds(1));
  CHECK(book.Due(now + milliseconds(999)).empty());
  REQUIRE(book.Due(now + seconds(1)) == std::vector<std::string>{"b"});
  CHECK_FALSE(book.Blocks("b"));  // being tried again
  CHECK(book.Due(now + seconds(2)).empty());  // returned once
  now += seconds(1);
  CHECK(book.Hold("b", Kind::kFault, "copy", eio, now) == News::kRepeat);
  CHECK(book.NextWakeup() == now + seconds(2));
  CHECK(book.Hold("b", Kind::kFault, "copy", eio, now) == News::kRepeat);
  CHECK(book.NextWakeup() == now + seconds(4));
  CHECK(book.Hold("b", Kind::kFault, "copy", eio, now) == News::kRepeat);
  CHECK(book.NextWakeup() == now + seconds(5));  // capped
  CHECK(book.Hold("b", Kind::kFault, "checks", ErrnoStatus("open", "x", EMFILE), now) ==
        News::kChanged);
  const auto released = book.Release("b");
  REQUIRE(released.has_value());
  CHECK(released->failures == 5);
  CHECK_FALSE(book.Release("b").has_value());
  CHECK(book.empty());
}

TEST_CASE("status JSON names the errno, the step and when it is tried next") {
  HoldBook book({seconds(1), seconds(300)});
  HoldBook::TimePoint now{};
  book.Hold("b", Kind::kFault, "claim", ErrnoStatus("rename", "x", EACCES), now);
  book.Hold("big", Kind::kSpace, "space", Status::SystemError(ENOSPC, "needs 5 MiB"), now);
  const Json j = book.ToJson(now, std::chrono::system_clock::now());
  REQUIRE(j.size() == 2);
  CHECK(j[0]["inbox_name"] == "b");
  CHECK(j[0]["errno"] == "EACCES");
  CHECK(j[0]["step"] == "claim");
  CHECK(j[0]["next_attempt"].is_string());
  CHECK(j[1]["kind"] == "space");
  // A wait for space blocks nothing and never falls due on the backoff: the disk check decides.
  CHECK_FALSE(book.Blocks("big"));
  CHECK(book.Due(now + seconds(100)) == std::vector<std::string>{"b"});
}
