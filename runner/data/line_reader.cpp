#include "runner/data/line_reader.h"

#include <fmt/format.h>

#include "runner/common/text.h"

namespace skbtrail {

UsageError data_error(const std::string& source, int line, std::string_view what) {
  return UsageError(fmt::format("{}:{}: {}", source, line, what));
}

bool is_comment_or_blank(std::string_view line) {
  const std::string_view t = trim(line);
  return t.empty() || t.front() == '#';
}

namespace {

// Calls f(number, line) for every line of text, numbered from 1.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  int number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    f(++number, line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

}  // namespace

std::vector<DataSection> read_sections(std::string_view text, const std::string& source, std::string_view what) {
  std::vector<DataSection> sections;
  for_each_line(text, [&](int number, std::string_view raw) {
    if (is_comment_or_blank(raw)) return;
    const std::string_view line = trim(raw);
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3)
        throw data_error(source, number, fmt::format("'{}': a {} starts with [name]", line, what));
      sections.push_back({std::string(line.substr(1, line.size() - 2)), number, {}});
      return;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos)
      throw data_error(source, number, fmt::format("'{}': expected key = value", line));
    if (sections.empty()) throw data_error(source, number, fmt::format("a key before the first [{}]", what));
    sections.back().entries.push_back(
        {std::string(trim(line.substr(0, eq))), std::string(trim(line.substr(eq + 1))), number});
  });
  return sections;
}

std::vector<WordLine> read_word_lines(std::string_view text, size_t max_words) {
  std::vector<WordLine> lines;
  for_each_line(text, [&](int number, std::string_view raw) {
    if (is_comment_or_blank(raw)) return;
    WordLine out{number, {}, {}};
    std::string_view rest = trim(raw);
    while (!rest.empty() && (max_words == 0 || out.words.size() < max_words)) {
      const auto blank = rest.find_first_of(" \t");
      out.words.emplace_back(rest.substr(0, blank));
      rest = blank == std::string_view::npos ? std::string_view{} : trim(rest.substr(blank));
    }
    out.rest = std::string(rest);
    lines.push_back(std::move(out));
  });
  return lines;
}

}  // namespace skbtrail
