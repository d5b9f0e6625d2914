// A PAC file for burrow (--pac FILE|URL, BURROW_PAC, or pac: in the config file). Try it with:
//     burrow route --pac examples/proxy.pac jump.ecmwf.int 22
// burrow asks FindProxyForURL("https://HOST:PORT/", HOST) for a TCP target (http://HOST/ for port 80, and
// https://HOST/ for 443), then tries the entries of the answer in order, each within --alternative-timeout.
//   PROXY / HTTP host:port   an HTTP proxy (CONNECT)        HTTPS host:port   TLS to the proxy
//   SOCKS / SOCKS5 host:port SOCKS5, the proxy resolves     SOCKS4 host:port  SOCKS4, burrow resolves
//   DIRECT                   no proxy
function FindProxyForURL(url, host) {
  // Inside the network: direct.
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example") || shExpMatch(host, "10.*")) {
    return "DIRECT";
  }
  // SSH (port 22 in the URL): the SOCKS proxy first, the web proxy second.
  if (shExpMatch(url, "*:22/")) {
    return "SOCKS5 socks.corp.example:1080; PROXY proxy.corp.example:8080";
  }
  // Everything else: two web proxies, then a direct try.
  return "PROXY proxy.corp.example:8080; PROXY proxy2.corp.example:8080; DIRECT";
}
