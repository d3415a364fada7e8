// Gauge: a value that goes up and down (a queue's length, a timestamp).
//
// Thread safety: none; owned by one thread.
#pragma once

namespace bg {

class Gauge {
 public:
  void Set(double value) { value_ = value; }
  void Add(double by) { value_ += by; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

}  // namespace bg
