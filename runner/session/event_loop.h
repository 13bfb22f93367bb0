// The run loop: perf rings, signals and the --duration timer on one
// Boost.Asio io_context. Nothing polls: the thread sleeps in epoll until a
// perf ring crosses its wakeup mark, a signal arrives or the timer fires.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

namespace skbtrail {

// Why a run ended. The first reason wins.
enum class StopReason {
  Running,         // not stopped yet
  CountReached,    // -c N events were reported
  DurationReached, // --duration ran out
  Interrupted,     // SIGINT (Ctrl-C)
  Signalled,       // SIGTERM or SIGHUP
  OutputClosed,    // stdout's reader went away (skbtrail ... | head)
};

class EventLoop {
 public:
  EventLoop();
  boost::asio::io_context& context() { return io_; }

  void stop_after(std::chrono::milliseconds duration);
  void stop(StopReason reason);
  // Runs until stop(), SIGINT, SIGTERM, SIGHUP or the duration ends.
  void run();
  bool stopped() const { return reason_ != StopReason::Running; }
  StopReason stop_reason() const { return reason_; }
  // "count reached", "duration reached", "interrupted", "signal 15", ...
  std::string stop_reason_text() const;

 private:
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  StopReason reason_ = StopReason::Running;
  int signal_ = 0;
};

}  // namespace skbtrail
