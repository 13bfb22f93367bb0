#include "scenario_driver/host_bundles.h"

#include <sys/stat.h>

#include <cstdlib>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace skbtrail::scenarios {

namespace fs = std::filesystem;

namespace {

// Shell words from `at` to the end of the simple command.
std::vector<std::string> words_until_separator(const std::string& text, size_t at) {
  std::vector<std::string> words;
  std::string word;
  int depth = 0;  // inside $( ... )
  char quote = 0;
  for (; at < text.size(); ++at) {
    const char c = text[at];
    if (quote) {
      if (c == quote) quote = 0;
      else word += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      continue;
    }
    if (c == '$' && at + 1 < text.size() && text[at + 1] == '(') {
      ++depth;
      word += "$(";
      ++at;
      continue;
    }
    if (depth > 0) {
      if (c == ')') --depth;
      word += c;
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(word);
      word.clear();
      continue;
    }
    if (c == '\n' || c == '|' || c == '&' || c == ';' || c == '<' || c == '>' || c == ')') {
      // "2>" ends the command too: the 2 is the redirection's.
      if (!word.empty() && (c != '>' || word.find_first_not_of("0123456789") != std::string::npos))
        words.push_back(word);
      return words;
    }
    word += c;
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

}  // namespace

std::vector<std::vector<std::string>> skbtrail_command_lines(const std::string& shell) {
  std::vector<std::vector<std::string>> lines;
  const std::string marker = "$SKBTRAIL";
  for (size_t at = shell.find(marker); at != std::string::npos; at = shell.find(marker, at + 1)) {
    std::vector<std::string> words = words_until_separator(shell, at + marker.size());
    // --bundle says where the program comes from, not what it is.
    for (size_t i = 0; i + 1 < words.size(); ++i)
      if (words[i] == "--bundle") words.erase(words.begin() + static_cast<long>(i), words.begin() + static_cast<long>(i) + 2);
    bool known = !words.empty();
    for (size_t i = 0; i < words.size() && known; ++i) {
      if (words[i].find('$') == std::string::npos) continue;
      const std::string option = i > 0 ? words[i - 1] : "";
      if (option == "--netns" || option == "-N" || option == "--pid" || option == "-p") words[i] = "1";
      else if (option == "--rules") words[i] = "unused.rules";
      // Where output goes does not shape the program (--snaplen does).
      else if (option == "--pcap") words[i] = "unused.pcapng";
      else if (option == "--record") words[i] = "unused.rec";
      else known = false;
    }
    if (known) lines.push_back(std::move(words));
  }
  return lines;
}

int prebuild_bundles(const std::vector<Scenario>& scenarios, const fs::path& skbtrail, const std::string& release,
                     const fs::path& headers, const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  std::set<std::vector<std::string>> done;
  int made = 0;
  for (const auto& s : scenarios) {
    if (s.where == "host") continue;
    for (const auto& words : skbtrail_command_lines(s.setup + "\n" + s.run + "\n" + s.trigger)) {
      if (words.empty() || (words[0] != "drop" && words[0] != "rst" && words[0] != "trace")) continue;
      if (!done.insert(words).second) continue;
      std::string command = fmt::format("'{}' bundle", skbtrail.string());
      for (const auto& w : words) command += fmt::format(" '{}'", w);
      const fs::path file = dir / fmt::format("{}.bundle", made);
      command += fmt::format(" --kernel-headers '{}' --kernel-release '{}' -o '{}' >/dev/null 2>'{}/last.err'",
                             headers.string(), release, file.string(), dir.string());
      if (std::system(command.c_str()) == 0) {
        ++made;
      } else {
        std::cout << fmt::format("note: not bundled for the VM (it will compile there): skbtrail {}\n",
                                 fmt::join(words, " "));
      }
    }
  }
  return made;
}

}  // namespace skbtrail::scenarios
