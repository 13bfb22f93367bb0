// Netfilter's numbers as people read them. The values are uapi
// (linux/netfilter.h, linux/netfilter_ipv4.h), stable since 2.6.
#pragma once

#include <cstdint>
#include <string>

namespace skbtrail {

std::string netfilter_hook_name(uint8_t hook);    // 1 -> "INPUT"
std::string netfilter_family_name(uint8_t pf);    // 2 -> "ipv4"
std::string netfilter_verdict_name(int verdict);  // 0 -> "DROP" (NF_DROP .. NF_STOP)
std::string nftables_family_name(uint8_t family);  // as nft names it: 1 -> "inet", 2 -> "ip"

}  // namespace skbtrail
