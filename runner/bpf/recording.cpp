#include "runner/bpf/recording.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "runner/common/errors.h"

namespace skbtrail {

SampleRecorder::SampleRecorder(const std::string& path, const std::string& command, size_t sample_size)
    : file_(std::fopen(path.c_str(), "wb")) {
  if (!file_)
    throw UsageError(fmt::format("--record '{}': cannot create it ({}); give a writable path", path,
                                 std::strerror(errno)));
  static char buffer[1 << 20];  // one recorder per process: a big buffer, few write() calls
  std::setvbuf(file_, buffer, _IOFBF, sizeof(buffer));
  std::fprintf(file_, "skbtrail-record 1 %s %zu\n", command.c_str(), sample_size);
}

SampleRecorder::~SampleRecorder() {
  if (file_) std::fclose(file_);
}

void SampleRecorder::write(std::span<const uint8_t> sample) {
  const uint32_t len = static_cast<uint32_t>(sample.size());
  uint8_t le[4] = {static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len >> 16),
                   static_cast<uint8_t>(len >> 24)};
  std::fwrite(le, 1, 4, file_);
  std::fwrite(sample.data(), 1, sample.size(), file_);
  ++samples_;
}

Recording read_recording(const std::string& path, const std::string& command, size_t sample_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("--replay '{}': cannot read it (give a file made with --record)", path));
  return parse_recording(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), path,
                         command, sample_size);
}

Recording parse_recording(std::string bytes, const std::string& source, const std::string& command,
                          size_t sample_size) {
  const size_t header_end = bytes.find('\n');
  std::istringstream words(bytes.substr(0, header_end));
  std::string magic, version;
  Recording r;
  words >> magic >> version >> r.command >> r.sample_size;
  if (header_end == std::string::npos || magic != "skbtrail-record" || version != "1" || !words)
    throw UsageError(fmt::format("--replay '{}': not a skbtrail recording (make one with --record FILE)", source));
  if (r.command != command || r.sample_size != sample_size)
    throw UsageError(fmt::format("--replay '{}': recorded by 'skbtrail {}' with {}-byte events; this is 'skbtrail {}' "
                                 "with {}-byte events (record again with this build)",
                                 source, r.command, r.sample_size, command, sample_size));
  r.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header_end + 1), bytes.end());
  size_t offset = 0;
  while (offset < r.bytes.size()) {
    if (r.bytes.size() - offset < 4)
      throw UsageError(fmt::format("--replay '{}': truncated after {} samples", source, r.samples.size()));
    const uint8_t* p = r.bytes.data() + offset;
    const uint32_t len = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
    offset += 4;
    if (r.bytes.size() - offset < len)
      throw UsageError(fmt::format("--replay '{}': truncated after {} samples", source, r.samples.size()));
    r.samples.emplace_back(r.bytes.data() + offset, len);
    offset += len;
  }
  return r;
}

}  // namespace skbtrail
