#include "runner/output/clock.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace skbtrail {

MonotonicToWall::MonotonicToWall() {
  timespec mono{}, real{};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &real);
  offset_ns_ = (int64_t{real.tv_sec} - mono.tv_sec) * 1'000'000'000 + (real.tv_nsec - mono.tv_nsec);
}

namespace {
// ".uuuuuu": the microseconds of a time in ns, zero padded.
void append_micros(std::string& out, int64_t ns) {
  char micros[7] = {'.'};
  int64_t us = (ns % 1'000'000'000) / 1000;
  for (int i = 6; i >= 1; --i, us /= 10) micros[i] = static_cast<char>('0' + us % 10);
  out.append(micros, 7);
}
}  // namespace

void MonotonicToWall::append_time_of_day(std::string& out, uint64_t monotonic_ns) const {
  // A damaged --replay timestamp can land before 1970: shown as 1970.
  const int64_t wall = std::max<int64_t>(0, wall_ns(monotonic_ns));
  const int64_t second = wall / 1'000'000'000;
  if (second != cached_second_) {
    const time_t seconds = second;
    tm local{};
    ::localtime_r(&seconds, &local);
    fmt::format_to_n(cached_hms_, sizeof(cached_hms_), "{:02}:{:02}:{:02}", local.tm_hour, local.tm_min, local.tm_sec);
    cached_second_ = second;
  }
  out.append(cached_hms_, 8);
  append_micros(out, wall);
}

std::string MonotonicToWall::time_of_day(uint64_t monotonic_ns) const {
  std::string out;
  append_time_of_day(out, monotonic_ns);
  return out;
}

void MonotonicToWall::append_iso8601(std::string& out, uint64_t monotonic_ns) const {
  // A damaged --replay timestamp can land before 1970: shown as 1970.
  const int64_t wall = std::max<int64_t>(0, wall_ns(monotonic_ns));
  const int64_t second = wall / 1'000'000'000;
  if (second != cached_utc_second_) {
    const time_t seconds = second;
    tm utc{};
    ::gmtime_r(&seconds, &utc);
    fmt::format_to_n(cached_utc_, sizeof(cached_utc_), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    cached_utc_second_ = second;
  }
  out.append(cached_utc_, 19);
  append_micros(out, wall);
  out += 'Z';
}

std::string MonotonicToWall::iso8601(uint64_t monotonic_ns) const {
  std::string out;
  append_iso8601(out, monotonic_ns);
  return out;
}

void append_boot_seconds(std::string& out, uint64_t monotonic_ns) {
  fmt::format_to(std::back_inserter(out), "{}", monotonic_ns / 1'000'000'000);
  append_micros(out, static_cast<int64_t>(monotonic_ns));
}

}  // namespace skbtrail
