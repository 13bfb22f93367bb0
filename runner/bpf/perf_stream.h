// Per-CPU perf rings of a BPF_PERF_OUTPUT table, read when epoll says so.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skbtrail {

class PerfEventStream {
 public:
  using SampleHandler = std::function<void(int cpu, std::span<const uint8_t>)>;
  using LostHandler = std::function<void(int cpu, uint64_t count)>;

  // Throws std::runtime_error when a ring cannot be opened.
  PerfEventStream(boost::asio::io_context& io, int table_fd, int page_count, SampleHandler on_sample,
                  LostHandler on_lost);
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
