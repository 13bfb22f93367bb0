// --pcap's writer, read back block by block as the pcapng specification
// lays them out (tshark reads the real files in the drop --pcap scenario).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "programs/skbtrail_events.h"
#include "runner/common/errors.h"
#include "runner/output/pcapng.h"

namespace skbtrail {
namespace {

struct Block {
  uint32_t type = 0;
  std::string body;
};

template <typename T>
T at(const std::string& s, size_t offset) {
  T v{};
  std::memcpy(&v, s.data() + offset, sizeof v);
  return v;
}

std::vector<Block> read_blocks(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string file = ss.str();
  std::vector<Block> blocks;
  for (size_t off = 0; off < file.size();) {
    EXPECT_LE(off + 12, file.size());
    const auto type = at<uint32_t>(file, off);
    const auto total = at<uint32_t>(file, off + 4);
    EXPECT_EQ(total % 4, 0u) << "block at " << off;
    EXPECT_LE(off + total, file.size());
    EXPECT_EQ(at<uint32_t>(file, off + total - 4), total) << "trailing length of the block at " << off;
    blocks.push_back({type, file.substr(off + 8, total - 12)});
    off += total;
  }
  return blocks;
}

// The options after `start` in a block body: code -> value.
std::multimap<uint16_t, std::string> options(const std::string& body, size_t start) {
  std::multimap<uint16_t, std::string> out;
  for (size_t off = start; off + 4 <= body.size();) {
    const auto code = at<uint16_t>(body, off);
    const auto len = at<uint16_t>(body, off + 2);
    if (code == 0) break;
    out.emplace(code, body.substr(off + 4, len));
    off += 4 + (len + 3) / 4 * 4;
  }
  return out;
}

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::to_string(getpid()) + name)).string();
}

TEST(Pcapng, SectionInterfacesPerDeviceAndNetnsPacketsWithComments) {
  const std::string path = temp_path("-writer.pcapng");
  const std::vector<uint8_t> syn(60, 0x45);
  {
    PcapngWriter w(path, 40, "skbtrail drop");
    w.write({1'700'000'000'123'456'789, "lo", 1, 4026531840, std::span(syn).first(40), 60, "kfree_skb: drop NO_SOCKET"});
    w.write({1'700'000'000'200'000'000, "lo", 1, 4026532290, std::span(syn).first(20), 20, ""});  // same name, other netns
    w.write({1'700'000'000'300'000'000, "", 0, 4026531840, {}, 52, "no device"});
    w.write({1'700'000'000'400'000'000, "lo", 1, 4026531840, std::span(syn).first(3), 3, "odd length"});
    EXPECT_EQ(w.packets(), 4u);
  }
  const auto blocks = read_blocks(path);
  std::filesystem::remove(path);
  ASSERT_EQ(blocks.size(), 1u + 3u + 4u);  // section, 3 interfaces (first use), 4 packets

  ASSERT_EQ(blocks[0].type, 0x0A0D0D0Au);
  EXPECT_EQ(at<uint32_t>(blocks[0].body, 0), 0x1A2B3C4Du);
  EXPECT_EQ(at<uint16_t>(blocks[0].body, 4), 1);
  EXPECT_EQ(options(blocks[0].body, 16).find(4)->second, "skbtrail drop");

  // Interface blocks come just before their first packet.
  ASSERT_EQ(blocks[1].type, 1u);
  EXPECT_EQ(at<uint16_t>(blocks[1].body, 0), 101);  // LINKTYPE_RAW
  EXPECT_EQ(at<uint32_t>(blocks[1].body, 4), 40u);  // snaplen
  auto opts = options(blocks[1].body, 8);
  EXPECT_EQ(opts.find(2)->second, "lo");
  EXPECT_EQ(opts.find(3)->second, "lo (ifindex 1) in netns 4026531840");
  EXPECT_EQ(opts.find(9)->second, std::string("\x09", 1));  // nanoseconds

  ASSERT_EQ(blocks[2].type, 6u);
  const std::string& p0 = blocks[2].body;
  EXPECT_EQ(at<uint32_t>(p0, 0), 0u);
  const uint64_t ts = (uint64_t{at<uint32_t>(p0, 4)} << 32) | at<uint32_t>(p0, 8);
  EXPECT_EQ(ts, 1'700'000'000'123'456'789u);
  EXPECT_EQ(at<uint32_t>(p0, 12), 40u);
  EXPECT_EQ(at<uint32_t>(p0, 16), 60u);
  EXPECT_EQ(options(p0, 20 + 40).find(1)->second, "kfree_skb: drop NO_SOCKET");

  ASSERT_EQ(blocks[3].type, 1u);
  EXPECT_EQ(options(blocks[3].body, 8).find(3)->second, "lo (ifindex 1) in netns 4026532290");
  EXPECT_EQ(at<uint32_t>(blocks[4].body, 0), 1u);
  EXPECT_TRUE(options(blocks[4].body, 20 + 20).empty());  // no comment, no options

  EXPECT_EQ(options(blocks[5].body, 8).find(2)->second, "-");
  EXPECT_EQ(options(blocks[5].body, 8).find(3)->second, "no device yet, netns 4026531840");
  EXPECT_EQ(at<uint32_t>(blocks[6].body, 0), 2u);
  EXPECT_EQ(at<uint32_t>(blocks[6].body, 12), 0u);
  EXPECT_EQ(at<uint32_t>(blocks[6].body, 16), 52u);

  // Back on the first interface; 3 bytes padded to 4 before the options.
  EXPECT_EQ(at<uint32_t>(blocks[7].body, 0), 0u);
  EXPECT_EQ(at<uint32_t>(blocks[7].body, 12), 3u);
  EXPECT_EQ(options(blocks[7].body, 20 + 4).find(1)->second, "odd length");
}

TEST(Pcapng, AnUncreatableFileNamesTheOptionAndThePath) {
  try {
    PcapngWriter w("/nonexistent-dir/x.pcapng", 128, "t");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--pcap /nonexistent-dir/x.pcapng: cannot create it: No such file or directory (give a "
                           "writable file path)");
  }
}

std::vector<uint8_t> sample_tail(uint32_t cap_len, uint32_t wire_len, size_t data_bytes) {
  skbtrail_capture cap{cap_len, wire_len};
  std::vector<uint8_t> out(sizeof cap + data_bytes);
  std::memcpy(out.data(), &cap, sizeof cap);
  for (size_t i = 0; i < data_bytes; ++i) out[sizeof cap + i] = static_cast<uint8_t>(i);
  return out;
}

TEST(Pcapng, CapturedBytesAreCutToTheCaptureTheSampleAndTheSnaplen) {
  const auto tail = sample_tail(31, 31, 136);  // BPF sends the whole rounded snaplen
  auto c = captured_bytes(tail, 128);
  EXPECT_EQ(c.bytes.size(), 31u);
  EXPECT_EQ(c.wire_len, 31u);
  EXPECT_EQ(c.bytes[30], 30);
  EXPECT_EQ(captured_bytes(sample_tail(60, 60, 40), 44).bytes.size(), 40u);   // what the sample holds
  EXPECT_EQ(captured_bytes(sample_tail(60, 60, 48), 44).bytes.size(), 44u);   // the user's snaplen
  EXPECT_TRUE(captured_bytes(std::vector<uint8_t>(4), 128).bytes.empty());    // no capture header
  EXPECT_TRUE(captured_bytes({}, 128).bytes.empty());
}

}  // namespace
}  // namespace skbtrail
