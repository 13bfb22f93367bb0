#include "runner/netfilter/ruleset.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace skbtrail::netfilter {

namespace {

using json = nlohmann::json;

int l4_proto_number(const std::string& name) {
  static const std::map<std::string, int> kProtocols = {
      {"icmp", 1},  {"igmp", 2},   {"tcp", 6},         {"udp", 17},        {"dccp", 33},  {"gre", 47},
      {"esp", 50},  {"ah", 51},    {"ipv6-icmp", 58},  {"icmpv6", 58},     {"sctp", 132}, {"udplite", 136}};
  const auto it = kProtocols.find(name);
  return it == kProtocols.end() ? -1 : it->second;
}

// Parsed address bytes (4 or 16), empty when `text` is not an address.
std::vector<uint8_t> address_bytes(const std::string& text, int& version) {
  std::vector<uint8_t> bytes(16);
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    bytes.resize(4);
    version = 4;
    return bytes;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    version = 6;
    return bytes;
  }
  return {};
}

bool prefix_contains(const Condition::Prefix& prefix, const std::string& address) {
  int pv = 0, av = 0;
  const auto net = address_bytes(prefix.address, pv);
  const auto addr = address_bytes(address, av);
  if (net.empty() || addr.empty()) return true;  // not understood: cannot exclude
  if (pv != av) return false;
  const int bits = prefix.length < 0 ? static_cast<int>(net.size()) * 8 : prefix.length;
  for (int i = 0; i < bits; ++i) {
    const int byte = i / 8, bit = 7 - i % 8;
    if (((net[byte] >> bit) & 1) != ((addr[byte] >> bit) & 1)) return false;
  }
  return true;
}

// Calls one() on each value of a match's right-hand side (a set's elements,
// or the one value); false as soon as one() does.
template <typename One>
bool each_value(const json& right, One&& one) {
  if (!(right.is_object() && right.contains("set") && right["set"].is_array())) return one(right);
  for (const auto& v : right["set"])
    if (!one(v)) return false;
  return true;
}

// The values of a match's right-hand side as numbers, or nothing when one of
// them is not a number (a named service, a variable).
std::optional<std::vector<Condition::Range>> numbers_of(const json& right, bool protocol_names) {
  std::vector<Condition::Range> out;
  auto one = [&](const json& v) -> bool {
    if (v.is_number_unsigned() || v.is_number_integer()) {
      out.push_back({v.get<uint64_t>(), v.get<uint64_t>()});
      return true;
    }
    if (v.is_string() && protocol_names) {
      const int n = l4_proto_number(v.get<std::string>());
      if (n < 0) return false;
      out.push_back({static_cast<uint64_t>(n), static_cast<uint64_t>(n)});
      return true;
    }
    if (v.is_object() && v.contains("range") && v["range"].is_array() && v["range"].size() == 2 &&
        v["range"][0].is_number() && v["range"][1].is_number()) {
      out.push_back({v["range"][0].get<uint64_t>(), v["range"][1].get<uint64_t>()});
      return true;
    }
    return false;
  };
  if (!each_value(right, one)) return std::nullopt;
  return out;
}

std::optional<std::vector<Condition::Prefix>> prefixes_of(const json& right) {
  std::vector<Condition::Prefix> out;
  auto one = [&](const json& v) -> bool {
    if (v.is_string()) {
      int version = 0;
      if (address_bytes(v.get<std::string>(), version).empty()) return false;
      out.push_back({v.get<std::string>(), -1});
      return true;
    }
    if (v.is_object() && v.contains("prefix") && v["prefix"].is_object() && v["prefix"].value("addr", json()).is_string() &&
        v["prefix"].value("len", json()).is_number()) {
      out.push_back({v["prefix"]["addr"].get<std::string>(), v["prefix"]["len"].get<int>()});
      return true;
    }
    return false;
  };
  if (!each_value(right, one)) return std::nullopt;
  return out;
}

// One `match` statement as a Condition, when it is one of the simple kinds.
std::optional<Condition> condition_of(const json& match) {
  const std::string op = match.value("op", std::string("=="));
  if (op != "==" && op != "!=" && op != "in") return std::nullopt;
  const json& left = match.value("left", json());
  const json& right = match.value("right", json());
  Condition c;
  c.negated = op == "!=";
  std::string protocol, field;
  if (left.contains("payload") && left["payload"].is_object()) {
    protocol = left["payload"].value("protocol", std::string());
    field = left["payload"].value("field", std::string());
  } else if (left.contains("meta") && left["meta"].is_object()) {
    protocol = "meta";
    field = left["meta"].value("key", std::string());
  } else {
    return std::nullopt;
  }
  if ((protocol == "meta" && field == "l4proto") || (protocol == "ip" && field == "protocol") ||
      (protocol == "ip6" && field == "nexthdr")) {
    c.field = Condition::Field::L4Proto;
    if (protocol == "ip") c.ip_version = 4;
    if (protocol == "ip6") c.ip_version = 6;
    auto numbers = numbers_of(right, true);
    if (!numbers) return std::nullopt;
    c.numbers = std::move(*numbers);
    return c;
  }
  if (field == "sport" || field == "dport") {
    c.field = field == "sport" ? Condition::Field::Sport : Condition::Field::Dport;
    c.l4_proto = l4_proto_number(protocol);  // "th" (any transport header): -1
    auto numbers = numbers_of(right, false);
    if (!numbers) return std::nullopt;
    c.numbers = std::move(*numbers);
    return c;
  }
  if ((protocol == "ip" || protocol == "ip6") && (field == "saddr" || field == "daddr")) {
    c.field = field == "saddr" ? Condition::Field::Saddr : Condition::Field::Daddr;
    c.ip_version = protocol == "ip" ? 4 : 6;
    auto prefixes = prefixes_of(right);
    if (!prefixes) return std::nullopt;
    c.prefixes = std::move(*prefixes);
    return c;
  }
  return std::nullopt;
}

bool in_ranges(const std::vector<Condition::Range>& ranges, int value) {
  return std::any_of(ranges.begin(), ranges.end(), [value](const Condition::Range& r) {
    return static_cast<uint64_t>(value) >= r.low && static_cast<uint64_t>(value) <= r.high;
  });
}

// The verdict of a rule's statements: the last one that decides.
void verdict_of(const json& expr, NetfilterRule& rule) {
  for (const auto& statement : expr) {
    if (!statement.is_object() || statement.empty()) continue;
    const std::string key = statement.begin().key();
    const json& value = statement.begin().value();
    if (key == "accept" || key == "drop" || key == "reject" || key == "return" || key == "queue") {
      rule.verdict = key;
    } else if (key == "jump" || key == "goto") {
      rule.verdict = key;
      if (value.is_object()) rule.target = value.value("target", std::string());
    } else if (key == "xt" && value.is_object() && value.value("type", std::string()) == "target") {
      // iptables-nft keeps targets nft has no native form of (REJECT's
      // --reject-with variants) as xtables targets.
      const std::string name = value.value("name", std::string());
      if (name == "REJECT") rule.verdict = "reject";
      else if (name == "DROP") rule.verdict = "drop";
    } else if (key == "counter" && value.is_object()) {
      rule.counter.present = true;
      rule.counter.packets = value.value("packets", uint64_t{0});
      rule.counter.bytes = value.value("bytes", uint64_t{0});
    } else if (key == "match" && value.is_object()) {
      if (auto c = condition_of(value)) rule.conditions.push_back(std::move(*c));
    }
  }
}

// Tables iptables-nft made: its table names with its upper-case built-in
// chains (nft itself never creates those).
bool iptables_nft_table(const std::string& family, const std::string& table, const std::vector<NetfilterChain>& chains) {
  static const std::set<std::string> kTables = {"filter", "nat", "mangle", "raw", "security"};
  static const std::set<std::string> kChains = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"};
  if ((family != "ip" && family != "ip6") || !kTables.count(table)) return false;
  return std::any_of(chains.begin(), chains.end(), [&](const NetfilterChain& c) {
    return c.family == family && c.table == table && kChains.count(c.name);
  });
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::Nftables: return "nftables";
    case Backend::IptablesNft: return "iptables-nft";
    case Backend::IptablesLegacy: return "iptables-legacy";
  }
  return "?";
}

bool Condition::may_match(const PacketFacts& p) const {
  bool matches = true;
  switch (field) {
    case Field::L4Proto:
      if (ip_version && p.ip_version && ip_version != p.ip_version) return false;  // ip protocol on IPv6: no match
      if (p.l4_proto < 0) return true;
      matches = in_ranges(numbers, p.l4_proto);
      break;
    case Field::Sport:
    case Field::Dport: {
      // "tcp dport" implies TCP: a UDP packet never matches it, negated or not.
      if (l4_proto >= 0 && p.l4_proto >= 0 && l4_proto != p.l4_proto) return false;
      const int port = field == Field::Sport ? p.sport : p.dport;
      if (port < 0) return true;
      matches = in_ranges(numbers, port);
      break;
    }
    case Field::Saddr:
    case Field::Daddr: {
      if (p.ip_version && ip_version != p.ip_version) return false;
      const std::string& address = field == Field::Saddr ? p.saddr : p.daddr;
      if (address.empty()) return true;
      matches = std::any_of(prefixes.begin(), prefixes.end(),
                            [&](const Prefix& prefix) { return prefix_contains(prefix, address); });
      break;
    }
  }
  return negated ? !matches : matches;
}

bool NetfilterRule::same_rule(const NetfilterRule& o) const {
  return backend == o.backend && handle == o.handle && family == o.family && table == o.table && chain == o.chain;
}

bool NetfilterRule::may_match(const PacketFacts& packet) const {
  return std::all_of(conditions.begin(), conditions.end(), [&](const Condition& c) { return c.may_match(packet); });
}

const NetfilterChain* Ruleset::chain_of(const NetfilterRule& rule) const {
  for (const auto& c : chains)
    if (c.backend == rule.backend && c.family == rule.family && c.table == rule.table && c.name == rule.chain) return &c;
  return nullptr;
}

const NetfilterRule* Ruleset::find(const NetfilterRule& rule) const {
  for (const auto& r : rules)
    if (r.same_rule(rule)) return &r;
  return nullptr;
}

void Ruleset::link() {
  for (auto& chain : chains) {
    chain.reached_from.clear();
    if (!chain.hook.empty()) chain.reached_from.insert(chain.hook);
  }
  // Spread each chain's hooks to the chains it jumps to, until nothing changes
  // (loops are refused by the kernel, but a fixed point needs no such trust).
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& rule : rules) {
      if (rule.target.empty()) continue;
      const NetfilterChain* from = chain_of(rule);
      if (!from || from->reached_from.empty()) continue;
      for (auto& to : chains) {
        if (to.backend != rule.backend || to.family != rule.family || to.table != rule.table || to.name != rule.target)
          continue;
        for (const auto& hook : from->reached_from) changed |= to.reached_from.insert(hook).second;
      }
    }
  }
}

void Ruleset::append(Ruleset&& other) {
  for (auto& c : other.chains) chains.push_back(std::move(c));
  for (auto& r : other.rules) rules.push_back(std::move(r));
  for (auto& e : other.errors) errors.push_back(std::move(e));
}

namespace {
std::string chain_label(Backend backend, const std::string& family, const std::string& table, const std::string& chain) {
  if (backend == Backend::Nftables) return fmt::format("{} {} {}", family, table, chain);
  // iptables' words, and which iptables: both may hold a "filter INPUT".
  return fmt::format("{} {} ({}{})", table, chain, family == "ip6" ? "ip6tables" : "iptables",
                     backend == Backend::IptablesNft ? "-nft" : "-legacy");
}
}  // namespace

std::string chain_label(const NetfilterRule& rule) { return chain_label(rule.backend, rule.family, rule.table, rule.chain); }

std::string chain_label(const NetfilterChain& chain) {
  return chain_label(chain.backend, chain.family, chain.table, chain.name);
}

std::string list_chain_command(Backend backend, const std::string& family, const std::string& table,
                               const std::string& chain) {
  const std::string tool = family == "ip6" ? "ip6tables" : "iptables";
  switch (backend) {
    case Backend::Nftables: return fmt::format("nft -a list chain {} {} {}", family, table, chain);
    case Backend::IptablesNft: return fmt::format("{}-nft -t {} -L {} -n -v --line-numbers", tool, table, chain);
    case Backend::IptablesLegacy: return fmt::format("{}-legacy -t {} -L {} -n -v --line-numbers", tool, table, chain);
  }
  return {};
}

Ruleset parse_nftables_json(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("libnftables' JSON does not parse: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("nftables") || !doc["nftables"].is_array())
    throw std::runtime_error("libnftables' JSON has no \"nftables\" array");
  Ruleset set;
  std::map<std::tuple<std::string, std::string, std::string>, unsigned> positions;
  for (const auto& item : doc["nftables"]) {
    if (!item.is_object()) continue;
    if (item.contains("chain") && item["chain"].is_object()) {
      const json& c = item["chain"];
      NetfilterChain chain;
      chain.family = c.value("family", std::string());
      chain.table = c.value("table", std::string());
      chain.name = c.value("name", std::string());
      chain.hook = c.value("hook", std::string());
      chain.policy = c.value("policy", std::string());
      set.chains.push_back(std::move(chain));
    } else if (item.contains("rule") && item["rule"].is_object()) {
      const json& r = item["rule"];
      NetfilterRule rule;
      rule.family = r.value("family", std::string());
      rule.table = r.value("table", std::string());
      rule.chain = r.value("chain", std::string());
      rule.handle = r.value("handle", uint64_t{0});
      rule.position = ++positions[{rule.family, rule.table, rule.chain}];
      if (r.contains("expr") && r["expr"].is_array()) verdict_of(r["expr"], rule);
      set.rules.push_back(std::move(rule));
    }
  }
  for (auto& chain : set.chains)
    if (iptables_nft_table(chain.family, chain.table, set.chains)) chain.backend = Backend::IptablesNft;
  for (auto& rule : set.rules)
    if (iptables_nft_table(rule.family, rule.table, set.chains)) rule.backend = Backend::IptablesNft;
  set.link();
  return set;
}

std::vector<std::pair<uint64_t, std::string>> nftables_rule_texts(std::string_view listing) {
  std::vector<std::pair<uint64_t, std::string>> out;
  size_t at = 0;
  while (at < listing.size()) {
    size_t end = listing.find('\n', at);
    if (end == std::string_view::npos) end = listing.size();
    const std::string_view line = listing.substr(at, end - at);
    at = end + 1;
    const size_t mark = line.rfind("# handle ");
    if (mark == std::string_view::npos) continue;
    const std::string body = trim(line.substr(0, mark));
    // Tables, chains, sets and other objects open a block: not rules.
    if (body.empty() || body.back() == '{') continue;
    const std::string number = trim(line.substr(mark + std::strlen("# handle ")));
    try {
      out.emplace_back(std::stoull(number), body);
    } catch (const std::exception&) {
    }
  }
  return out;
}

std::string nft_hook_name(uint8_t hook) {
  switch (hook) {
    case 0: return "prerouting";
    case 1: return "input";
    case 2: return "forward";
    case 3: return "output";
    case 4: return "postrouting";
    default: return fmt::format("hook{}", hook);
  }
}

}  // namespace skbtrail::netfilter
