#include "http/forwarding.hpp"

#include <charconv>

#include "http/target.hpp"

namespace fairlead::http {
namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

void appendNumber(std::uint64_t n, std::string& out, int base = 10) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n, base);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// One allocation for the whole head instead of a string doubling its way up field by field: the
// fields as received, what we add (`extra` for the caller's own values), and room for our
// framing and forwarding fields.
void reserveForHead(const MessageHead& m, std::size_t extra, std::string& out) {
  std::size_t need = 32 + m.method.size() + m.target.size() + m.reason.size() + extra + 160;
  for (const auto& h : m.headers) need += h.name.size() + h.value.size() + 4;
  out.reserve(out.size() + need);
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// The framing fields we write ourselves, then the blank line that ends the head.
void appendFramingAndEnd(BodyFraming framing, std::uint64_t content_length, std::string& out) {
  switch (framing) {
    case BodyFraming::Chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
    case BodyFraming::Length:
      out.append("Content-Length: ");
      appendNumber(content_length, out);
      out.append("\r\n");
      break;
    case BodyFraming::None:
    case BodyFraming::CloseDelimited: break;
  }
  out.append("\r\n");
}

bool isForwardedField(std::string_view name) noexcept {
  return startsWithNoCase(name, "x-forwarded-");
}

}  // namespace

bool isHopByHop(std::string_view name, const Headers& headers) noexcept {
  // Every hop-by-hop name is 2..17 characters; most fields (and most lookups) are not.
  switch (name.size()) {
    case 2: if (iequals(name, "te")) return true; break;
    case 7: if (iequals(name, "trailer") || iequals(name, "upgrade")) return true; break;
    case 10: if (iequals(name, "connection") || iequals(name, "keep-alive")) return true; break;
    case 17: if (iequals(name, "transfer-encoding")) return true; break;
    default: break;
  }
  if (startsWithNoCase(name, "proxy-")) return true;
  // Fields the sender named in Connection belong to its hop only (RFC 9110 §7.6.1).
  for (const auto& h : headers) {
    if (iequals(h.name, "connection") && hasToken(h.value, name)) return true;
  }
  return false;
}

BodyFraming requestFraming(const MessageHead& request) noexcept {
  if (request.chunked) return BodyFraming::Chunked;
  if (request.has_content_length) return BodyFraming::Length;
  return BodyFraming::None;  // RFC 9112 §6.3: a request without either has no body
}

BodyFraming responseFraming(const MessageHead& response, bool client_http10) noexcept {
  if (response.has_content_length && !response.chunked) return BodyFraming::Length;
  return client_http10 ? BodyFraming::CloseDelimited : BodyFraming::Chunked;
}

void writeRequestHead(const MessageHead& req, const RequestContext& ctx, std::string& out) {
  reserveForHead(req, ctx.client_ip.size() + ctx.upstream_authority.size() +
                          ctx.request_id_header.size() + ctx.request_id.size(), out);
  // RFC 9112 §3.2.2: with an absolute-form target the target's authority is the Host, whatever
  // the Host field says; the app gets origin-form, which is what servers are built for.
  const TargetParts target = splitTarget(req.target);
  const std::string_view origin_form = std::string_view(req.target).substr(target.path_offset);
  out.append(req.method).append(" ");
  if (!target.authority.empty() && !origin_form.starts_with('/')) out.push_back('/');
  out.append(origin_form).append(" HTTP/1.1\r\n");
  std::string xff;  // a trusted peer's chain: every X-Forwarded-For line, in order (RFC 9110 §5.3)
  bool has_host = false;
  bool has_proto = false;
  bool has_fwd_host = false;
  bool has_port = false;
  bool has_id = false;
  for (const auto& h : req.headers) {
    if (isHopByHop(h.name, req.headers) || iequals(h.name, "content-length")) continue;
    if (isForwardedField(h.name)) {
      if (!ctx.client_trusted) continue;  // an untrusted peer's claims are replaced, not passed on
      if (iequals(h.name, "x-forwarded-for")) {
        if (!h.value.empty()) xff.append(h.value).append(", ");
        continue;
      }
      has_proto |= iequals(h.name, "x-forwarded-proto");
      has_fwd_host |= iequals(h.name, "x-forwarded-host");
      has_port |= iequals(h.name, "x-forwarded-port");
    }
    if (iequals(h.name, ctx.request_id_header)) {
      if (has_id) continue;  // one id per request
      has_id = true;
      appendField(out, h.name, ctx.request_id);
      continue;
    }
    if (iequals(h.name, "host")) {
      has_host = true;
      appendField(out, h.name, target.authority.empty() ? std::string_view(h.value) : target.authority);
      continue;
    }
    appendField(out, h.name, h.value);
  }
  if (!has_host) {
    appendField(out, "Host", target.authority.empty() ? ctx.upstream_authority : target.authority);
  }
  if (!has_id && !ctx.request_id_header.empty()) {
    appendField(out, ctx.request_id_header, ctx.request_id);
  }
  out.append("X-Forwarded-For: ").append(xff).append(ctx.client_ip).append("\r\n");
  if (!has_proto) appendField(out, "X-Forwarded-Proto", ctx.proto);
  if (!has_fwd_host) {
    if (!target.authority.empty()) {
      appendField(out, "X-Forwarded-Host", target.authority);
    } else if (const Header* host = req.headers.find("host")) {
      appendField(out, "X-Forwarded-Host", host->value);
    }
  }
  if (!has_port) {
    out.append("X-Forwarded-Port: ");
    appendNumber(ctx.listener_port, out);
    out.append("\r\n");
  }
  if (req.upgrade) {
    if (const Header* up = req.headers.find("upgrade")) appendField(out, "Upgrade", up->value);
    out.append("Connection: upgrade\r\n");
  }
  appendFramingAndEnd(requestFraming(req), req.content_length, out);
}

void writeResponseHead(const MessageHead& resp, BodyFraming framing, bool keep_alive,
                       bool client_http10, std::string& out) {
  reserveForHead(resp, 0, out);
  out.append("HTTP/1.1 ");
  appendNumber(static_cast<std::uint64_t>(resp.status), out);
  out.append(" ").append(resp.reason).append("\r\n");
  const bool switching = resp.status == 101;
  for (const auto& h : resp.headers) {
    if (isHopByHop(h.name, resp.headers)) continue;
    // With a body we frame it ourselves; without one (HEAD, 304) the length describes the entity.
    if (framing != BodyFraming::None && iequals(h.name, "content-length")) continue;
    appendField(out, h.name, h.value);
  }
  if (switching) {
    if (const Header* up = resp.headers.find("upgrade")) appendField(out, "Upgrade", up->value);
    out.append("Connection: upgrade\r\n");
  } else if (resp.status >= 200) {
    if (!keep_alive) {
      out.append("Connection: close\r\n");
    } else if (client_http10) {
      out.append("Connection: keep-alive\r\n");
    }
  }
  appendFramingAndEnd(framing, resp.content_length, out);
}

ChunkLine::ChunkLine(std::size_t size) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  int n = 0;
  do {
    digits[n++] = kHex[size & 0xf];
    size >>= 4;
  } while (size != 0);
  while (n > 0) bytes_[length_++] = digits[--n];
  bytes_[length_++] = '\r';
  bytes_[length_++] = '\n';
}

void writeChunk(std::string_view data, std::string& out) {
  writeChunkPieces(data, [&](std::string_view piece) { out.append(piece); });
}

void writeLastChunk(const Headers& trailers, std::string& out) {
  out.append("0\r\n");
  for (const auto& h : trailers) {
    if (!isHopByHop(h.name, trailers)) appendField(out, h.name, h.value);
  }
  out.append("\r\n");
}

}  // namespace fairlead::http
