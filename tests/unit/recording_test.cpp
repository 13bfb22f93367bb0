// --record/--replay files, and the allocation-free formatters agreeing with
// the plain ones.
#include "runner/bpf/recording.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <unistd.h>

#include <arpa/inet.h>

#include <filesystem>
#include <fstream>

#include "runner/common/errors.h"
#include "runner/output/clock.h"
#include "runner/output/packet_format.h"
#include "runner/output/text.h"

namespace skbtrail {
namespace {

TEST(Recording, RoundTripAndRefusals) {
  const std::string path = "/tmp/skbtrail-recording-test-" + std::to_string(::getpid());
  {
    SampleRecorder rec(path, "drop", 4);
    const uint8_t a[] = {1, 2, 3, 4}, b[] = {9, 8, 7, 6, 5, 4, 3, 2};
    rec.write(a);
    rec.write(b);
    EXPECT_EQ(rec.samples(), 2u);
  }
  const Recording r = read_recording(path, "drop", 4);
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_EQ(r.samples[0].size(), 4u);
  EXPECT_EQ(r.samples[1].size(), 8u);
  EXPECT_EQ(r.samples[1][0], 9);
  auto error_of = [&](const std::string& command, size_t size) {
    try {
      read_recording(path, command, size);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("rst", 4).find("recorded by 'skbtrail drop' with 4-byte events"), std::string::npos);
  EXPECT_NE(error_of("drop", 144).find("record again with this build"), std::string::npos);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  EXPECT_NE(error_of("drop", 4).find("truncated after 1 samples"), std::string::npos);
  std::ofstream(path) << "hello\n";
  EXPECT_NE(error_of("drop", 4).find("not a skbtrail recording"), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_NE(error_of("drop", 4).find("cannot read it"), std::string::npos);
  EXPECT_THROW(SampleRecorder("/nonexistent-dir/x.rec", "drop", 4), UsageError);
}

TEST(Recording, CachedFormattersFollowTheSeconds) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  const MonotonicToWall clock(1'700'000'000'000'000'000LL);  // 2023-11-14T22:13:20Z at 0
  // The cache is per second: each of these crosses into another second or stays in one.
  const std::pair<uint64_t, const char*> expected[] = {{5, "2023-11-14T22:13:20.000000Z"},
                                                       {123'456'789'012, "2023-11-14T22:15:23.456789Z"},
                                                       {123'999'999'999, "2023-11-14T22:15:23.999999Z"},
                                                       {124'000'000'001, "2023-11-14T22:15:24.000000Z"}};
  for (const auto& [ns, iso] : expected) {
    std::string text;
    clock.append_iso8601(text, ns);
    EXPECT_EQ(text, iso);
    text.clear();
    clock.append_time_of_day(text, ns);
    EXPECT_EQ(text, std::string(iso).substr(11, 15));
  }
  skbtrail_packet v6{};
  v6.l3_proto = 0x86dd;
  v6.l4_proto = 17;
  ::inet_pton(AF_INET6, "fd00::1", v6.saddr);
  ::inet_pton(AF_INET6, "fd00::2", v6.daddr);
  v6.sport = htons(5353);
  v6.dport = htons(53);
  EXPECT_EQ(packet_tuple(v6), "[fd00::1]:5353 -> [fd00::2]:53");
  skbtrail_packet icmp{};
  icmp.l3_proto = 0x0800;
  icmp.l4_proto = 1;
  ::inet_pton(AF_INET, "10.0.0.255", icmp.saddr);
  ::inet_pton(AF_INET, "192.168.100.1", icmp.daddr);
  EXPECT_EQ(packet_tuple(icmp), "10.0.0.255 -> 192.168.100.1");
  std::string padded;
  append_padded(padded, "ab", 4);
  append_padded_right(padded, "7", 3);
  append_padded(padded, "toolong", 3);
  EXPECT_EQ(padded, "ab    7toolong");
}

}  // namespace
}  // namespace skbtrail
