#include "runner/tools/blame_queue.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace skbtrail {

BlameQueue::BlameQueue(const std::vector<uint64_t>& namespaces, const char* command)
    : own_netns_(netfilter::current_netns()) {
  if (!blamer_.available()) {
    std::fprintf(stderr, "skbtrail %s: rule blame skipped: %s\n", command, fmt::format("{}", fmt::join(blamer_.describe(), "; ")).c_str());
    return;
  }
  for (const uint64_t ns : namespaces) read(ns ? ns : own_netns_);
}

void BlameQueue::read(uint64_t netns) {
  std::string why;
  if (!blamer_.read(netns, why)) std::fprintf(stderr, "skbtrail: rule blame: %s\n", why.c_str());
}

void BlameQueue::push(uint64_t netns, uint64_t ts_ns, std::optional<netfilter::BlameQuery> query, Emit emit,
                      Output& out) {
  if (waiting_.empty() && !query) {
    emit(nullptr, out);
    return;
  }
  waiting_.push_back({netns ? netns : own_netns_, ts_ns, std::move(query), std::move(emit)});
  drain(out, false);
}

void BlameQueue::drain(Output& out, bool final) {
  while (!waiting_.empty()) {
    Waiting& w = waiting_.front();
    if (w.query) {
      if (!blamer_.read_after(w.netns, w.ts_ns)) {
        const uint64_t now = netfilter::monotonic_ns();
        const uint64_t at = blamer_.next_read_at(w.netns);
        if (!final && at > now) {
          // Too soon after the last read: once the interval has passed.
          if (!timer_armed_ && control_) {
            if (!timer_) timer_ = std::make_unique<boost::asio::steady_timer>(control_->loop.context());
            timer_->expires_after(std::chrono::nanoseconds(at - now));
            timer_armed_ = true;
            timer_->async_wait([this](const boost::system::error_code& ec) {
              timer_armed_ = false;
              if (ec || !control_) return;
              drain(control_->out, false);
              control_->flush();
            });
          }
          return;
        }
        read(w.netns);
      }
      std::optional<netfilter::Blame> blame = blamer_.blame(w.netns, w.ts_ns, *w.query);
      if (!blame) {  // the namespace could not be read
        blame.emplace();
        blame->note = fmt::format("the rulesets of netns {} could not be read", w.netns);
      }
      w.emit(&*blame, out);
    } else {
      w.emit(nullptr, out);
    }
    waiting_.pop_front();
  }
}

void BlameQueue::finish(Output& out) {
  if (timer_) timer_->cancel();
  control_ = nullptr;
  drain(out, true);
}

}  // namespace skbtrail
