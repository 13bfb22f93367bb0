// What each kernel's BPF can load (scripts/bpf-compat.data): the first
// mainline version of every helper, map type, program type and verifier
// feature, the instruction limits, and vendor backport sets (RHEL 7).
// `skbtrail check` compares compiled programs with it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace skbtrail {

class CompatTable {
 public:
  // Throws UsageError "SOURCE:LINE: ..." for malformed lines.
  static CompatTable parse(std::string_view text, const std::string& source);
  static const CompatTable& bundled();  // scripts/bpf-compat.data

  struct Backport {
    uint32_t base = 0;  // the version its own version checks see
    std::set<std::string> progs, maps, helpers;
  };

  std::optional<uint32_t> helper_since(const std::string& name) const;
  std::optional<uint32_t> map_since(const std::string& name) const;
  std::optional<uint32_t> prog_since(const std::string& name) const;
  std::optional<uint32_t> feature_since(const std::string& name) const;
  size_t instruction_limit(uint32_t version) const;
  const Backport* backport(const std::string& name) const;

 private:
  std::map<std::string, uint32_t> helpers_, maps_, progs_, features_;
  std::map<uint32_t, size_t> insn_limits_;  // from version -> limit
  std::map<std::string, Backport> backports_;
};

}  // namespace skbtrail
