#include "core/webhook_url.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace custodian {
namespace {

TEST_CASE("webhook URLs: http and https with a host, port, path and query parse into their parts", "[webhook_url]") {
  Result<WebhookUrl> u = ParseWebhookUrl("https://soc.example.com:8443/custodian/alerts?team=north");
  REQUIRE(u.ok());
  CHECK(u->https());
  CHECK(u->host == "soc.example.com");
  CHECK(u->port == 8443);
  CHECK(u->Target() == "/custodian/alerts?team=north");
  CHECK(u->HostHeader() == "soc.example.com:8443");
  CHECK(u->userinfo.empty());

  Result<WebhookUrl> plain = ParseWebhookUrl("http://127.0.0.1");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->https());
  CHECK(plain->port == 80);
  CHECK(plain->Target() == "/");
  CHECK(plain->HostHeader() == "127.0.0.1");
  CHECK_FALSE(plain->HasCredential());
  CHECK(plain->Redacted() == "http://127.0.0.1/");
  CHECK(ParseWebhookUrl("https://hooks.example.com")->port == 443);

  Result<WebhookUrl> v6 = ParseWebhookUrl("https://[::1]:9443/hook");
  REQUIRE(v6.ok());
  CHECK(v6->ipv6);
  CHECK(v6->host == "::1");
  CHECK(v6->HostHeader() == "[::1]:9443");
}

TEST_CASE("a credential in the userinfo or the query is replaced by *** in the redacted URL", "[webhook_url]") {
  Result<WebhookUrl> u = ParseWebhookUrl("https://soc-bot:s%40cret@127.0.0.1:8443/hook?token=abc123&team=north&flag");
  REQUIRE(u.ok());
  CHECK(u->HasCredential());
  CHECK_FALSE(u->IsRedacted());
  CHECK(u->userinfo == "soc-bot:s%40cret");
  CHECK(u->DecodedUserinfo() == "soc-bot:s@cret");
  CHECK(u->Redacted() == "https://***@127.0.0.1:8443/hook?token=***&team=***&***");
  CHECK(u->Full() == "https://soc-bot:s%40cret@127.0.0.1:8443/hook?token=abc123&team=north&flag");
  // The redacted form parses, is redacted, and redacts to itself.
  Result<WebhookUrl> r = ParseWebhookUrl(u->Redacted());
  REQUIRE(r.ok());
  CHECK(r->IsRedacted());
  CHECK(r->Redacted() == u->Redacted());
  CHECK(ParseWebhookUrl("https://h.example/hook?token=***&x=1")->IsRedacted() == false);
}

TEST_CASE("bad webhook URLs are refused, saying what is wrong, without repeating a credential", "[webhook_url]") {
  struct Case {
    std::string url, message;
  };
  const std::vector<Case> cases = {
      {"", "it is empty"},
      {"ftp://files.example.com/hook", "the scheme 'ftp' is not supported (only http and https"},
      {"HTTPS://soc.example.com/", "the scheme 'HTTPS' is not supported"},
      {"soc.example.com/hook", "there is no scheme"},
      {"https:///hook", "there is no host"},
      {"https://user:secret@/hook", "there is no host"},
      {"https://soc_example.com/hook", "the host 'soc_example.com' has the character '_'"},
      {"https://soc..example.com/", "has an empty label"},
      {"https://-soc.example.com/", "starts or ends with '-'"},
      {"https://soc.example.com:0/hook", "the port '0' is not a number from 1 to 65535"},
      {"https://soc.example.com:65536/hook", "the port '65536' is not a number from 1 to 65535"},
      {"https://soc.example.com:84a3/hook", "the port '84a3' is not a number"},
      {"https://soc.example.com:/hook", "not followed by a port"},
      {"https://soc.example.com:-1/hook", "the port '-1' is not a number"},
      {"https://soc.example.com/my hook", "byte 27 is a space"},
      {"https://soc.example.com/hook\nHost: evil", "byte 29 is a control character (0x0a)"},
      {"https://soc.example.com/h\x7f", "a control character (0x7f)"},
      {"https://soc.example.com/h\xc3\xa9", "is not ASCII"},
      {"https://soc.example.com/hook#top", "fragment"},
      {"https://soc.example.com/ho%zzk", "the path has a '%' that is not followed by two hex digits"},
      {"https://soc.example.com/hook?a=<b>", "the query has the character '<'"},
      {"https://u@v:secret@soc.example.com/", "the user and password have an '@'"},
      {"https://us\"er:secret@soc.example.com/", "the user and password has the character '\"'"},
      {"https://[zz::1]/", "is not an IPv6 address"},
      {"https://[::1/", "no closing ']'"},
  };
  for (const Case& c : cases) {
    INFO(c.url);
    Result<WebhookUrl> u = ParseWebhookUrl(c.url);
    REQUIRE_FALSE(u.ok());
    CHECK(u.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(u.status().message(), Catch::Contains(c.message));
    CHECK_THAT(u.status().message(), Catch::StartsWith("webhook URL: "));
    CHECK_THAT(u.status().message(), !Catch::Contains("secret"));
  }
}

}  // namespace
}  // namespace custodian
