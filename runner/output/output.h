// Where records go: one format per run (aligned text or JSON lines),
// collected per perf wakeup and written to stdout in one go.
//
// Commands fill a typed record per event (runner/tools/<tool>/*_record.h)
// and hand it to write(); each record type has a text writer and a JSON
// writer next to it:
//   void write_text(Output&, const R&);   appends to out.text()
//   void write_json(JsonLine&, const R&); adds its keys to the open object
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "runner/output/clock.h"
#include "runner/output/json_line.h"

namespace skbtrail {

class Output {
 public:
  explicit Output(bool json, MonotonicToWall clock = MonotonicToWall()) : json_(json), clock_(clock) {}

  bool json() const { return json_; }
  const MonotonicToWall& clock() const { return clock_; }
  std::string& text() { return buffer_; }  // what text writers append to

  template <typename Record>
  void write(const Record& record) {
    if (json_) {
      JsonLine line(buffer_, clock_, json_type(record));
      write_json(line, record);
    } else {
      write_text(*this, record);
    }
  }

  // Writes what is buffered to stdout. false once the reader is gone (then
  // nothing more is written: the run should end).
  bool flush();
  // After a signal: writes what stdout takes without waiting (a pipe whose
  // reader stopped reading must not hold the exit); the rest is dropped,
  // said on stderr, and the output counts as failed.
  bool flush_if_writable();
  // From here a flush blocked on stdout stops waiting once `predicate`
  // says so (a signal arrived) and goes on as flush_if_writable().
  void give_up_waiting_when(std::function<bool()> predicate) { give_up_ = std::move(predicate); }
  bool failed() const { return failed_; }
  // What is buffered, handed over and cleared (tests, replays to a string).
  std::string take();

 private:
  bool json_;
  MonotonicToWall clock_;
  std::string buffer_;
  bool failed_ = false;
  std::function<bool()> give_up_;
};

// Events the kernel could not deliver (the ring was full), where it happened.
struct LostRecord {
  int cpu = 0;
  uint64_t count = 0;
};
inline std::string_view json_type(const LostRecord&) { return "lost"; }
void write_text(Output& out, const LostRecord& record);
void write_json(JsonLine& line, const LostRecord& record);

}  // namespace skbtrail
