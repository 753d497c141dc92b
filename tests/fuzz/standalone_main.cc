// Runs a fuzz target without libFuzzer, so that the g++ build and ctest
// exercise every target (tools/fuzz.sh runs them under libFuzzer instead).
//
//   fuzz_<target> [--runs=N] [--seed=S] [--max-seconds=T] [--max-len=L] PATH...
//
// Each PATH is a file or a folder of files (a corpus). Every file is run
// once, then N inputs made by mutating them (default 20000): bit flips,
// random and boundary bytes, byte inserts and deletes, copied ranges,
// splices of two inputs and tokens of the formats under test, one to four
// at a time. The mutations come from a fixed seed, so a run is the same
// every time; it stops early, saying so, after T seconds (default 30). With
// --runs=0 it only replays the files, as libFuzzer does with a crash file.
//
// A crash (a failed FUZZ_CHECK traps; the sanitizers abort) writes the input
// to ./fuzz-crash-input, names the run and its corpus file on stderr, and
// ends the process with the signal, so ctest reports a failure.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

struct Input {
  std::string path;
  std::string bytes;
};

// What the crash handler reports; set before each run.
const std::string* g_current = nullptr;
const char* g_origin = "";
uint64_t g_run = 0;

void WriteAll(int fd, const char* s, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}
void WriteStr(int fd, const char* s) { WriteAll(fd, s, std::strlen(s)); }

void OnCrash(int sig) {  // async-signal-safe calls only
  if (g_current != nullptr) {
    const int fd = ::open("fuzz-crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      WriteAll(fd, g_current->data(), g_current->size());
      ::close(fd);
    }
    char run[24];
    char* p = run + sizeof run;
    *--p = '\0';
    uint64_t v = g_run;
    do {
      *--p = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    WriteStr(2, "fuzz: crash on run ");
    WriteStr(2, p);
    WriteStr(2, " (mutated from ");
    WriteStr(2, g_origin);
    WriteStr(2, "); the input is in ./fuzz-crash-input\n");
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Tokens of HTTP/1.1, JSON, RFC 3339 times, percent-encoding, UTF-8 and the
// CloudEvents and event formats: whole tokens reach deeper than random bytes.
constexpr std::string_view kTokens[] = {
    "\r\n", "\r\n\r\n", "\n\n", ": ", " ", "\t", "\"", "\\", "\\\"", "\\u0000", "\\ud800", "\\udc00\\ud800",
    "{", "}", "[", "]", ",", ":", "{}", "[]", "null", "true", "false", "0", "-0", "-1", "1.5e308", "1e999",
    "4294967295", "4294967296", "18446744073709551616", "-9223372036854775809", "2147483648",
    "%", "%00", "%2F", "%2f", "%25", "%zz", "%C3%A9", "%ff", "+", "?", "&", "=", "/", "//", "#",
    "GET ", "POST ", "HTTP/1.1", "HTTP/1.0", "Host: x\r\n", "Content-Length: 0\r\n", "Content-Length: 18446744073709551616\r\n",
    "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", "ffffffff\r\n", ";ext=1", "Connection: close\r\n",
    "Connection: keep-alive\r\n", "Content-Type: ", "ce-", "ce-id: ", "ce-specversion: 1.0", "ce-source: ",
    "ce-type: ", "ce-subject: ", "ce-time: ", "ce-actor: ", "application/cloudevents+json",
    "application/cloudevents-batch+json", "application/json", "text/json", "application/x+json", "; charset=utf-8",
    ";a=\"b\\\"c\"", "T", "t", "Z", "+23:59", "-23:59", "+00:01", "-00:01", "0001-01-01", "9999-12-31", "2024-02-29",
    "T23:59:60", ".999999999", ",5", "\xc3\xa9", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80", "\xff", "\x00",
    "\"id\":", "\"data\":", "\"data_base64\":", "\"specversion\":\"1.0\"", "\"personal\":", "\"sealed_for\":",
    "\"schema\":", "\"occurred_at\":", "\"position\":", "\"time\":", "\"subject\":", "customer-1", "staff-7",
    "system:x", "interaction.logged", "00000000-0000-0000-0000-000000000000", "====", "YQ==",
};

constexpr uint8_t kBoundaryBytes[] = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x25, 0x2b, 0x2c, 0x2d,
                                      0x2f, 0x30, 0x39, 0x3a, 0x5c, 0x7b, 0x7d, 0x7f, 0x80, 0xbf, 0xc0,
                                      0xe0, 0xed, 0xf0, 0xf4, 0xff};

class Mutator {
 public:
  Mutator(uint64_t seed, const std::vector<Input>& corpus, size_t max_len)
      : rng_(seed), corpus_(corpus), max_len_(max_len) {}

  // A mutation of a corpus input; `origin` names it.
  std::string Next(const char** origin) {
    const Input& base = corpus_[Below(corpus_.size())];
    *origin = base.path.c_str();
    std::string s = base.bytes;
    const size_t count = 1 + Below(4);
    for (size_t i = 0; i < count; ++i) MutateOnce(&s);
    if (s.size() > max_len_) s.resize(max_len_);
    return s;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  void MutateOnce(std::string* s) {
    switch (Below(9)) {
      case 0:  // flip a bit
        if (!s->empty()) (*s)[Below(s->size())] ^= static_cast<char>(1u << Below(8));
        break;
      case 1:  // a random byte
        if (!s->empty()) (*s)[Below(s->size())] = static_cast<char>(Below(256));
        break;
      case 2:  // a boundary byte
        if (!s->empty()) (*s)[Below(s->size())] = static_cast<char>(kBoundaryBytes[Below(std::size(kBoundaryBytes))]);
        break;
      case 3: {  // insert random bytes
        const size_t n = 1 + Below(4);
        std::string bytes;
        for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(Below(256)));
        s->insert(Below(s->size() + 1), bytes);
        break;
      }
      case 4:  // delete a range
        if (!s->empty()) {
          const size_t at = Below(s->size());
          s->erase(at, 1 + Below(std::min<size_t>(16, s->size() - at)));
        }
        break;
      case 5:  // copy a range elsewhere
        if (!s->empty()) {
          const size_t at = Below(s->size());
          const std::string range = s->substr(at, 1 + Below(std::min<size_t>(32, s->size() - at)));
          s->insert(Below(s->size() + 1), range);
        }
        break;
      case 6: {  // splice: our head, another input's tail
        const std::string& other = corpus_[Below(corpus_.size())].bytes;
        *s = s->substr(0, Below(s->size() + 1)) + other.substr(Below(other.size() + 1));
        break;
      }
      case 7: {  // insert or overwrite with a token
        const std::string_view token = kTokens[Below(std::size(kTokens))];
        const size_t at = Below(s->size() + 1);
        if (Below(2) == 0) {
          s->insert(at, token);
        } else {
          s->replace(at, std::min(token.size(), s->size() - at), token);
        }
        break;
      }
      case 8:  // a digit for another digit (times, numbers, lengths)
        for (size_t tries = 0; tries < 8 && !s->empty(); ++tries) {
          char& c = (*s)[Below(s->size())];
          if (c >= '0' && c <= '9') {
            c = static_cast<char>('0' + Below(10));
            break;
          }
        }
        break;
    }
  }

  std::mt19937_64 rng_;
  const std::vector<Input>& corpus_;
  size_t max_len_;
};

bool ReadFile(const std::filesystem::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool Flag(std::string_view arg, std::string_view name, uint64_t* value) {
  if (!arg.starts_with(name) || arg.size() <= name.size()) return false;
  *value = std::strtoull(std::string(arg.substr(name.size())).c_str(), nullptr, 10);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t runs = 20000, seed = 1, max_seconds = 30, max_len = 64 * 1024;
  std::vector<Input> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (Flag(arg, "--runs=", &runs) || Flag(arg, "--seed=", &seed) || Flag(arg, "--max-seconds=", &max_seconds) ||
        Flag(arg, "--max-len=", &max_len)) {
      continue;
    }
    if (arg.starts_with("-")) {
      std::fprintf(stderr, "unknown option %s; usage: %s [--runs=N] [--seed=S] [--max-seconds=T] [--max-len=L] PATH...\n",
                   argv[i], argv[0]);
      return 2;
    }
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());  // the order of a run must not depend on the file system
    } else {
      files.emplace_back(arg);
    }
    for (const auto& file : files) {
      Input input{file.string(), {}};
      if (!ReadFile(file, &input.bytes)) {
        std::fprintf(stderr, "cannot read %s\n", file.c_str());
        return 2;
      }
      corpus.push_back(std::move(input));
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no inputs: give corpus folders or files\n");
    return 2;
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGTRAP}) ::signal(sig, OnCrash);

  const auto started = std::chrono::steady_clock::now();
  for (const Input& input : corpus) {
    g_current = &input.bytes;
    g_origin = input.path.c_str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.bytes.data()), input.bytes.size());
    ++g_run;
  }
  Mutator mutator(seed, corpus, max_len);
  uint64_t done = 0;
  bool out_of_time = false;
  for (; done < runs; ++done) {
    if (done % 256 == 0 && std::chrono::steady_clock::now() - started > std::chrono::seconds(max_seconds)) {
      out_of_time = true;
      break;
    }
    const std::string input = mutator.Next(&g_origin);
    g_current = &input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++g_run;
  }
  g_current = nullptr;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%zu corpus inputs and %llu mutations (seed %llu) in %.2f s, %.0f runs/s%s\n", corpus.size(),
              static_cast<unsigned long long>(done), static_cast<unsigned long long>(seed), seconds,
              static_cast<double>(corpus.size() + done) / seconds,
              out_of_time ? "; stopped early at --max-seconds" : "");
  return 0;
}
