// The two readers every data file goes through, so they all share one
// comment rule and one error form:
//   - a line whose first non-blank character is '#' is a comment; a '#'
//     anywhere else is data (a rule's cause may say "see #123");
//   - errors are UsageError "SOURCE:LINE: what is wrong (the fix)".
//
// Section files (rules, profiles):      Word files (probe lists, compat data):
//   [name]                                NAME  WORD  WORD  rest of the line
//   key = value
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runner/common/errors.h"

namespace skbtrail {

// "SOURCE:LINE: what" as a UsageError.
UsageError data_error(const std::string& source, int line, std::string_view what);

struct DataEntry {
  std::string key;
  std::string value;  // trimmed; may be empty (the caller decides)
  int line = 0;
};

struct DataSection {
  std::string name;  // between the brackets
  int line = 0;
  std::vector<DataEntry> entries;
};

// `[section]` blocks of `key = value` lines. `what` names a section in
// messages ("rule", "profile"): "a key before the first [rule]".
std::vector<DataSection> read_sections(std::string_view text, const std::string& source, std::string_view what);

struct WordLine {
  int line = 0;
  std::vector<std::string> words;  // at most max_words
  std::string rest;                // what follows them, trimmed ("" when nothing)
};

// Blank-separated words of each non-comment line. With max_words > 0 the
// line is split into that many words and the rest of the line is kept whole
// (a description at the end); 0 splits everything.
std::vector<WordLine> read_word_lines(std::string_view text, size_t max_words = 0);

// A line reader for the section and word readers, and for anyone needing
// the same comment rule on a single line.
bool is_comment_or_blank(std::string_view line);

}  // namespace skbtrail
