#include "runner/output/output.h"

#include <cstdio>
#include <iterator>

#include <fmt/format.h>

namespace skbtrail {

bool Output::flush() {
  if (!buffer_.empty() && !failed_ &&
      (std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size() || std::fflush(stdout) != 0))
    failed_ = true;
  buffer_.clear();
  return !failed_;
}

std::string Output::take() {
  std::string out;
  out.swap(buffer_);
  return out;
}

void write_text(Output& out, const LostRecord& r) {
  fmt::format_to(std::back_inserter(out.text()),
                 "*** lost {} events on CPU {} (perf ring full: raise --perf-pages or narrow the filter)\n", r.count,
                 r.cpu);
}

void write_json(JsonLine& line, const LostRecord& r) { line.num("cpu", r.cpu).num("count", r.count); }

}  // namespace skbtrail
