// TLS settings shared read-only by every connection that uses them: a listener's certificates
// (chosen by SNI), versions, ciphers and ALPN (TlsServerContext), the session-ticket keys all of a
// proxy's listeners share (TlsTicketKeys), and the settings toward one cluster's endpoints
// (TlsClientContext). Built on the control thread (at start and at every reload, which reads the
// certificate files again); used from any worker.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fairlead/config.hpp>
#include <fairlead/result.hpp>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;
using EVP_CIPHER_CTX = struct evp_cipher_ctx_st;
using EVP_MAC_CTX = struct evp_mac_ctx_st;

namespace fairlead::net {

// Why a handshake did not finish, as counted (fairlead_tls_handshake_failures_total{reason}).
enum class TlsFailure : std::uint8_t {
  Version,      // the client offered only versions below min_version (TLS 1.0/1.1, SSLv3)
  Cipher,       // no cipher or group in common
  NotTls,       // the bytes were not TLS: plain HTTP to the HTTPS port, or a scanner's garbage
  Certificate,  // the peer rejected the certificate (an alert), or ours rejected the upstream's
  Unfinished,   // closed or timed out before the handshake ended
  Other,
};
inline constexpr std::size_t kTlsFailureKinds = 6;
const char* toString(TlsFailure failure) noexcept;

// One worker's counts, written by that worker only (load and store, as session counters).
struct TlsCounters {
  std::atomic<std::uint64_t> handshakes_full{0};
  std::atomic<std::uint64_t> handshakes_resumed{0};
  std::atomic<std::uint64_t> failures[kTlsFailureKinds] = {};
};

// Session-ticket keys: tickets let a returning client skip the certificate exchange and the key
// agreement's expensive half. One set per proxy, shared by all its listeners' contexts and kept
// across reloads, so any worker resumes a session another one began, before and after a reload.
// The key that seals new tickets is replaced every kRotation; the two before it still open
// tickets (renewing them), so a ticket is good for at least two rotations and never beyond three.
class TlsTicketKeys {
 public:
  static constexpr std::chrono::seconds kRotation{3600};
  static constexpr int kTicketLifetimeSeconds = 2 * 3600;  // the hint clients get

  TlsTicketKeys();

  // The halves of OpenSSL's ticket-key callback, any thread. seal: names the key and fills iv;
  // 1, or -1 on failure. open: 0 for an unknown (too old) key: a full handshake; 1; or 2 for a
  // key no longer sealing, which asks for a renewed ticket (the callback also asks for one after
  // every TLS 1.3 resumption).
  int seal(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) noexcept;
  int open(const unsigned char* name, const unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) noexcept;

 private:
  struct Key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> aes{};
    std::array<unsigned char, 32> hmac{};
  };
  static Key freshKey();

  // Handshakes on every worker read it; the mutex is held for a copy of 80 bytes.
  std::mutex mutex_;
  std::array<Key, 3> keys_;  // [0] seals; all three open
  std::chrono::steady_clock::time_point sealing_since_;
};

class TlsServerContext {
 public:
  // Reads every certificate and key; an error names the file and what is wrong with it.
  static Result<std::shared_ptr<const TlsServerContext>> create(const ListenerTlsConfig& config,
                                                                std::shared_ptr<TlsTicketKeys> keys);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // A server-side SSL on the default certificate; SNI may switch it during the handshake.
  SSL* newSsl() const;
  // The names each certificate answers for and until when, in config order (for the log).
  std::string describe() const;
  // Certificates that have expired or expire within two weeks, as sentences (for the log).
  std::vector<std::string> warnings() const;
  TlsTicketKeys& ticketKeys() const noexcept { return *keys_; }

 private:
  struct Certificate {
    SSL_CTX* ctx = nullptr;
    std::string file;
    std::vector<std::string> names;  // lower case; "*.example.com" for a wildcard
    std::string not_after;           // "2027-03-01"
    int days_left = 0;               // negative once expired
    std::string key;
    unsigned key_mode = 0;           // the key file's permission bits
  };
  TlsServerContext() = default;
  static int onServerName(SSL* ssl, int* alert, void* self) noexcept;
  static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                    unsigned int in_len, void* self) noexcept;
  SSL_CTX* forName(std::string_view name) const noexcept;

  std::vector<Certificate> certificates_;  // [0] is the default
  std::string alpn_wire_;                  // length-prefixed, in our order of preference
  std::shared_ptr<TlsTicketKeys> keys_;
};

// Toward one cluster's endpoints: the trust store and whether certificates are checked.
class TlsClientContext {
 public:
  static Result<std::shared_ptr<const TlsClientContext>> create(const UpstreamTlsConfig& config);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // A client-side SSL that sends `name` as SNI (when it is a host name) and, with verify on,
  // accepts only a certificate for it.
  SSL* newSsl(const std::string& name) const;

 private:
  TlsClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_ = true;
};

}  // namespace fairlead::net
