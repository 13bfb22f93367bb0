#include "runner/output/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

namespace skbtrail {

namespace {

// write() until done, an error, or `give_up` says to stop waiting.
// Returns the bytes written.
size_t write_all(int fd, std::string_view data, const std::function<bool()>& give_up) {
  size_t written = 0;
  while (written < data.size()) {
    if (give_up && give_up()) break;
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n > 0) written += static_cast<size_t>(n);
    else if (n < 0 && errno == EINTR) continue;  // give_up decides
    else break;
  }
  return written;
}

}  // namespace

// Raw write(), not stdio: a signal that interrupts a blocked pipe write
// after some bytes returns a short count, which fwrite would retry, and
// block again, forever when the reader has stopped.
bool Output::flush() {
  if (buffer_.empty() || failed_) {
    buffer_.clear();
    return !failed_;
  }
  std::fflush(stdout);  // anything printed with stdio goes first
  const size_t written = write_all(::fileno(stdout), buffer_, give_up_);
  if (written < buffer_.size()) {
    if (give_up_ && give_up_()) {
      buffer_.erase(0, written);
      return flush_if_writable();
    }
    failed_ = true;
  }
  buffer_.clear();
  return !failed_;
}

bool Output::flush_if_writable() {
  const int fd = ::fileno(stdout);
  struct stat st;
  // Files do not fill up, and a terminal's flags are shared with the shell.
  if (buffer_.empty() || failed_ || ::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    std::function<bool()> keep;
    keep.swap(give_up_);  // a file or terminal: write it all
    const bool ok = flush();
    give_up_.swap(keep);
    return ok;
  }
  std::fflush(stdout);
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  const size_t written = write_all(fd, buffer_, {});
  ::fcntl(fd, F_SETFL, flags);
  if (written < buffer_.size()) {
    std::fprintf(stderr, "skbtrail: %zu bytes of output not written: the pipe on stdout is full (its reader stopped)\n",
                 buffer_.size() - written);
    failed_ = true;
  }
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
                 "--- {} events lost on cpu {} (ring full: raise --perf-pages or narrow the filter) ---\n", r.count,
                 r.cpu);
}

void write_json(JsonLine& line, const LostRecord& r) { line.num("cpu", r.cpu).num("count", r.count); }

}  // namespace skbtrail
