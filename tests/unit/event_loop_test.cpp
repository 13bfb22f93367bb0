#include "runner/session/event_loop.h"

#include "runner/bpf/perf_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include <csignal>
#include <stdexcept>

namespace skbtrail {
namespace {

TEST(CpuList, Ranges) {
  EXPECT_EQ(parse_cpu_list("0-3,6,8-9\n"), (std::vector<int>{0, 1, 2, 3, 6, 8, 9}));
  EXPECT_EQ(parse_cpu_list("0"), (std::vector<int>{0}));
  EXPECT_TRUE(parse_cpu_list("").empty());
  EXPECT_THROW(parse_cpu_list("a-b"), std::runtime_error);
  EXPECT_FALSE(online_cpus().empty());
}

TEST(EventLoop, DurationStopsTheLoop) {
  EventLoop loop;
  loop.stop_after(std::chrono::milliseconds(20));
  const auto start = std::chrono::steady_clock::now();
  loop.run();
  EXPECT_EQ(loop.stop_reason(), StopReason::DurationReached);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
}

TEST(EventLoop, SigtermStopsTheLoop) {
  EventLoop loop;
  loop.stop_after(std::chrono::seconds(30));  // a safety net if the signal were lost
  boost::asio::post(loop.context(), [] { std::raise(SIGTERM); });
  loop.run();
  EXPECT_EQ(loop.stop_reason(), StopReason::Signalled);
  EXPECT_EQ(loop.stop_reason_text(), "signal 15");
}

TEST(EventLoop, FirstStopReasonWins) {
  EventLoop loop;
  loop.stop(StopReason::CountReached);
  loop.stop(StopReason::Interrupted);
  loop.run();
  EXPECT_EQ(loop.stop_reason(), StopReason::CountReached);
  EXPECT_EQ(loop.stop_reason_text(), "count reached");
}

}  // namespace
}  // namespace skbtrail
