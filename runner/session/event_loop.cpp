#include "runner/session/event_loop.h"

#include <csignal>

#include <fmt/format.h>

namespace skbtrail {

EventLoop::EventLoop() : signals_(io_, SIGINT, SIGTERM), timer_(io_) {
  signals_.add(SIGHUP);
  // A closed output pipe (skbtrail ... | head) shows up as a write error
  // that ends the run cleanly instead of killing us with probes attached.
  std::signal(SIGPIPE, SIG_IGN);
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (reason_ == StopReason::Running) signal_ = signo;
    stop(signo == SIGINT ? StopReason::Interrupted : StopReason::Signalled);
  });
}

void EventLoop::stop_after(std::chrono::milliseconds duration) {
  timer_.expires_after(duration);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) stop(StopReason::DurationReached);
  });
}

void EventLoop::stop(StopReason reason) {
  if (reason_ == StopReason::Running) reason_ = reason;
  io_.stop();
}

void EventLoop::run() {
  if (stopped()) return;
  io_.run();
}

std::string EventLoop::stop_reason_text() const {
  switch (reason_) {
    case StopReason::Running: return "running";
    case StopReason::CountReached: return "count reached";
    case StopReason::DurationReached: return "duration reached";
    case StopReason::Interrupted: return "interrupted";
    case StopReason::Signalled: return fmt::format("signal {}", signal_);
    case StopReason::OutputClosed: return "output closed";
  }
  return "?";
}

}  // namespace skbtrail
