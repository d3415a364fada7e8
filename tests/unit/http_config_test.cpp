// [http] and [log] journal in the config, and the listen addresses they accept.
#include <catch2/catch.hpp>

#include "agent/config/config.h"
#include "agent/http/listen_address.h"

using namespace bg;

TEST_CASE("listen addresses: TCP on numeric addresses, unix sockets, off") {
  CHECK(ParseListenAddress("")->off());
  auto tcp = ParseListenAddress("127.0.0.1:9464");
  REQUIRE(tcp.ok());
  CHECK(tcp->kind == ListenAddress::Kind::kTcp);
  CHECK(tcp->host == "127.0.0.1");
  CHECK(tcp->port == 9464);
  CHECK(tcp->ToString() == "127.0.0.1:9464");
  CHECK(ParseListenAddress("localhost:0")->ToString() == "127.0.0.1:0");
  auto v6 = ParseListenAddress("[::1]:9464");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->ToString() == "[::1]:9464");
  auto unix_a = ParseListenAddress("unix:/run/bundlegate/http.sock");
  REQUIRE(unix_a.ok());
  CHECK(unix_a->kind == ListenAddress::Kind::kUnix);
  CHECK(unix_a->path == "/run/bundlegate/http.sock");
  CHECK(ParseListenAddress("/run/x.sock")->ToString() == "unix:/run/x.sock");
  for (const char* bad : {"9464", ":9464", "example.com:9464", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:94x", "[::1]9464", "[nothex]:1", "unix:",
                          "unix:relative.sock", "256.1.1.1:80"}) {
    INFO(bad);
    CHECK_FALSE(ParseListenAddress(bad).ok());
  }
  CHECK_FALSE(ParseListenAddress("unix:/" + std::string(200, 'x')).ok());
}

TEST_CASE("[http] keys, their defaults and bounds") {
  auto defaults = ParseConfig("", "t.toml", "/tmp");
  REQUIRE(defaults.ok());
  CHECK(defaults->http.listen.off());
  CHECK(defaults->http.max_connections == 64);
  CHECK(defaults->log.journal == LogConfig::Journal::kAuto);

  auto c = ParseConfig(
      "[http]\nlisten = \"127.0.0.1:0\"\nmax_connections = 4\nmax_header_bytes = 1024\n"
      "max_body_bytes = 0\nrequest_timeout_s = 2\nidle_timeout_s = 3\nliveness_timeout_s = 1\n"
      "[log]\njournal = \"on\"\n",
      "t.toml", "/tmp");
  REQUIRE(c.ok());
  CHECK(c->http.listen.ToString() == "127.0.0.1:0");
  CHECK(c->http.max_connections == 4);
  CHECK(c->http.request_timeout_s == 2);
  CHECK(c->log.journal == LogConfig::Journal::kOn);

  auto bad = ParseConfig("[http]\nlisten = \"host.example:80\"\n", "t.toml", "/tmp");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("http.listen"));
  CHECK_THAT(bad.status().message(), Catch::Contains("t.toml"));
  CHECK_FALSE(ParseConfig("[http]\nmax_connections = 0\n", "t.toml", "/tmp").ok());
  CHECK_FALSE(ParseConfig("[http]\nport = 9464\n", "t.toml", "/tmp").ok());
  CHECK_FALSE(ParseConfig("[log]\njournal = \"yes\"\n", "t.toml", "/tmp").ok());
}
