#include "runner/session/interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include <fmt/format.h>

namespace skbtrail::interrupt {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

volatile std::sig_atomic_t g_signal = 0;
// Written before the handlers are installed and read by them (only
// write() and _exit() are safe in a handler).
char g_message[160];
size_t g_message_length = 0;
// stderr as it was at install(): while compiling, fd 2 may be a pipe that
// collects BCC's diagnostics.
int g_stderr = STDERR_FILENO;
struct sigaction g_chained[NSIG];

void exit_now(int signo) {
  g_signal = signo;
  ssize_t ignored = ::write(g_stderr, g_message, g_message_length);
  (void)ignored;
  ::_exit(1);
}

void note_and_pass_on(int signo) {
  g_signal = signo;
  const struct sigaction& next = g_chained[signo];
  if (next.sa_flags & SA_SIGINFO) return;  // not the event loop's (it takes no siginfo)
  if (next.sa_handler != SIG_DFL && next.sa_handler != SIG_IGN && next.sa_handler != nullptr) next.sa_handler(signo);
}

void set_all(void (*handler)(int), bool save) {
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = handler;
  sigfillset(&action.sa_mask);
  // No SA_RESTART: a blocked write (kprobe_events, a full pipe) returns EINTR.
  for (const int signo : kSignals) {
    struct sigaction previous;
    ::sigaction(signo, &action, &previous);
    // Chained twice, it must not pass the signal on to itself.
    if (save && previous.sa_handler != note_and_pass_on) g_chained[signo] = previous;
  }
}

}  // namespace

void install(const char* command) {
  const auto end = fmt::format_to_n(g_message, sizeof(g_message) - 1,
                                    "skbtrail {}: interrupted while preparing the program: nothing was attached\n",
                                    command);
  g_message_length = end.size < sizeof(g_message) ? end.size : sizeof(g_message) - 1;
  g_signal = 0;
  if (g_stderr == STDERR_FILENO) {
    const int copy = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (copy >= 0) g_stderr = copy;
  }
  set_all(exit_now, false);
}

void chain() { set_all(note_and_pass_on, true); }

int pending() { return g_signal; }

void throw_if_pending(const char* during) {
  if (const int signo = g_signal)
    throw InterruptedError(fmt::format("interrupted by SIG{} {}: nothing is left attached", sigabbrev_np(signo), during));
}

}  // namespace skbtrail::interrupt
