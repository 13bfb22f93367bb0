#include "runner/tools/manual/manual.h"

#include <sstream>

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/data/probe_list.h"
#include "runner/tools/options.h"
#include "runner/tools/profiles/profiles_tool.h"
#include "runner/tools/tool.h"

namespace skbtrail {

namespace po = boost::program_options;

namespace {

HelpFormat current_format = HelpFormat::Text;

// Text as roff sees it: backslashes escaped, a leading '.' or '\'' kept
// from being a request, '-' as a real minus (options must stay
// copy-pasteable).
std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Free text: paragraphs; indented lines stay as they are (examples, tables);
// a line ending in ':' before them is a subsection.
std::string roff_text(const std::string& text) {
  std::string out;
  const auto lines = lines_of(text);
  std::string paragraph;
  bool in_block = false;
  auto flush = [&] {
    if (!paragraph.empty()) out += ".PP\n" + escape(paragraph) + "\n";
    paragraph.clear();
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const bool indented = line.starts_with("  ");
    if (indented) {
      flush();
      if (!in_block) out += ".PP\n.nf\n";
      in_block = true;
      out += escape(line) + "\n";
      continue;
    }
    if (in_block) {
      out += ".fi\n";
      in_block = false;
    }
    if (line.empty()) {
      flush();
      continue;
    }
    const bool heading = line.back() == ':' && line.find(". ") == std::string::npos &&
                         i + 1 < lines.size() && lines[i + 1].starts_with("  ");
    if (heading) {
      flush();
      out += ".SS " + escape(line.substr(0, line.size() - 1)) + "\n";
      continue;
    }
    paragraph += (paragraph.empty() ? "" : " ") + line;
  }
  flush();
  if (in_block) out += ".fi\n";
  return out;
}

std::string option_entry(const po::option_description& option) {
  std::string names;
  const std::string shorter = option.canonical_display_name(po::command_line_style::allow_dash_for_short);
  const std::string longer = option.canonical_display_name(po::command_line_style::allow_long);
  if (!shorter.empty() && shorter != longer && shorter.size() == 2) names = "\\fB" + escape(shorter) + "\\fR, ";
  names += "\\fB" + escape(longer) + "\\fR";
  const std::string parameter = option.format_parameter();
  if (!parameter.empty()) names += " \\fI" + escape(parameter) + "\\fR";
  return ".TP\n" + names + "\n" + escape(option.description()) + "\n";
}

// Every option, in the order --help lists them (Boost keeps the groups'
// captions private: one list).
std::string roff_options(const po::options_description& options) {
  if (options.options().empty()) return {};
  std::string out = ".SH OPTIONS\n";
  for (const auto& option : options.options()) out += option_entry(*option);
  return out;
}

std::string page_header(const std::string& title, const std::string& name_line) {
  return fmt::format(".TH {} 8 \"\" \"skbtrail {}\" \"System Administration\"\n.SH NAME\n{}\n", title,
                     SKBTRAIL_VERSION, escape(name_line));
}

}  // namespace

void set_help_format(HelpFormat format) { current_format = format; }
HelpFormat help_format() { return current_format; }

std::string roff_page(const std::string& usage, const po::options_description& options, const std::string& trailer) {
  // "usage: skbtrail drop [OPTIONS]\n\nEvery packet ..." -> SYNOPSIS, DESCRIPTION.
  const auto first_end = usage.find('\n');
  std::string synopsis = usage.substr(0, first_end);
  if (synopsis.starts_with("usage: ")) synopsis = synopsis.substr(7);
  std::string rest = first_end == std::string::npos ? std::string() : usage.substr(first_end + 1);
  // Further synopsis lines ("       skbtrail check --kernel-headers DIR").
  std::string more_synopsis;
  while (rest.starts_with("       skbtrail")) {
    const auto end = rest.find('\n');
    more_synopsis += ".br\n" + escape(rest.substr(7, end - 7)) + "\n";
    rest = end == std::string::npos ? "" : rest.substr(end + 1);
  }
  std::istringstream words(synopsis);
  std::string program, command;
  words >> program >> command;
  const std::string title = "SKBTRAIL-" + [&] {
    std::string upper;
    for (const char c : command) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return upper;
  }();
  const Tool* tool = find_tool(command);
  std::string out = page_header(title, fmt::format("skbtrail-{} - {}", command, tool ? tool->summary() : ""));
  out += ".SH SYNOPSIS\n" + escape(synopsis) + "\n" + more_synopsis;
  out += ".SH DESCRIPTION\n" + roff_text(rest);
  out += roff_options(options);
  if (!trailer.empty())
    out += (trailer.find("examples:") != std::string::npos ? ".SH EXAMPLES\n" : ".SH NOTES\n") + roff_text(trailer);
  out += ".SH SEE ALSO\n\\fBskbtrail\\fR(8)\n";
  return out;
}

std::string manual_page(const std::string& command) {
  if (command.empty() || command == "skbtrail") {
    std::string out = page_header("SKBTRAIL", "skbtrail - where a packet went inside the Linux kernel, and why it died");
    out += ".SH SYNOPSIS\n\\fBskbtrail\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n";
    out += ".SH DESCRIPTION\n"
           ".PP\nskbtrail compiles small BPF programs at run time with BCC against the kernel it finds (its headers, "
           "or headers generated from BTF), attaches them, filters in the kernel and prints what happened to "
           "matching packets: where they were dropped and why, why a connection was reset, and the path they "
           "took through the stack.\n";
    out += ".SH COMMANDS\n";
    std::string see_also;
    for (const Tool* tool : tools()) {
      out += fmt::format(".TP\n\\fB{}\\fR\n{} (\\fBskbtrail\\-{}\\fR(8))\n", escape(std::string(tool->synopsis())),
                         escape(std::string(tool->summary())), tool->name());
      see_also += fmt::format("{}\\fBskbtrail\\-{}\\fR(8)", see_also.empty() ? "" : ",\n", tool->name());
    }
    out += ".SH EXIT STATUS\n0 done, 2 bad input or a missing prerequisite (one line naming the input and the fix; "
           "nothing is attached), 1 a failure while running.\n";
    out += ".SH SEE ALSO\n" + see_also + "\n";
    return out;
  }
  const Tool* tool = find_tool(command);
  if (!tool) throw UsageError(fmt::format("no command '{}' to write a manual page for", command));
  set_help_format(HelpFormat::Roff);
  Command parsed;
  try {
    parsed = tool->parse({"--help"});
  } catch (...) {
    set_help_format(HelpFormat::Text);
    throw;
  }
  set_help_format(HelpFormat::Text);
  return parsed.text();
}

std::string completion_words(const std::vector<std::string>& what) {
  std::string out;
  const std::string kind = what.empty() ? "commands" : what[0];
  if (kind == "commands") {
    for (const Tool* tool : tools()) out += std::string(tool->name()) + "\n";
    out += "help\nversion\n";
  } else if (kind == "options" && what.size() == 2) {
    const Tool* tool = find_tool(what[1]);
    if (!tool) return {};
    set_help_format(HelpFormat::Roff);  // parse --help without printing; the page lists every option
    std::string page;
    try {
      page = tool->parse({"--help"}).text();
    } catch (...) {
    }
    set_help_format(HelpFormat::Text);
    // The option names, as the page's .TP entries name them.
    std::istringstream in(page);
    std::string line, previous;
    for (; std::getline(in, line); previous = line) {
      if (previous != ".TP") continue;
      for (size_t at = line.find("\\fB"); at != std::string::npos; at = line.find("\\fB", at + 1)) {
        const size_t end = line.find("\\fR", at);
        std::string name = line.substr(at + 3, end - at - 3);
        std::string plain;
        for (size_t i = 0; i < name.size(); ++i) {
          if (name[i] == '\\' && i + 1 < name.size() && name[i + 1] == '-') continue;
          plain += name[i];
        }
        out += plain + "\n";
      }
    }
  } else if (kind == "profiles") {
    for (const auto& p : bundled_profiles()) out += p.name + "\n";
  } else if (kind == "profile-command" && what.size() == 2) {
    for (const auto& p : bundled_profiles())
      if (p.name == what[1]) out += p.command + "\n";
  } else if (kind == "probes") {
    std::string last;
    for (const auto& hop : default_probe_list())
      if (hop.name != last) out += (last = hop.name) + "\n";
  } else if (kind == "scripts") {
    for (const auto& s : bundled_bpftrace_scripts()) out += s.name + "\n";
  }
  return out;
}

}  // namespace skbtrail
