// The run loop: perf buffers, signals and the --duration timer on one
// Boost.Asio io_context. Nothing polls: the thread sleeps in epoll until a
// perf ring crosses its wakeup mark, a signal arrives or the timer fires.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skbtrail {

class EventLoop {
 public:
  EventLoop();
  boost::asio::io_context& context() { return io_; }

  void stop_after(std::chrono::milliseconds duration);
  void stop(std::string reason);
  // Runs until stop(), SIGINT, SIGTERM, SIGHUP or the duration ends.
  void run();
  const std::string& stop_reason() const { return stop_reason_; }

 private:
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  std::string stop_reason_;
};

// What a command prints, collected per perf wakeup and written to stdout in
// one go. A failed write (stdout closed: `skbtrail ... | head`) stops the
// loop once, so the run ends and detaches cleanly.
class BatchedOutput {
 public:
  explicit BatchedOutput(EventLoop& loop) : loop_(loop) {}
  std::string& buffer() { return text_; }
  void flush();
  bool failed() const { return failed_; }

 private:
  EventLoop& loop_;
  std::string text_;
  bool failed_ = false;
};

// Per-CPU perf rings of a BPF_PERF_OUTPUT table, read when epoll says so.
class PerfEventStream {
 public:
  using SampleHandler = std::function<void(std::span<const uint8_t>)>;
  using LostHandler = std::function<void(int cpu, uint64_t count)>;

  // Throws std::runtime_error when a ring cannot be opened.
  PerfEventStream(EventLoop& loop, int table_fd, int page_count, SampleHandler on_sample, LostHandler on_lost);
  ~PerfEventStream();
  PerfEventStream(const PerfEventStream&) = delete;
  PerfEventStream& operator=(const PerfEventStream&) = delete;

  // Called after each wakeup's batch of samples: the place to flush output
  // once per batch rather than once per event.
  void on_batch_end(std::function<void()> callback) { on_batch_end_ = std::move(callback); }

  // Reads whatever is left in every ring (at exit, so nothing seen is lost).
  void drain();

 private:
  struct Ring;
  SampleHandler on_sample_;
  LostHandler on_lost_;
  std::function<void()> on_batch_end_;
  std::vector<std::unique_ptr<Ring>> rings_;
  // Rings wake the reader every kWakeupEvents samples, not every sample (a
  // wakeup per sample costs the traced CPU an irq_work each: bench/overhead.sh
  // mode S2); this timer reads whatever a quiet ring holds, so a lone event
  // still shows within kDrainInterval.
  boost::asio::steady_timer drain_timer_;
  void drain_periodically();
};

// "0-3,6,8-9" (/sys/devices/system/cpu/online) -> {0,1,2,3,6,8,9}
std::vector<int> parse_cpu_list(const std::string& text);
std::vector<int> online_cpus();

}  // namespace skbtrail
