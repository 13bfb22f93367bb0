// --record FILE / --replay FILE: the raw perf samples of a run, kept so the
// user-space half (decode, classify, format, output) can be run again
// without a kernel: for benchmarks (events/s, instructions/event under
// callgrind) and for looking at a capture on another machine.
//
// File: one text line "skbtrail-record 1 COMMAND SAMPLE_SIZE\n", then per
// sample a little-endian u32 length and the bytes as perf delivered them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace skbtrail {

class SampleRecorder {
 public:
  // Throws UsageError naming the path when it cannot be created.
  SampleRecorder(const std::string& path, const std::string& command, size_t sample_size);
  ~SampleRecorder();
  SampleRecorder(const SampleRecorder&) = delete;
  SampleRecorder& operator=(const SampleRecorder&) = delete;
  void write(std::span<const uint8_t> sample);
  uint64_t samples() const { return samples_; }

 private:
  std::FILE* file_ = nullptr;
  uint64_t samples_ = 0;
};

struct Recording {
  std::string command;
  size_t sample_size = 0;
  std::vector<uint8_t> bytes;           // the samples back to back
  std::vector<std::span<const uint8_t>> samples;  // views into bytes
};

// Throws UsageError naming the path and what is wrong (not a recording, of
// another command or event size, truncated).
Recording read_recording(const std::string& path, const std::string& command, size_t sample_size);
// The same for a file's bytes; `source` names it in errors.
Recording parse_recording(std::string bytes, const std::string& source, const std::string& command,
                          size_t sample_size);

}  // namespace skbtrail
