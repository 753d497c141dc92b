// Text shown to people: event data on a terminal, in a Markdown briefing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace custodian {

// `s` on one line, cut at a character boundary once `max` bytes are shown
// (then "..." follows; the last escape may take it a few bytes past), with everything a terminal or a Markdown renderer would act
// on shown instead: line breaks and tabs as \n \r \t, other control characters
// (C0, DEL, C1) and the Unicode bidirectional overrides and isolates
// (U+202A..U+202E, U+2066..U+2069) as \xNN or \uNNNN, so event data can never
// forge a line of output or rewrite what is on the screen.
std::string OneLineText(std::string_view s, size_t max);
// OneLineText without a length limit.
std::string TerminalText(std::string_view s);
// TerminalText for HTML text and attribute values: & < > " ' escaped too, so
// event data shows as text in a page (a briefing, a subject-access export)
// and a bidirectional override cannot turn the rest of a line around.
std::string HtmlText(std::string_view s);
// `s` in double quotes, as an error message quotes what it was given (a
// hostile file's value, a request's parameter): OneLineText(s, max), so a
// quote never cuts a character in two nor carries a control character to a
// terminal or a log.
std::string QuotedText(std::string_view s, size_t max = 80);
// The whole of `s` as a decimal integer ("-12", "42"); nullopt when it is
// not one or does not fit (never throws, unlike std::stoll).
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<uint64_t> ParseUint64(std::string_view s);

// The UTF-8 sequence at s[i] (i < s.size()) as a code point and its length
// in bytes; nullopt when it is not one (a stray byte, a sequence cut short,
// overlong or too long, a surrogate, past U+10FFFF).
std::optional<std::pair<char32_t, size_t>> DecodeUtf8At(std::string_view s, size_t i);

// `s` with every letter in lower case, in every script ("ÉTIENNE Öztürk" ->
// "étienne öztürk"): Unicode's simple case mapping as glibc's C.UTF-8 locale
// has it. How names and e-mail addresses are compared when people and
// customers are searched. Bytes that are not UTF-8 are kept as they are;
// without that locale (Debian's libc-bin, which every system has, holds it),
// A-Z only: FoldsEveryScript() says which.
std::string FoldCase(std::string_view s);
bool FoldsEveryScript();

}  // namespace custodian
