#include "runner/common/hash.h"

#include <fmt/format.h>

namespace skbtrail {

std::string Fnv1a::hex() const { return fmt::format("{:016x}", state_); }

}  // namespace skbtrail
