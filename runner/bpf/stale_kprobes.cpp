#include "runner/bpf/stale_kprobes.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

namespace skbtrail {

namespace {

constexpr std::string_view kOurPrefix = "skbtrail_";
constexpr std::string_view kBccSuffix = "_bcc_";

}  // namespace

std::vector<KprobeEventEntry> skbtrail_kprobe_entries(std::string_view text) {
  std::vector<KprobeEventEntry> out;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    // "p:GROUP/EVENT FUNC[+OFF] ...", "r16:GROUP/EVENT ..." (maxactive).
    const size_t colon = line.find(':');
    const size_t space = line.find(' ');
    if (colon == std::string_view::npos || space == std::string_view::npos || colon > space) continue;
    if (line[0] != 'p' && line[0] != 'r') continue;
    const std::string_view event = line.substr(colon + 1, space - colon - 1);
    const size_t slash = event.find('/');
    const std::string_view name = slash == std::string_view::npos ? event : event.substr(slash + 1);
    if (!name.starts_with(kOurPrefix)) continue;
    const size_t bcc = name.rfind(kBccSuffix);
    if (bcc == std::string_view::npos) continue;
    const std::string_view pid_text = name.substr(bcc + kBccSuffix.size());
    int pid = 0;
    const auto [end, ec] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
    if (ec != std::errc() || end != pid_text.data() + pid_text.size() || pid <= 0) continue;
    std::string_view function = line.substr(space + 1);
    function = function.substr(0, function.find(' '));
    out.push_back({std::string(event), std::string(function), pid});
  }
  return out;
}

bool process_is_alive(int pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

StaleKprobes find_stale_kprobes(const std::filesystem::path& tracefs, bool remove,
                                const std::function<bool(int)>& alive) {
  StaleKprobes found;
  const auto path = tracefs / "kprobe_events";
  std::ifstream in(path);
  if (!in) {
    found.error = fmt::format("{}: {}", path.string(), std::strerror(errno));
    return found;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::map<int, bool> alive_by_pid;
  for (auto& entry : skbtrail_kprobe_entries(text.str())) {
    auto [it, fresh] = alive_by_pid.try_emplace(entry.pid, false);
    if (fresh) it->second = alive(entry.pid);
    if (!it->second) found.stale.push_back(std::move(entry));
  }
  if (!remove) return found;
  for (const auto& entry : found.stale) {
    // One write per entry: a write of several lines stops at the first
    // that fails (an entry still enabled, EBUSY).
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    const std::string command = "-:" + entry.event + "\n";
    if (fd < 0 || ::write(fd, command.data(), command.size()) != static_cast<ssize_t>(command.size()))
      found.failed.push_back(fmt::format("{}: {}", entry.event, std::strerror(errno)));
    if (fd >= 0) ::close(fd);
  }
  return found;
}

std::string describe_stale(const StaleKprobes& found, bool removed) {
  if (found.stale.empty()) return {};
  std::map<int, std::vector<std::string>> by_pid;
  for (const auto& e : found.stale) {
    std::string name = e.event.substr(e.event.find('/') + 1);
    name = name.substr(0, name.rfind(kBccSuffix));
    by_pid[e.pid].push_back(std::move(name));
  }
  std::vector<std::string> runs;
  for (const auto& [pid, names] : by_pid) {
    const size_t shown = std::min<size_t>(names.size(), 3);
    runs.push_back(fmt::format("pid {}: {}{}", pid, fmt::join(names.begin(), names.begin() + shown, ", "),
                               names.size() > shown ? fmt::format(" and {} more", names.size() - shown) : ""));
  }
  const size_t n = found.stale.size();
  std::string text = fmt::format("{} {} kprobe_events {} left by killed skbtrail runs ({})",
                                 removed && found.failed.empty() ? "removed" : "found", n, n == 1 ? "entry" : "entries", fmt::join(runs, "; "));
  if (!found.failed.empty()) text += fmt::format("; could not remove {}", fmt::join(found.failed, ", "));
  return text;
}

}  // namespace skbtrail
