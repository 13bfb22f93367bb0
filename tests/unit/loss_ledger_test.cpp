// The loss ledger: gaps in a CPU's event numbers are loss where they
// happen, the counters read at exit give the tail, and the totals add up.
#include <gtest/gtest.h>

#include "runner/output/clock.h"
#include "runner/output/output.h"
#include "runner/session/loss_ledger.h"

namespace skbtrail {
namespace {

LossLedger::Counts counts(std::vector<std::vector<std::pair<uint64_t, uint64_t>>> by_slot) {
  LossLedger::Counts out;
  for (const auto& slot : by_slot) {
    out.emplace_back();
    for (const auto& [tried, failed] : slot) out.back().push_back({tried, failed});
  }
  return out;
}

TEST(LossLedger, AGapInOneCpusNumbersIsLossThereAndOnlyThere) {
  LossLedger ledger;
  EXPECT_EQ(ledger.seen(0, 1), 0u);
  EXPECT_EQ(ledger.seen(1, 1), 0u);
  EXPECT_EQ(ledger.seen(0, 2), 0u);
  EXPECT_EQ(ledger.seen(0, 7), 4u);  // 3, 4, 5, 6 never arrived
  EXPECT_EQ(ledger.seen(1, 2), 0u);  // CPU 1 counts on its own
  EXPECT_EQ(ledger.seen(0, 8), 0u);
}

TEST(LossLedger, ProgramsThatDoNotNumberTheirEventsAreNotAccounted) {
  LossLedger ledger;
  EXPECT_EQ(ledger.seen(0, 0), 0u);
  EXPECT_EQ(ledger.seen(0, 0), 0u);
  EXPECT_EQ(ledger.summary({}).tried, 0u);
  EXPECT_EQ(ledger.summary({}).seen, 0u);
}

TEST(LossLedger, CountersAtExitGiveTheTailAndTheTotalsAddUp) {
  LossLedger ledger;
  // CPU 0 tried 10 (slot 0: 6, 2 refused; slot 1: 4, 3 refused) and 5 arrived;
  // CPU 1 tried 3, all arrived.
  for (const uint64_t seq : {1, 2, 5, 6, 7}) ledger.seen(0, seq);
  for (const uint64_t seq : {1, 2, 3}) ledger.seen(1, seq);
  ledger.perf_lost(0, 2);
  ledger.close(counts({{{6, 2}, {2, 0}}, {{4, 3}, {1, 0}}}));
  // Sent after the counters were read: not part of the run.
  EXPECT_TRUE(ledger.after_close(1, 4));
  EXPECT_FALSE(ledger.after_close(0, 10));
  const auto tails = ledger.tail_losses();
  ASSERT_EQ(tails.size(), 1u);
  EXPECT_EQ(tails[0], (std::pair<int, uint64_t>{0, 3}));  // 8, 9, 10

  const LossSummary s = ledger.summary({"ip_rcv", "tcp_v4_rcv"});
  EXPECT_EQ(s.tried, 13u);
  EXPECT_EQ(s.seen, 8u);
  EXPECT_EQ(s.lost, 5u);
  EXPECT_EQ(s.failed, 5u);
  EXPECT_EQ(s.perf_lost, 2u);
  EXPECT_TRUE(s.exact());
  ASSERT_EQ(s.slots.size(), 2u);
  EXPECT_EQ(s.slots[1].name, "tcp_v4_rcv");
  EXPECT_EQ(s.slots[1].failed, 3u);
  ASSERT_EQ(s.cpus.size(), 2u);
  EXPECT_EQ(s.cpus[0].lost, 5u);
  EXPECT_EQ(s.cpus[1].lost, 0u);

  Output text(false, MonotonicToWall(0));
  text.write(s);
  EXPECT_EQ(text.take(),
            "--- 5 of 13 events lost (ring full): cpu 0 5, by probe: ip_rcv 2 of 8, tcp_v4_rcv 3 of 5, raise "
            "--perf-pages or narrow the filter ---\n");
}

TEST(LossLedger, CountersThatDisagreeAreSaidNotHidden) {
  LossLedger ledger;
  ledger.seen(0, 1);
  ledger.close(counts({{{3, 0}}}));  // tried 3, refused none: 2 vanished
  const LossSummary s = ledger.summary({"x"});
  EXPECT_EQ(s.lost, 2u);
  EXPECT_FALSE(s.exact());
  Output text(false, MonotonicToWall(0));
  text.write(s);
  EXPECT_NE(text.take().find("does not add up: 1 seen + 2 lost of 3 tried, 0 refused"), std::string::npos);
}

TEST(LossLedger, NothingLostPrintsNothingInText) {
  LossLedger ledger;
  ledger.seen(0, 1);
  ledger.close(counts({{{1, 0}}}));
  Output text(false, MonotonicToWall(0));
  text.write(ledger.summary({"x"}));
  EXPECT_EQ(text.take(), "");
}

TEST(MonotonicToWall, FarOffTimestampsWrapAndClampInsteadOfOverflowing) {
  // The fuzzer's finding (a --replay timestamp near 2^64): wall_ns wraps in
  // unsigned arithmetic, and what lands before 1970 prints as 1970.
  const MonotonicToWall clock(1'700'000'000'000'000'000LL);
  EXPECT_EQ(clock.wall_ns(0), 1'700'000'000'000'000'000LL);
  EXPECT_EQ(clock.iso8601(UINT64_MAX - 999), "2023-11-14T22:13:19.999999Z");  // wrapped: 1000 ns before
  EXPECT_EQ(clock.iso8601(uint64_t{1} << 63), "1970-01-01T00:00:00.000000Z");  // negative as int64: clamped
  const MonotonicToWall early(-5'000'000'000LL);
  EXPECT_EQ(early.iso8601(1'000'000'000), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(early.iso8601(6'500'000'000), "1970-01-01T00:00:01.500000Z");
}

}  // namespace
}  // namespace skbtrail
