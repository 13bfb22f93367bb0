// skbtrail drop against this machine's kernel: a connect to a closed port
// in a private network namespace must show up as exactly one NO_SOCKET drop.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include <unistd.h>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

void require_kernel() {
  if (!running_as_root()) GTEST_SKIP() << "needs root (bpf(), tracefs)";
  if (!std::filesystem::exists("/sys/kernel/tracing/events/skb/kfree_skb") &&
      !std::filesystem::exists("/sys/kernel/debug/tracing/events/skb/kfree_skb") &&
      !std::filesystem::exists("/sys/kernel/tracing/events") /* not mounted yet: skbtrail mounts it */)
    GTEST_SKIP() << "no skb:kfree_skb tracepoint";
}

// Starts skbtrail in a fresh netns, waits for its "attached" line, then
// connects to 127.0.0.1:<port> (closed) a few times.
std::string closed_port_script(const std::string& skbtrail_args, int connects = 3) {
  return "set -u; exec unshare --net bash -c '\n"
         "ip link set lo up\n" +
         skbtrail() + " " + skbtrail_args +
         " >$TMPDIR_OUT/out 2>$TMPDIR_OUT/err &\n"
         "pid=$!\n"
         "for i in $(seq 1 600); do grep -q attached $TMPDIR_OUT/err && break; kill -0 $pid 2>/dev/null || break; "
         "sleep 0.1; done\n"
         "for i in $(seq 1 " +
         std::to_string(connects) +
         "); do timeout 2 bash -c \"exec 3<>/dev/tcp/127.0.0.1/9\" 2>/dev/null; done\n"
         "wait $pid; echo exit=$? >> $TMPDIR_OUT/err\n"
         "cat $TMPDIR_OUT/out; cat $TMPDIR_OUT/err >&2'\n";
}

CommandResult run_in_netns(const std::string& args, int connects = 3) {
  char dir[] = "/tmp/skbtrail-host-XXXXXX";
  ::mkdtemp(dir);
  auto result = run_shell("export TMPDIR_OUT=" + std::string(dir) + "; " + closed_port_script(args, connects), 150);
  std::filesystem::remove_all(dir);
  return result;
}

TEST(DropHost, ClosedPortConnectIsOneNoSocketDrop) {
  require_kernel();
  const auto r = run_in_netns("drop --dport 9 -c 1 --json");
  ASSERT_NE(r.err.find("exit=0"), std::string::npos) << r.err;
  std::vector<std::string> drops;
  for (const auto& line : r.out_lines())
    if (line.find("\"type\":\"drop\"") != std::string::npos) drops.push_back(line);
  ASSERT_EQ(drops.size(), 1u) << r.out << r.err;
  const std::string& ev = drops[0];
  EXPECT_NE(ev.find("\"reason\":\"NO_SOCKET\""), std::string::npos) << ev;
  EXPECT_TRUE(std::regex_search(ev, std::regex("\"location\":\"tcp_v4_rcv\\+0x[0-9a-f]+\""))) << ev;
  EXPECT_TRUE(std::regex_search(ev, std::regex("\"saddr\":\"127\\.0\\.0\\.1\",\"daddr\":\"127\\.0\\.0\\.1\","
                                               "\"sport\":[0-9]+,\"dport\":9")))
      << ev;
  EXPECT_NE(ev.find("\"tcp_flags\":\"SYN\""), std::string::npos) << ev;
  EXPECT_NE(ev.find("\"ifname\":\"lo\""), std::string::npos) << ev;
  // The summary closes the stream and agrees.
  EXPECT_NE(r.out.find("{\"type\":\"summary\",\"drops\":1,"), std::string::npos) << r.out;
}

TEST(DropHost, FilterForAnotherPortSeesNothing) {
  require_kernel();
  const auto r = run_in_netns("drop --dport 10 --duration 4s --json", 3);
  ASSERT_NE(r.err.find("exit=0"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("\"type\":\"drop\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"drops\":0"), std::string::npos) << r.out;
}

TEST(DropHost, TextModeWithStackNamesTheReceivePath) {
  require_kernel();
  const auto r = run_in_netns("drop --daddr 127.0.0.1 --proto tcp --dport 9 -c 2 --stack", 3);
  ASSERT_NE(r.err.find("exit=0"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("127.0.0.1:9 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NO_SOCKET"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n    tcp_v4_rcv+0x"), std::string::npos) << "stack frames missing:\n" << r.out;
  EXPECT_NE(r.out.find("--- 2 drops ---"), std::string::npos) << r.out;
}

// --record keeps the samples; --replay prints the same events without the
// kernel; --bpf-stats reports what the program cost.
TEST(DropHost, RecordThenReplayPrintsTheSameEvents) {
  require_kernel();
  const std::string rec = "/tmp/skbtrail-host-record-" + std::to_string(::getpid()) + ".rec";
  const auto live = run_in_netns("drop --dport 9 -c 2 --json --no-summary --bpf-stats --record " + rec, 3);
  ASSERT_NE(live.err.find("exit=0"), std::string::npos) << live.err;
  EXPECT_TRUE(std::regex_search(live.out, std::regex("\"type\":\"bpf_stats\",\"program\":\"[^\"]+\",\"run_cnt\":[1-9]")))
      << live.out;
  const auto replay = run_shell(skbtrail() + " drop --replay " + rec + " --json --no-summary");
  std::filesystem::remove(rec);
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  // Wall-clock times are derived from ts_ns per process and may differ by a
  // microsecond; ts_ns itself and everything else must be identical.
  const std::regex wall_time("\"time\":\"[^\"]*\",");
  std::vector<std::string> live_drops, replayed;
  for (const auto& line : live.out_lines())
    if (line.find("\"type\":\"drop\"") != std::string::npos) live_drops.push_back(std::regex_replace(line, wall_time, ""));
  for (const auto& line : replay.out_lines()) replayed.push_back(std::regex_replace(line, wall_time, ""));
  ASSERT_EQ(live_drops.size(), 2u) << live.out;
  EXPECT_EQ(replayed, live_drops);
  EXPECT_NE(replay.err.find("replayed 2 samples"), std::string::npos) << replay.err;
  // A recording of another command or a non-recording is refused by name.
  const auto bad = run_shell("f=$(mktemp); echo nonsense > $f; " + skbtrail() + " drop --replay $f; rc=$?; rm -f $f; exit $rc");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("not a skbtrail recording"), std::string::npos) << bad.err;
}

TEST(DropHost, ClosedOutputPipeEndsTheRunCleanly) {
  require_kernel();
  // `skbtrail drop | head -1`: once head is gone the next write fails and
  // skbtrail must stop (exit 0), not hang with probes attached.
  char dir[] = "/tmp/skbtrail-pipe-XXXXXX";
  ::mkdtemp(dir);
  const std::string t(dir);
  const auto r = run_shell("exec unshare --net bash -c '\n"
                           "ip link set lo up\n"
                           "( " + skbtrail() + " drop --dport 9 --json --no-summary 2>" + t + "/err; echo $? > " + t +
                           "/rc ) | head -n 1 > " + t + "/out &\n"
                           "for i in $(seq 1 600); do grep -q attached " + t + "/err 2>/dev/null && break; sleep 0.1; done\n"
                           "for i in $(seq 1 20); do timeout 2 bash -c \"exec 3<>/dev/tcp/127.0.0.1/9\" 2>/dev/null; "
                           "[ -s " + t + "/rc ] && break; sleep 0.3; done\n"
                           "wait; cat " + t + "/rc'", 120);
  std::filesystem::remove_all(t);
  EXPECT_EQ(r.out, "0\n") << r.out << r.err;
}

}  // namespace
}  // namespace skbtrail::test
