// Exact loss accounting against this machine's kernel: a 1-page perf ring
// is overfilled on purpose (3000 UDP datagrams to a closed port while the
// reader is stopped with SIGSTOP: the ring holds ~25 events; a reader that
// runs keeps up with a 1-page ring on an idle machine, so only stopping it
// makes the overflow certain) and the numbers must add up: events seen +
// events counted lost = events the BPF side tried to send, with the
// program's refusals and perf's records agreeing.
#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "host/run_command.h"

namespace skbtrail::test {
namespace {

constexpr int kDatagrams = 3000;

struct LossRun {
  CommandResult result;
  std::vector<nlohmann::json> events;  // records of `type`
  std::vector<nlohmann::json> lost;    // "lost" records
  nlohmann::json loss;                 // the "loss" summary
};

// `command` runs in a fresh netns with a 1-page ring while kDatagrams go
// to 127.0.0.1:9999, where nothing listens.
LossRun flood(const std::string& command, const std::string& type) {
  char dir[] = "/tmp/skbtrail-loss-XXXXXX";
  ::mkdtemp(dir);
  const std::string script = "export OUT=" + std::string(dir) +
                             "; exec unshare --net bash -c '\n"
                             "ip link set lo up\n" +
                             skbtrail() + " " + command +
                             " --perf-pages 1 --json --duration 6 >$OUT/out 2>$OUT/err &\n"
                             "pid=$!\n"
                             "for i in $(seq 1 600); do grep -q attached $OUT/err && break; "
                             "kill -0 $pid 2>/dev/null || break; sleep 0.1; done\n"
                             "kill -STOP $pid\n"
                             "for i in $(seq 1 " +
                             std::to_string(kDatagrams) +
                             "); do echo x >/dev/udp/127.0.0.1/9999; done\n"
                             "kill -CONT $pid\n"
                             "wait $pid; echo exit=$? >>$OUT/err\n"
                             "cat $OUT/out; cat $OUT/err >&2'\n";
  LossRun run;
  run.result = run_shell(script, 150);
  std::filesystem::remove_all(dir);
  for (const auto& line : run.result.out_lines()) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j["type"] == type) run.events.push_back(j);
    if (j["type"] == "lost") run.lost.push_back(j);
    if (j["type"] == "loss") run.loss = j;
  }
  return run;
}

void require_kernel() {
  if (!running_as_root()) GTEST_SKIP() << "needs root (bpf(), tracefs)";
}

// What every run must satisfy, whatever the kernel.
void expect_exact(const LossRun& run) {
  ASSERT_NE(run.result.err.find("exit=0"), std::string::npos) << run.result.err;
  ASSERT_TRUE(run.loss.is_object()) << "no loss summary\n" << run.result.out << run.result.err;
  const auto& loss = run.loss;
  const uint64_t tried = loss["tried"], seen = loss["seen"], lost = loss["lost"], failed = loss["failed"];
  EXPECT_EQ(seen, run.events.size()) << "every event that arrived is counted as seen";
  EXPECT_EQ(seen + lost, tried);
  EXPECT_EQ(failed, lost) << "the program's refusals are the loss";
  EXPECT_LE(loss["perf_lost"].get<uint64_t>(), failed);
  EXPECT_TRUE(loss["exact"].get<bool>());
  EXPECT_GT(lost, 0u) << "a 1-page ring whose reader is stopped must overflow with " << kDatagrams << " events";
  uint64_t told = 0;
  for (const auto& l : run.lost) told += l["count"].get<uint64_t>();
  EXPECT_EQ(told, lost) << "the loss told in the stream (gaps and tail) is all of it";
  uint64_t per_probe_tried = 0, per_probe_failed = 0;
  for (const auto& p : loss["by_probe"]) {
    per_probe_tried += p["tried"].get<uint64_t>();
    per_probe_failed += p["failed"].get<uint64_t>();
  }
  EXPECT_EQ(per_probe_tried, tried);
  EXPECT_EQ(per_probe_failed, failed);
}

TEST(LossHost, DropOverfilledRingAddsUpExactly) {
  require_kernel();
  const LossRun run = flood("drop --dport 9999", "drop");
  expect_exact(run);
  EXPECT_EQ(run.loss["tried"].get<uint64_t>(), static_cast<uint64_t>(kDatagrams)) << "one drop per datagram";
}

TEST(LossHost, TraceKeepOverfilledRingAddsUpExactlyPerHopAndPerSkb) {
  require_kernel();
  const LossRun run = flood("trace --keep -P 9999", "trace");
  expect_exact(run);
  uint64_t kfree_tried = 0;
  for (const auto& p : run.loss["by_probe"])
    if (p["probe"] == "kfree_skb") kfree_tried = p["tried"];
  EXPECT_EQ(kfree_tried, static_cast<uint64_t>(kDatagrams)) << "every datagram is dropped once" << run.loss.dump();
  // Per skb: what an skb's events say was lost before them is part of the loss.
  uint64_t skb_lost = 0;
  for (const auto& ev : run.events)
    if (ev.contains("skb_lost")) skb_lost += ev["skb_lost"].get<uint64_t>();
  EXPECT_LE(skb_lost, run.loss["lost"].get<uint64_t>());
}

}  // namespace
}  // namespace skbtrail::test
