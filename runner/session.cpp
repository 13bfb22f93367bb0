#include "runner/session.h"

#include <unistd.h>

#include <fmt/format.h>

#include "runner/errors.h"

namespace skbtrail {

Session open_session(const HeaderOptions& options, std::string_view command) {
  Session session;
  session.kernel = probe_kernel();
  if (!session.kernel.bpf.allowed)
    throw EnvironmentError(fmt::format("{}: no permission to call bpf() ({}): run as root (sudo skbtrail {}) or grant "
                                       "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN",
                                       command, session.kernel.bpf.detail, command));
  if (session.kernel.tracefs.empty())
    throw EnvironmentError(fmt::format("{}: tracefs is {}: mount it (mount -t tracefs nodev /sys/kernel/tracing)",
                                       command, session.kernel.tracefs_note));
  session.headers = choose_headers(session.kernel, options);
  return session;
}

}  // namespace skbtrail
