// skbtrail doctor: what this kernel offers and what each command will use.
#pragma once

#include <string>
#include <vector>

#include "runner/headers.h"
#include "runner/kernel_info.h"

namespace skbtrail {

class Kallsyms;

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

// The checks that need no compiler; `headers` is the outcome of choosing
// headers (a HeaderChoice description or the error text).
DoctorReport build_doctor_report(const KernelInfo& kernel, const Kallsyms& kallsyms, bool headers_ok,
                                 const std::string& headers_status, const std::string& headers_detail);

std::string format_doctor_report(const KernelInfo& kernel, const DoctorReport& report);

int run_doctor(const DoctorOptions& options);

}  // namespace skbtrail
