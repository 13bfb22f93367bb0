// The bpf() calls the loader makes, through libbpf. Kept apart from
// libbcc_bpf's header (bcc/libbpf.h), which declares some of the same
// names differently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/bpf/object.h"
#include "runner/bpf/probes.h"

namespace skbtrail {

int program_type_of(ProbeKind kind);  // enum bpf_prog_type

// A map as the spec says; perf event arrays get one slot per possible CPU
// of this machine (the compiling machine's count is meaningless here).
// Returns the fd, or -1 with errno set.
int create_map(const BpfTableSpec& spec);

// Loads one program. Returns the fd, or -1 with `error` holding why: the
// verifier's log, whole (its verdict comes last).
int load_program(int type, const std::string& name, const std::string& license, const std::vector<uint8_t>& insns,
                 uint32_t kern_version, std::string& error);

}  // namespace skbtrail
