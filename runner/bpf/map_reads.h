// Reading a program's tables at the end of a run: per-CPU counters summed
// over the possible CPUs, and how many entries a hash table holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace skbtrail {

// A BPF_PERCPU_ARRAY of u64: each index summed over every possible CPU;
// nullopt when it cannot be read.
std::optional<std::vector<uint64_t>> read_percpu_u64_sums(int fd, uint32_t entries);
// Its values per CPU: values[index][cpu] (value_size bytes each, 8-aligned).
std::optional<std::vector<std::vector<uint8_t>>> read_percpu_values(int fd, uint32_t entries, size_t value_size);
// Entries in a hash table (keys walked with get_next_key); nullopt on error.
std::optional<size_t> count_entries(int fd, size_t key_size);

}  // namespace skbtrail
