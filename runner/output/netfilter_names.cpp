#include "runner/output/netfilter_names.h"

#include <fmt/format.h>

namespace skbtrail {

std::string netfilter_hook_name(uint8_t hook) {
  static constexpr const char* kNames[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  return hook < 5 ? kNames[hook] : fmt::format("hook{}", hook);
}

std::string netfilter_family_name(uint8_t pf) {
  switch (pf) {
    case 2: return "ipv4";
    case 10: return "ipv6";
    case 3: return "arp";
    case 7: return "bridge";
    case 1: return "inet";
    case 5: return "netdev";
    default: return fmt::format("pf{}", pf);
  }
}

std::string nftables_family_name(uint8_t family) {
  switch (family) {
    case 1: return "inet";
    case 2: return "ip";
    case 3: return "arp";
    case 5: return "netdev";
    case 7: return "bridge";
    case 10: return "ip6";
    default: return fmt::format("family{}", family);
  }
}

std::string netfilter_verdict_name(int verdict) {
  static constexpr const char* kNames[] = {"DROP", "ACCEPT", "STOLEN", "QUEUE", "REPEAT", "STOP"};
  return verdict >= 0 && verdict < 6 ? kNames[verdict] : fmt::format("VERDICT{}", verdict);
}

}  // namespace skbtrail
