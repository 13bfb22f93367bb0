#include "runner/output/pcapng.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "programs/skbtrail_events.h"
#include "runner/common/errors.h"

namespace skbtrail {

namespace {

// Block types and option codes of the pcapng specification.
constexpr uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescription = 1;
constexpr uint32_t kEnhancedPacket = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptComment = 1;
constexpr uint16_t kShbUserApplication = 4;
constexpr uint16_t kIfName = 2;
constexpr uint16_t kIfDescription = 3;
constexpr uint16_t kIfTsresol = 9;
constexpr uint16_t kLinktypeRaw = 101;  // raw IPv4/IPv6, told apart by the version nibble
constexpr size_t kFlushAt = 64 * 1024;

template <typename T>
void put(std::string& out, T value) {  // host order: the byte-order magic says which
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void pad4(std::string& out) { out.append((4 - out.size() % 4) % 4, '\0'); }

void option(std::string& out, uint16_t code, std::string_view value) {
  put<uint16_t>(out, code);
  put<uint16_t>(out, static_cast<uint16_t>(value.size()));
  out.append(value);
  pad4(out);
}

void end_of_options(std::string& out) {
  put<uint16_t>(out, kOptEnd);
  put<uint16_t>(out, 0);
}

}  // namespace

CapturedBytes captured_bytes(std::span<const uint8_t> after_event, uint32_t snaplen) {
  skbtrail_capture cap{};
  if (after_event.size() < sizeof cap) return {};
  std::memcpy(&cap, after_event.data(), sizeof cap);
  const size_t available = after_event.size() - sizeof cap;
  const size_t n = std::min<size_t>({cap.cap_len, available, snaplen});
  return {after_event.subspan(sizeof cap, n), cap.wire_len};
}

PcapngWriter::PcapngWriter(const std::string& path, uint32_t snaplen, std::string_view application)
    : path_(path), snaplen_(snaplen) {
  file_ = std::fopen(path.c_str(), "wbe");
  if (!file_)
    throw UsageError(fmt::format("--pcap {}: cannot create it: {} (give a writable file path)", path,
                                 std::strerror(errno)));
  std::string body;
  put<uint32_t>(body, kByteOrderMagic);
  put<uint16_t>(body, 1);  // version 1.0
  put<uint16_t>(body, 0);
  put<int64_t>(body, -1);  // section length: not known in advance
  option(body, kShbUserApplication, application);
  end_of_options(body);
  append_block(kSectionHeader, body);
  flush();
}

PcapngWriter::~PcapngWriter() {
  flush();
  if (file_) std::fclose(file_);
}

void PcapngWriter::append_block(uint32_t type, const std::string& body) {
  const auto total = static_cast<uint32_t>(12 + body.size());  // type, length, body, length
  put<uint32_t>(buffer_, type);
  put<uint32_t>(buffer_, total);
  buffer_ += body;
  put<uint32_t>(buffer_, total);
}

uint32_t PcapngWriter::interface(std::string_view ifname, uint32_t ifindex, uint32_t netns) {
  const auto key = std::make_pair(std::string(ifname), netns);
  if (const auto it = interfaces_.find(key); it != interfaces_.end()) return it->second;
  const auto id = static_cast<uint32_t>(interfaces_.size());
  std::string body;
  put<uint16_t>(body, kLinktypeRaw);
  put<uint16_t>(body, 0);
  put<uint32_t>(body, snaplen_);
  option(body, kIfName, ifname.empty() ? "-" : ifname);
  option(body, kIfDescription,
         ifname.empty() ? fmt::format("no device yet, netns {}", netns)
         : ifindex      ? fmt::format("{} (ifindex {}) in netns {}", ifname, ifindex, netns)
                        : fmt::format("{} in netns {}", ifname, netns));
  option(body, kIfTsresol, std::string_view("\x09", 1));  // 10^-9 s
  end_of_options(body);
  append_block(kInterfaceDescription, body);
  interfaces_.emplace(key, id);
  return id;
}

void PcapngWriter::write(const PcapPacket& p) {
  const uint32_t id = interface(p.ifname, p.ifindex, p.netns);
  const auto ts = static_cast<uint64_t>(p.wall_ns);
  std::string body;
  put<uint32_t>(body, id);
  put<uint32_t>(body, static_cast<uint32_t>(ts >> 32));
  put<uint32_t>(body, static_cast<uint32_t>(ts));
  put<uint32_t>(body, static_cast<uint32_t>(p.bytes.size()));
  put<uint32_t>(body, std::max<uint32_t>(p.wire_len, static_cast<uint32_t>(p.bytes.size())));
  body.append(reinterpret_cast<const char*>(p.bytes.data()), p.bytes.size());
  pad4(body);
  if (!p.comment.empty()) {
    option(body, kOptComment, std::string_view(p.comment).substr(0, 0xffff));
    end_of_options(body);
  }
  append_block(kEnhancedPacket, body);
  ++packets_;
  // Bounded both ways: memory (64 KiB) and staleness (a second), so a
  // reader following the file sees a slow trickle of drops too.
  const auto now = std::chrono::steady_clock::now();
  if (buffer_.size() >= kFlushAt || now - last_flush_ >= std::chrono::seconds(1)) flush();
}

bool PcapngWriter::flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (!error_.empty()) return false;
  if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
    error_ = fmt::format("--pcap {}: write failed: {}", path_, std::strerror(errno));
  buffer_.clear();
  if (error_.empty() && std::fflush(file_) != 0)
    error_ = fmt::format("--pcap {}: write failed: {}", path_, std::strerror(errno));
  return error_.empty();
}

}  // namespace skbtrail
