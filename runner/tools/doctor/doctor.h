// skbtrail doctor: what this kernel offers, and what each tracing command
// would attach here: their own plans, built from the same facts the
// commands use.
#pragma once

#include <string>
#include <vector>

#include "runner/kernel/facts.h"
#include "runner/kernel/headers.h"
#include "runner/tools/tool.h"

namespace skbtrail {

struct DoctorOptions {
  HeaderOptions headers;
  bool compile = true;  // compile the drop program as a smoke test
};

struct DoctorRow {
  std::string check;
  std::string status;  // "yes", "no", "ready", "partial", "unusable", ...
  std::string detail;
  bool ok = true;
};

struct DoctorReport {
  std::vector<DoctorRow> facts;
  std::vector<DoctorRow> commands;
  bool can_run = false;  // at least one command is ready
};

// The checks that need no compiler. headers_ok/status/detail: the outcome of
// choosing headers (a HeaderChoice description or the error text).
DoctorReport build_doctor_report(const KernelFacts& facts, bool headers_ok, const std::string& headers_status,
                                 const std::string& headers_detail);

// What `tool` would attach on `facts`, as a doctor row.
DoctorRow command_row(const Tool& tool, const KernelFacts& facts);

std::string format_doctor_report(const KernelInfo& kernel, const DoctorReport& report);

const Tool& doctor_tool();

}  // namespace skbtrail
