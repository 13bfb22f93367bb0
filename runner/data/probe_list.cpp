#include "runner/data/probe_list.h"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "resources/bundled.h"
#include "runner/common/errors.h"
#include "runner/common/version.h"
#include "runner/data/line_reader.h"

namespace skbtrail {

std::string HopSpec::category() const {
  const auto first = name.find(':');
  const auto second = name.find(':', first + 1);
  return name.substr(first + 1, second - first - 1);
}

bool HopSpec::matches_version(uint32_t version) const {
  if (!any_version) return false;
  return version == 0 || ((!since || version >= since) && (!until || version < until));
}

bool HopSpec::stands_in_for(const std::string& tracepoint) const {
  return !this->tracepoint && std::find(also.begin(), also.end(), tracepoint) != also.end();
}

std::string HopSpec::event() const { return name.substr(name.find(':', name.find(':') + 1) + 1); }

namespace {

const std::set<std::string, std::less<>> kLayers = {"link", "ip", "ipv6", "netfilter", "tcp", "udp", "icmp",
                                                     "device", "socket", "drop", "free", "custom"};

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  if (text == "-" || text.empty()) return parts;
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto part = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!part.empty()) parts.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

bool valid_function_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

}  // namespace

std::vector<HopSpec> parse_probe_list(std::string_view text, const std::string& source) {
  std::vector<HopSpec> hops;
  for (const auto& [number, columns, description] : read_word_lines(text, 5)) {
    auto fail = [&, number = number](const std::string& what) { return data_error(source, number, what); };
    HopSpec hop;
    hop.origin = fmt::format("{}:{}", source, number);
    hop.name = columns[0];
    hop.description = description;
    if (hop.name.starts_with("tp:")) {
      hop.tracepoint = true;
      if (std::count(hop.name.begin(), hop.name.end(), ':') != 2 || hop.category().empty() || hop.event().empty())
        throw fail(fmt::format("'{}': a tracepoint is written tp:CATEGORY:EVENT (e.g. tp:skb:kfree_skb)", hop.name));
    } else if (!valid_function_name(hop.name)) {
      throw fail(fmt::format("'{}' is not a kernel function name", hop.name));
    }
    if (columns.size() >= 2) {
      if (hop.tracepoint) {
        hop.skb_field = columns[1];
      } else {
        const auto& arg = columns[1];
        if (arg.size() != 1 || arg[0] < '1' || arg[0] > '5')
          throw fail(fmt::format("SKB '{}': the skb argument is a number from 1 to 5", arg));
        hop.skb_arg = arg[0] - '0';
      }
    }
    if (columns.size() >= 3) {
      if (!kLayers.contains(columns[2]))
        throw fail(fmt::format("LAYER '{}': use one of {}", columns[2], fmt::join(kLayers, ", ")));
      hop.layer = columns[2];
    }
    if (columns.size() >= 4 && columns[3] != "-") {
      // X.Y-, X.Y-A.B and rhel7, comma-separated (one range at most).
      hop.any_version = false;
      for (const auto& item : split_commas(columns[3])) {
        if (item == "rhel7") {
          hop.rhel7 = true;
          continue;
        }
        const auto dash = item.find('-');
        const auto since = parse_version_code(item.substr(0, dash));
        const auto until = dash == std::string::npos || dash + 1 == item.size()
                               ? std::optional<uint32_t>(0)
                               : parse_version_code(item.substr(dash + 1));
        if (dash == std::string::npos || !since || !until || hop.any_version)
          throw fail(fmt::format("KERNELS '{}': write X.Y- (from X.Y on) or X.Y-A.B (X.Y up to, not including, "
                                 "A.B), and rhel7 for a line that is RHEL 7's (e.g. 4.1-4.4,rhel7)",
                                 columns[3]));
        hop.since = *since;
        hop.until = *until;
        hop.any_version = true;
      }
    }
    if (columns.size() >= 5) hop.also = split_commas(columns[4]);
    hops.push_back(std::move(hop));
  }
  return hops;
}

std::vector<HopSpec> default_probe_list() {
  return parse_probe_list(resources::bundled_text("trace.probes"), "trace.probes (built in)");
}

HopSpec parse_added_probe(std::string_view text) {
  HopSpec hop;
  hop.origin = "--add-probe";
  const auto colon = text.find(':');
  hop.name = std::string(text.substr(0, colon));
  if (!valid_function_name(hop.name))
    throw UsageError(fmt::format("--add-probe '{}': expected FUNCTION or FUNCTION:argN (e.g. --add-probe "
                                 "ip_route_input_noref:arg1)",
                                 text));
  if (colon != std::string_view::npos) {
    const auto arg = text.substr(colon + 1);
    if (arg.size() != 4 || !arg.starts_with("arg") || arg[3] < '1' || arg[3] > '5')
      throw UsageError(fmt::format("--add-probe '{}': the skb argument is arg1 to arg5 (e.g. {}:arg2)", text,
                                   hop.name));
    hop.skb_arg = arg[3] - '0';
  }
  hop.description = "added with --add-probe";
  return hop;
}

}  // namespace skbtrail
