#include "resources/bundled.h"

#include <set>
#include <sstream>
#include <stdexcept>

namespace skbtrail::resources {

std::string_view bundled_text(std::string_view name) {
  for (const auto& file : bundled_files())
    if (file.name == name) return file.text;
  throw std::runtime_error("bundled program file '" + std::string(name) +
                           "' is not in this build of skbtrail (rebuild from programs/)");
}

namespace {

void expand_into(std::string_view name, std::set<std::string, std::less<>>& seen, std::string& out) {
  if (seen.contains(name)) return;  // every bundled header is included once, like #pragma once
  seen.emplace(name);
  std::istringstream lines{std::string(bundled_text(name))};
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line.compare(first, 8, "#include") == 0) {
      const auto open = line.find('"', first);
      const auto close = open == std::string::npos ? open : line.find('"', open + 1);
      if (close != std::string::npos) {
        expand_into(std::string_view(line).substr(open + 1, close - open - 1), seen, out);
        continue;
      }
    }
    out += line;
    out += '\n';
  }
}

}  // namespace

std::string expand_program(std::string_view name) {
  std::set<std::string, std::less<>> seen;
  std::string out;
  expand_into(name, seen, out);
  return out;
}

}  // namespace skbtrail::resources
