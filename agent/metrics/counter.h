// Counter: a value that only goes up (decisions made, records written), from zero at start.
//
// Thread safety: none; a counter belongs to one thread (the agent's loop). Values other threads
// count (the audit log's, the HTTP server's) are read at scrape time instead.
#pragma once

namespace bg {

class Counter {
 public:
  // `by` must not be negative; a negative amount is ignored (a counter never goes down).
  void Inc(double by = 1) {
    if (by > 0) value_ += by;
  }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

}  // namespace bg
