// --pcap FILE: the packets a command saw, as pcapng (Wireshark's native
// format, https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html),
// each with a comment saying what the kernel did to it. One interface block
// per (device, network namespace), since the same "eth0" in two namespaces
// is two interfaces. Bytes start at the network header (link type RAW):
// the link header is not built yet on the output path.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace skbtrail {

struct PcapPacket {
  int64_t wall_ns = 0;         // CLOCK_REALTIME of the event
  std::string_view ifname;     // "" when the skb had no device yet
  uint32_t ifindex = 0;        // 0 when the event does not carry it
  uint32_t netns = 0;          // inode, 0 when unknown
  std::span<const uint8_t> bytes;  // from the network header
  uint32_t wire_len = 0;       // the packet's length (>= bytes.size())
  std::string comment;         // "kfree_skb: drop NO_SOCKET at tcp_v4_rcv+0x99, ..."
};

// The packet bytes a --pcap event carries after itself (a struct
// skbtrail_capture, then the bytes), cut to snaplen; empty when the sample
// has none (a program built without --pcap, a short sample).
struct CapturedBytes {
  std::span<const uint8_t> bytes;
  uint32_t wire_len = 0;
};
CapturedBytes captured_bytes(std::span<const uint8_t> after_event, uint32_t snaplen);

class PcapngWriter {
 public:
  // Creates (truncates) path; throws UsageError naming --pcap and the path.
  PcapngWriter(const std::string& path, uint32_t snaplen, std::string_view application);
  ~PcapngWriter();
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  void write(const PcapPacket& packet);
  // Pushes buffered blocks to the file (also done every 64 KiB and at exit).
  // false, with error(), once a write failed (disk full, ...).
  bool flush();
  const std::string& path() const { return path_; }
  uint64_t packets() const { return packets_; }
  const std::string& error() const { return error_; }

 private:
  uint32_t interface(std::string_view ifname, uint32_t ifindex, uint32_t netns);
  void append_block(uint32_t type, const std::string& body);

  std::string path_;
  std::FILE* file_ = nullptr;
  uint32_t snaplen_;
  std::string buffer_;
  std::map<std::pair<std::string, uint32_t>, uint32_t> interfaces_;  // (device, netns) -> interface id
  uint64_t packets_ = 0;
  std::string error_;
  std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace skbtrail
