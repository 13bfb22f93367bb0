#include "runner/bpf/perf_stream.h"

#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <fmt/format.h>

namespace skbtrail {

struct PerfEventStream::Ring {
  PerfEventStream* owner = nullptr;
  int cpu = 0;
  perf_reader* reader = nullptr;
  std::unique_ptr<boost::asio::posix::stream_descriptor> descriptor;

  void wait() {
    descriptor->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this](const boost::system::error_code& ec) {
                             if (ec) return;
                             perf_reader_event_read(reader);
                             if (owner->on_batch_end_) owner->on_batch_end_();
                             wait();
                           });
  }
};

namespace {
constexpr int kWakeupEvents = 32;
constexpr auto kDrainInterval = std::chrono::milliseconds(100);
}  // namespace

PerfEventStream::PerfEventStream(boost::asio::io_context& io, int table_fd, int page_count, SampleHandler on_sample,
                                 LostHandler on_lost)
    : on_sample_(std::move(on_sample)), on_lost_(std::move(on_lost)), drain_timer_(io) {
  for (const int cpu : online_cpus()) {
    auto ring = std::make_unique<Ring>();
    ring->owner = this;
    ring->cpu = cpu;
    bcc_perf_buffer_opts opts{};
    opts.pid = -1;
    opts.cpu = cpu;
    opts.wakeup_events = kWakeupEvents;
    ring->reader = static_cast<perf_reader*>(bpf_open_perf_buffer_opts(
        [](void* cookie, void* data, int size) {
          auto* r = static_cast<Ring*>(cookie);
          r->owner->on_sample_(r->cpu, std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
        },
        [](void* cookie, uint64_t lost) {
          auto* r = static_cast<Ring*>(cookie);
          r->owner->on_lost_(r->cpu, lost);
        },
        ring.get(), page_count, &opts));
    if (!ring->reader)
      throw std::runtime_error(fmt::format("cannot open a perf ring of {} pages on CPU {} (try a smaller --perf-pages)",
                                           page_count, cpu));
    int fd = perf_reader_fd(ring->reader);
    int key = cpu;
    if (bpf_update_elem(table_fd, &key, &fd, 0) < 0) {
      perf_reader_free(ring->reader);
      throw std::runtime_error(fmt::format("cannot register the perf ring of CPU {} with the program", cpu));
    }
    ring->descriptor = std::make_unique<boost::asio::posix::stream_descriptor>(io, fd);
    ring->wait();
    rings_.push_back(std::move(ring));
  }
  drain_periodically();
}

void PerfEventStream::drain_periodically() {
  drain_timer_.expires_after(kDrainInterval);
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    drain();
    drain_periodically();
  });
}

PerfEventStream::~PerfEventStream() {
  for (auto& ring : rings_) {
    // perf_reader_free() closes the fd; the descriptor must not close it too.
    ring->descriptor->release();
    perf_reader_free(ring->reader);
  }
}

void PerfEventStream::drain() {
  for (auto& ring : rings_) perf_reader_event_read(ring->reader);
  if (on_batch_end_) on_batch_end_();
}

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    while (!part.empty() && (part.back() == '\n' || part.back() == ' ')) part.pop_back();
    if (part.empty()) continue;
    int first = 0, last = 0;
    const auto dash = part.find('-');
    const char* begin = part.data();
    if (std::from_chars(begin, begin + (dash == std::string::npos ? part.size() : dash), first).ec != std::errc())
      throw std::runtime_error(fmt::format("bad CPU list '{}'", text));
    last = first;
    if (dash != std::string::npos &&
        std::from_chars(begin + dash + 1, begin + part.size(), last).ec != std::errc())
      throw std::runtime_error(fmt::format("bad CPU list '{}'", text));
    for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
  }
  return cpus;
}

std::vector<int> online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  std::getline(in, text);
  return parse_cpu_list(text);
}

}  // namespace skbtrail
