#include "runner/bpf/map_reads.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>

namespace skbtrail {

std::optional<std::vector<std::vector<uint8_t>>> read_percpu_values(int fd, uint32_t entries, size_t value_size) {
  const int cpus = libbpf_num_possible_cpus();
  if (fd < 0 || cpus <= 0) return std::nullopt;
  const size_t stride = (value_size + 7) / 8 * 8;  // the kernel rounds each CPU's value up to 8 bytes
  std::vector<uint8_t> all(stride * static_cast<size_t>(cpus));
  std::vector<std::vector<uint8_t>> out;
  for (uint32_t index = 0; index < entries; ++index) {
    if (bpf_map_lookup_elem(fd, &index, all.data()) != 0) return std::nullopt;
    std::vector<uint8_t> per_cpu(value_size * static_cast<size_t>(cpus));
    for (int cpu = 0; cpu < cpus; ++cpu)
      std::memcpy(per_cpu.data() + value_size * cpu, all.data() + stride * cpu, value_size);
    out.push_back(std::move(per_cpu));
  }
  return out;
}

std::optional<std::vector<uint64_t>> read_percpu_u64_sums(int fd, uint32_t entries) {
  const auto values = read_percpu_values(fd, entries, sizeof(uint64_t));
  if (!values) return std::nullopt;
  std::vector<uint64_t> sums;
  for (const auto& per_cpu : *values) {
    uint64_t sum = 0;
    for (size_t at = 0; at + sizeof(uint64_t) <= per_cpu.size(); at += sizeof(uint64_t)) {
      uint64_t v = 0;
      std::memcpy(&v, per_cpu.data() + at, sizeof(v));
      sum += v;
    }
    sums.push_back(sum);
  }
  return sums;
}

std::optional<size_t> count_entries(int fd, size_t key_size) {
  if (fd < 0) return std::nullopt;
  std::vector<uint8_t> key(key_size), next(key_size);
  size_t count = 0;
  const void* previous = nullptr;  // the first call starts the walk
  while (bpf_map_get_next_key(fd, previous, next.data()) == 0) {
    ++count;
    key.swap(next);
    previous = key.data();
  }
  return count;
}

}  // namespace skbtrail
