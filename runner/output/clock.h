// Event times: bpf_ktime_get_ns() is CLOCK_MONOTONIC; people read wall-clock
// time. Formatting is cached per second, so a burst of events formats the
// date once.
#pragma once

#include <cstdint>
#include <string>

namespace skbtrail {

class MonotonicToWall {
 public:
  MonotonicToWall();  // samples both clocks now
  explicit MonotonicToWall(int64_t offset_ns) : offset_ns_(offset_ns) {}
  // CLOCK_REALTIME nanoseconds (pcapng timestamps)
  // (unsigned arithmetic: a damaged --replay timestamp wraps instead of overflowing)
  int64_t wall_ns(uint64_t monotonic_ns) const {
    return static_cast<int64_t>(monotonic_ns + static_cast<uint64_t>(offset_ns_));
  }
  // "08:41:02.123456" (local time, µs)
  std::string time_of_day(uint64_t monotonic_ns) const;
  void append_time_of_day(std::string& out, uint64_t monotonic_ns) const;
  // "2026-11-22T08:41:02.123456Z" (UTC, µs), for JSON
  std::string iso8601(uint64_t monotonic_ns) const;
  void append_iso8601(std::string& out, uint64_t monotonic_ns) const;  // without quotes

 private:
  int64_t offset_ns_;
  mutable int64_t cached_second_ = -1;
  mutable char cached_hms_[9] = {};  // "HH:MM:SS"
  mutable int64_t cached_utc_second_ = -1;
  mutable char cached_utc_[20] = {};  // "YYYY-MM-DDTHH:MM:SS"
};

// "12.000345": seconds since boot with microseconds (trace -t).
void append_boot_seconds(std::string& out, uint64_t monotonic_ns);

}  // namespace skbtrail
