// Stale kprobe_events entries: which lines are skbtrail's, which runs are
// dead, and what is said (the VM scenarios remove real ones).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/bpf/stale_kprobes.h"

namespace skbtrail {
namespace {

// A real 4.9 kprobe_events after a killed `skbtrail rst` and a running bcc tool.
constexpr const char* kEvents =
    "p:kprobes/skbtrail_p_tcp_v4_send_reset_bcc_412 tcp_v4_send_reset\n"
    "r16:kprobes/skbtrail_r_nf_hook_slow_bcc_412 nf_hook_slow\n"
    "p:kprobes/p_tcp_v4_connect_bcc_977 tcp_v4_connect\n"
    "p:kprobes/skbtrail_p_ip_rcv_bcc_530 ip_rcv\n"
    "p:kprobes/skbtrail_p_bad_bcc_x12 ip_rcv\n"
    "p:mygroup/skbtrail_p_tcp_v4_rcv_bcc_412 tcp_v4_rcv+16\n"
    "garbage\n";

TEST(StaleKprobes, OnlySkbtrailEntriesWithTheirPid) {
  const auto entries = skbtrail_kprobe_entries(kEvents);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].event, "kprobes/skbtrail_p_tcp_v4_send_reset_bcc_412");
  EXPECT_EQ(entries[0].function, "tcp_v4_send_reset");
  EXPECT_EQ(entries[0].pid, 412);
  EXPECT_EQ(entries[1].event, "kprobes/skbtrail_r_nf_hook_slow_bcc_412");
  EXPECT_EQ(entries[2].pid, 530);
  EXPECT_EQ(entries[3].event, "mygroup/skbtrail_p_tcp_v4_rcv_bcc_412");
  EXPECT_EQ(entries[3].function, "tcp_v4_rcv+16");
}

TEST(StaleKprobes, DeadRunsAreStaleLiveOnesAreNotAndItIsSaidOnce) {
  const auto dir = std::filesystem::temp_directory_path() / ("skbtrail-tracefs-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "kprobe_events") << kEvents;
  const auto found = find_stale_kprobes(dir, false, [](int pid) { return pid == 530; });
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(found.error.empty()) << found.error;
  ASSERT_EQ(found.stale.size(), 3u);
  EXPECT_EQ(describe_stale(found, true),
            "removed 3 kprobe_events entries left by killed skbtrail runs (pid 412: skbtrail_p_tcp_v4_send_reset, "
            "skbtrail_r_nf_hook_slow, skbtrail_p_tcp_v4_rcv)");
  EXPECT_EQ(describe_stale({}, true), "");
}

TEST(StaleKprobes, AnUnreadableFileIsAnErrorNotStale) {
  const auto found = find_stale_kprobes("/nonexistent-tracefs", true);
  EXPECT_TRUE(found.stale.empty());
  EXPECT_EQ(found.error, "/nonexistent-tracefs/kprobe_events: No such file or directory");
}

TEST(StaleKprobes, ThisProcessIsAlive) {
  EXPECT_TRUE(process_is_alive(getpid()));
  EXPECT_FALSE(process_is_alive(999999999));
}

}  // namespace
}  // namespace skbtrail
