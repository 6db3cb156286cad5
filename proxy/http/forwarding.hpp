// Serialising heads across the proxy: the request head the upstream sees (hop-by-hop fields
// removed, X-Forwarded-* and the request id set) and the response head the client sees.
// Pure functions over MessageHead; bytes appended to a caller's buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/message_parser.hpp"

namespace fairlead::http {

// RFC 9110 §7.6.1: fields that describe one connection, never forwarded as they are.
bool isHopByHop(std::string_view name, const Headers& headers) noexcept;

enum class BodyFraming : std::uint8_t {
  None,            // no body (or a HEAD/304 response: its Content-Length is passed on as is)
  Length,          // Content-Length
  Chunked,         // Transfer-Encoding: chunked, re-chunked by us
  CloseDelimited,  // response only: ends when the connection closes
};

struct RequestContext {
  std::string_view client_ip;
  bool client_trusted = false;    // X-Forwarded-* from this peer is kept and appended to
  std::string_view proto = "http";
  std::uint16_t listener_port = 0;
  std::string_view upstream_authority;  // Host for a request that had none (HTTP/1.0)
  std::string_view request_id_header;
  std::string_view request_id;    // the id to send: the client's or a generated one
};

BodyFraming requestFraming(const MessageHead& request) noexcept;
// How a response that has a body is framed toward the client: its own length; re-chunked when
// the app ends it by closing (the client's connection then stays alive); close-delimited for an
// HTTP/1.0 client, which knows no chunks.
BodyFraming responseFraming(const MessageHead& response, bool client_http10) noexcept;

void writeRequestHead(const MessageHead& request, const RequestContext& ctx, std::string& out);

// The upstream's response head for the client. keep_alive = whether the client connection stays
// open after this response (decides Connection: close / keep-alive for HTTP/1.0).
void writeResponseHead(const MessageHead& response, BodyFraming framing, bool keep_alive,
                       bool client_http10, std::string& out);

// The line that opens a chunk of `size` bytes: "1a2b\r\n". For writing the chunk's data without
// copying it next to its size first.
class ChunkLine {
 public:
  explicit ChunkLine(std::size_t size) noexcept;
  std::string_view view() const noexcept { return {bytes_, length_}; }

 private:
  char bytes_[20];  // 16 hex digits and CRLF
  std::uint8_t length_ = 0;
};

// A chunk of a re-chunked body as three pieces handed to write(std::string_view): size line, data,
// CRLF, so that a large piece of body is not copied next to its size first. Nothing for no data:
// an empty chunk would end the body.
template <typename Write>
void writeChunkPieces(std::string_view data, Write&& write) {
  if (data.empty()) return;
  const ChunkLine line(data.size());
  write(line.view());
  write(data);
  write(std::string_view("\r\n"));
}

// The same appended to `out`, and the last chunk with its trailers.
void writeChunk(std::string_view data, std::string& out);
void writeLastChunk(const Headers& trailers, std::string& out);

}  // namespace fairlead::http
