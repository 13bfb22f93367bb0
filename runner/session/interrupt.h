// Ctrl-C, SIGTERM and SIGHUP at every stage of a run.
//
// While the program is compiled (or read from the cache) nothing is
// attached, so a signal ends the process at once: one line, exit 1, no
// 40-100 s wait for a compile nobody wants (install()). Once the event loop
// exists its signal set owns the signals and a signal is the normal end of
// a run (exit 0); chain() adds a flag next to it that is seen at once, so
// the attach loop stops before its next probe (the session unwinds and
// LoadedProgram detaches what was attached: on kernels before 4.17 those
// are kprobe_events entries a killed process would leave behind; exit 1),
// and a run whose reader stopped reading is not kept waiting on a full pipe.
#pragma once

#include <stdexcept>

namespace skbtrail {

// The run was stopped by a signal before it started tracing; nothing is left attached.
struct InterruptedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace interrupt {

// From here a signal ends the process with one line naming `command`.
void install(const char* command);
// From here a signal is noted and passed on to the handler installed since
// install() (the event loop's); call once that handler is in place.
void chain();
// The signal that arrived, 0 for none.
int pending();
// Throws InterruptedError naming the signal when one arrived (`during`:
// "while attaching probes").
void throw_if_pending(const char* during);

}  // namespace interrupt
}  // namespace skbtrail
