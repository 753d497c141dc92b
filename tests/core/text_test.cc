// Text shown to people (core/text.h): event data can never forge a line of
// output or rewrite what is on a terminal.
#include "core/text.h"
// The header under test comes first, to prove it is self-contained.

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/time.h"
#include "core/types.h"
#include "core/validation.h"

namespace custodian {
namespace {

TEST_CASE("line breaks, tabs, C0 controls and DEL are shown, not obeyed") {
  CHECK(TerminalText("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(TerminalText(std::string("x\0y", 3)) == "x\\x00y");
  CHECK(TerminalText("\x1b[31mred") == "\\x1b[31mred");  // an ANSI colour
  CHECK(TerminalText("del\x7f") == "del\\x7f");
}

TEST_CASE("C1 controls and the bidirectional overrides and isolates are shown as code points") {
  CHECK(TerminalText("\xc2\x9b" "2J") == "\\u009b2J");  // CSI, U+009B
  CHECK(TerminalText("\xc2\x85") == "\\u0085");          // NEL
  CHECK(TerminalText("abc\xe2\x80\xae" "fed") == "abc\\u202efed");  // RIGHT-TO-LEFT OVERRIDE
  CHECK(TerminalText("\xe2\x80\xaa") == "\\u202a");
  CHECK(TerminalText("\xe2\x81\xa6" "x\xe2\x81\xa9") == "\\u2066x\\u2069");  // isolates
}

TEST_CASE("ordinary text, other letters and other punctuation stay as they are") {
  CHECK(TerminalText("Jürgen Ødegård, 東京, \"quoted\" \\ back") == "Jürgen Ødegård, 東京, \"quoted\" \\ back");
  CHECK(TerminalText("\xc2\xa0") == "\xc2\xa0");              // NO-BREAK SPACE is not a control
  CHECK(TerminalText("\xe2\x80\x94") == "\xe2\x80\x94");      // EM DASH, next to the overrides
  CHECK(TerminalText("\xe2\x80\xaf") == "\xe2\x80\xaf");      // U+202F, just past them
  CHECK(TerminalText("") == "");
}

TEST_CASE("a long text is cut at a character boundary, and says so") {
  CHECK(OneLineText("abcdef", 3) == "abc...");
  CHECK(OneLineText("abc", 3) == "abc");
  // "ü" is two bytes: the cut never splits it.
  CHECK(OneLineText("aü b", 2) == "aü...");
  // An escape counts with its shown length.
  CHECK(OneLineText("\n\n\n", 4) == "\\n\\n...");
}

TEST_CASE("a stored number is read whole and never throws") {
  CHECK(ParseInt64("-12") == std::optional<int64_t>(-12));
  CHECK(ParseUint64("00000000000000000042") == std::optional<uint64_t>(42));
  CHECK(ParseUint64("18446744073709551615") == std::optional<uint64_t>(UINT64_MAX));
  for (const char* bad : {"", "18446744073709551616", "12x", " 1", "-1", "1e3"}) {
    INFO(bad);
    CHECK_FALSE(ParseUint64(bad).has_value());
  }
  CHECK_FALSE(ParseInt64("9223372036854775808").has_value());
}

TEST_CASE("text for a page has its markup escaped and its controls and bidirectional overrides shown") {
  CHECK(HtmlText(R"x(<img src=x onerror="a('b')"> & co)x") ==
        "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; co");
  CHECK(HtmlText("call back\u202e now\nsecond line") == "call back\\u202e now\\nsecond line");
  CHECK(HtmlText("Straße 5, São Paulo") == "Straße 5, São Paulo");
}

TEST_CASE("an error message quotes what it was given on one line, never cutting a character") {
  CHECK(QuotedText("abc") == "\"abc\"");
  CHECK(QuotedText(std::string(79, 'x') + "üz") == "\"" + std::string(79, 'x') + "ü...\"");
  CHECK(QuotedText("a\x1b[2Jb\nc", 80) == "\"a\\x1b[2Jb\\nc\"");
}

// Values a hostile file or request gives, refused by the parsers that read
// them: the refusal quotes them without the terminal escape, and a long one
// is cut after whole characters (cut by bytes, as before, the quote of a
// two-byte letter across the limit ended in half of it).
TEST_CASE("refusals of hostile values carry no control character and no half character") {
  struct Parser {
    const char* what;
    size_t limit;  // how much of the value its message quotes
    std::function<std::string(const std::string&)> refusal;
  };
  const std::vector<Parser> parsers = {
      {"a time", 64, [](const std::string& v) { return ParseRfc3339(v).status().message(); }},
      {"an event id", 64, [](const std::string& v) { return EventId::Parse(v).status().message(); }},
      {"a sum of money", 40, [](const std::string& v) { return Amount::Parse(v).status().message(); }},
      {"a stream name", 80, [](const std::string& v) { return ValidateStreamName(v).message(); }},
  };
  for (const Parser& p : parsers) {
    INFO(p.what);
    const std::string escaped = p.refusal("\x1b]0;owned\x07 and more");
    INFO(escaped);
    CHECK(escaped.find('\x1b') == std::string::npos);
    CHECK(escaped.find('\x07') == std::string::npos);
    CHECK(escaped.find("\\x1b]0;owned\\x07") != std::string::npos);

    const std::string across = p.refusal(std::string(p.limit - 1, 'a') + "ü" + std::string(50, 'b'));
    INFO(across);
    CHECK(IsValidUtf8(across));
    CHECK(across.find(std::string(p.limit - 1, 'a') + "ü...") != std::string::npos);
  }
}

TEST_CASE("FoldCase lowers every script's letters and keeps what is not UTF-8", "[text]") {
  CHECK(FoldCase("Hartmann GmbH") == "hartmann gmbh");
  CHECK(FoldCase("ÀÉÎÕÜ ÇØÅ ẞ İ") == "àéîõü çøå ß i");
  CHECK(FoldCase("ΣΟΦΊΑ Москва") == "σοφία москва");
  CHECK(FoldCase("ß ç 東京 😀") == "ß ç 東京 😀");  // nothing to fold
  const std::string stray = std::string("A\xff\xc3") + "B";     // a stray byte, a sequence cut short
  CHECK(FoldCase(stray) == std::string("a\xff\xc3") + "b");
  CHECK(FoldCase("\xc0\x80") == "\xc0\x80");                 // an overlong NUL is no letter
  // Not UTF-8, each kept byte for byte: a surrogate, overlong 3- and 4-byte
  // forms, past U+10FFFF; a 4-byte letter is folded (U+10400 -> U+10428).
  for (const char* kept : {"\xed\xa0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80"}) {
    CHECK(FoldCase(kept) == kept);
  }
  CHECK(FoldCase("\xf0\x90\x90\x80") == "\xf0\x90\x90\xa8");
  CHECK(FoldsEveryScript());
}

}  // namespace
}  // namespace custodian
