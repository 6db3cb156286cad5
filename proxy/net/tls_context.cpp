#include "net/tls_context.hpp"

#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "core/ascii.hpp"
#include "core/assert.hpp"

namespace fairlead::net {
namespace {

// TLS 1.2: forward secrecy and AEAD only (Mozilla's "intermediate" list without finite-field DH).
// TLS 1.3's suites are all of that kind; OpenSSL's defaults stay.
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";

// OpenSSL's reason for a failure, and the error queue emptied. The first error queued is the
// cause ("no start line"); the ones after it are the layers it went through ("PEM lib").
std::string sslReason() {
  std::string reason;
  while (const unsigned long e = ERR_get_error()) {
    if (!reason.empty()) continue;
    const char* r = ERR_reason_error_string(e);
    reason = r != nullptr ? r : fmt::format("error {:#x}", e);
  }
  return reason.empty() ? std::string("unknown error") : reason;
}

Result<> readable(const std::string& what, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    return fail(Errc::ConfigInvalid, fmt::format("{} {}: {}", what, path, std::strerror(errno)));
  }
  return {};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = core::asciiLower(c);
  return out;
}

std::vector<std::string> certificateNames(X509* x) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type != GEN_DNS) continue;
    const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName));
    names.push_back(lower(std::string_view(data, static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)))));
  }
  GENERAL_NAMES_free(sans);
  if (!names.empty()) return names;
  // No subjectAltName: clients no longer look at the common name, but it is what we can report.
  X509_NAME* subject = X509_get_subject_name(x);
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn));
    names.push_back(lower(std::string_view(data, static_cast<std::size_t>(ASN1_STRING_length(cn)))));
  }
  return names;
}

int ticketKeyCallback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                      int encrypt) {
  auto* context = static_cast<const TlsServerContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  TlsTicketKeys& keys = context->ticketKeys();
  if (encrypt != 0) return keys.seal(name, iv, cipher, mac);
  const int opened = keys.open(name, iv, cipher, mac);
  // TLS 1.3 tickets are single-use (RFC 8446 §C.4: a reused ticket links a client's connections),
  // and OpenSSL sends a new one after a resumption only when asked to renew: clients that keep the
  // ticket they resumed with (wrk, any OpenSSL client reusing its SSL) would otherwise fall back
  // to a full handshake every other time.
  return opened == 1 && SSL_version(ssl) == TLS1_3_VERSION ? 2 : opened;
}

bool macWithKey(EVP_MAC_CTX* mac, const std::array<unsigned char, 32>& key) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key.data()), key.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

const char* toString(TlsFailure failure) noexcept {
  switch (failure) {
    case TlsFailure::Version: return "version";
    case TlsFailure::Cipher: return "cipher";
    case TlsFailure::NotTls: return "not_tls";
    case TlsFailure::Certificate: return "certificate";
    case TlsFailure::Unfinished: return "unfinished";
    case TlsFailure::Other: break;
  }
  return "other";
}

// ---- TlsTicketKeys

TlsTicketKeys::TlsTicketKeys() : sealing_since_(std::chrono::steady_clock::now()) {
  for (Key& k : keys_) k = freshKey();
}

TlsTicketKeys::Key TlsTicketKeys::freshKey() {
  Key k;
  FL_CHECK(RAND_bytes(k.name.data(), k.name.size()) == 1 && RAND_bytes(k.aes.data(), k.aes.size()) == 1 &&
               RAND_bytes(k.hmac.data(), k.hmac.size()) == 1,
           "RAND_bytes for a ticket key");
  return k;
}

int TlsTicketKeys::seal(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) noexcept {
  Key key;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - sealing_since_ >= kRotation) {
      // Rotating here rather than on a timer: a proxy that sees no handshake does no work.
      std::rotate(keys_.rbegin(), keys_.rbegin() + 1, keys_.rend());
      keys_[0] = freshKey();
      sealing_since_ = now;
    }
    key = keys_[0];
  }
  std::memcpy(name, key.name.data(), key.name.size());
  if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
  if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
  return macWithKey(mac, key.hmac) ? 1 : -1;
}

int TlsTicketKeys::open(const unsigned char* name, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
                        EVP_MAC_CTX* mac) noexcept {
  Key key;
  std::size_t index = 0;
  {
    std::lock_guard lock(mutex_);
    while (index < keys_.size() && std::memcmp(keys_[index].name.data(), name, key.name.size()) != 0) ++index;
    if (index == keys_.size()) return 0;
    key = keys_[index];
  }
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
  if (!macWithKey(mac, key.hmac)) return -1;
  return index == 0 ? 1 : 2;
}

// ---- TlsServerContext

Result<std::shared_ptr<const TlsServerContext>> TlsServerContext::create(const ListenerTlsConfig& config,
                                                                        std::shared_ptr<TlsTicketKeys> keys) {
  std::shared_ptr<TlsServerContext> out(new TlsServerContext());
  out->keys_ = std::move(keys);
  for (const std::string& protocol : config.alpn) {
    out->alpn_wire_.push_back(static_cast<char>(protocol.size()));
    out->alpn_wire_.append(protocol);
  }
  ERR_clear_error();
  for (const CertificateConfig& file : config.certificates) {
    if (auto ok = readable("certificate", file.cert); !ok) return tl::unexpected(ok.error());
    if (auto ok = readable("key", file.key); !ok) return tl::unexpected(ok.error());
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    FL_CHECK(ctx != nullptr, "SSL_CTX_new");
    out->certificates_.push_back(Certificate{ctx, file.cert, {}, {}, 0, file.key, 0});
    SSL_CTX_set_app_data(ctx, out.get());
    SSL_CTX_set_min_proto_version(ctx, config.min_version == TlsVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    // Renegotiation is a denial-of-service lever and HTTP/1.1 has no use for it.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    // An idle keep-alive connection gives its 34 KiB of record buffers back.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    FL_CHECK(SSL_CTX_set_cipher_list(ctx, kCiphers12) == 1 && SSL_CTX_set1_groups_list(ctx, kGroups) == 1,
             "the built-in cipher and group lists");
    // Tickets only: a server-side session cache would be per worker (or locked) and lost on restart.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_timeout(ctx, TlsTicketKeys::kTicketLifetimeSeconds);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticketKeyCallback);
    SSL_CTX_set_tlsext_servername_callback(ctx, &TlsServerContext::onServerName);
    SSL_CTX_set_tlsext_servername_arg(ctx, out.get());
    SSL_CTX_set_alpn_select_cb(ctx, &TlsServerContext::onAlpn, out.get());
    if (SSL_CTX_use_certificate_chain_file(ctx, file.cert.c_str()) != 1) {
      return fail(Errc::ConfigInvalid, fmt::format("certificate {}: {} (expected PEM: the certificate, then its chain)",
                                                   file.cert, sslReason()));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, file.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail(Errc::ConfigInvalid, fmt::format("key {}: {} (expected a PEM private key)", file.key, sslReason()));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return fail(Errc::ConfigInvalid, fmt::format("key {} does not belong to certificate {}", file.key, file.cert));
    }
    X509* x = SSL_CTX_get0_certificate(ctx);
    Certificate& c = out->certificates_.back();
    if (struct stat st{}; ::stat(file.key.c_str(), &st) == 0) c.key_mode = st.st_mode & 07777;
    c.names = certificateNames(x);
    int days = 0;
    int seconds = 0;
    ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(x));
    c.days_left = days - (seconds < 0 ? 1 : 0);
    std::tm until{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &until) == 1) {
      c.not_after = fmt::format("{:04}-{:02}-{:02}", until.tm_year + 1900, until.tm_mon + 1, until.tm_mday);
    }
  }
  return std::shared_ptr<const TlsServerContext>(std::move(out));
}

TlsServerContext::~TlsServerContext() {
  for (Certificate& c : certificates_) SSL_CTX_free(c.ctx);
}

SSL* TlsServerContext::newSsl() const {
  SSL* ssl = SSL_new(certificates_.front().ctx);
  FL_CHECK(ssl != nullptr, "SSL_new");
  SSL_set_accept_state(ssl);
  return ssl;
}

std::string TlsServerContext::describe() const {
  std::string out;
  for (const Certificate& c : certificates_) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{} for {} until {}", c.file, fmt::join(c.names, ", "), c.not_after);
  }
  return out;
}

std::vector<std::string> TlsServerContext::warnings() const {
  constexpr int kWarnDays = 14;
  std::vector<std::string> out;
  for (const Certificate& c : certificates_) {
    if (c.days_left < 0) {
      out.push_back(fmt::format("certificate {} expired on {}: clients will refuse it", c.file, c.not_after));
    } else if (c.days_left < kWarnDays) {
      out.push_back(fmt::format("certificate {} expires on {}, in {} day{}", c.file, c.not_after, c.days_left,
                                c.days_left == 1 ? "" : "s"));
    }
    if ((c.key_mode & 077) != 0) {
      out.push_back(fmt::format("key {} can be read by other users (mode {:04o}): chmod 600 it", c.key, c.key_mode));
    }
  }
  return out;
}

SSL_CTX* TlsServerContext::forName(std::string_view name) const noexcept {
  char buffer[256];
  if (name.empty() || name.size() >= sizeof buffer) return nullptr;
  for (std::size_t i = 0; i < name.size(); ++i) buffer[i] = core::asciiLower(name[i]);
  const std::string_view wanted(buffer, name.size());
  for (const Certificate& c : certificates_) {
    if (std::find(c.names.begin(), c.names.end(), wanted) != c.names.end()) return c.ctx;
  }
  // "*.example.com" stands for exactly one label: a.example.com, not example.com or a.b.example.com.
  const std::size_t dot = wanted.find('.');
  if (dot == std::string_view::npos || dot == 0) return nullptr;
  const std::string_view parent = wanted.substr(dot);
  for (const Certificate& c : certificates_) {
    for (const std::string& n : c.names) {
      if (n.size() == parent.size() + 1 && n.starts_with('*') && std::string_view(n).substr(1) == parent) return c.ctx;
    }
  }
  return nullptr;
}

int TlsServerContext::onServerName(SSL* ssl, int* /*alert*/, void* self) noexcept {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // the default certificate
  SSL_CTX* chosen = static_cast<const TlsServerContext*>(self)->forName(name);
  if (chosen != nullptr && chosen != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen);
  return SSL_TLSEXT_ERR_OK;
}

int TlsServerContext::onAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                             unsigned int in_len, void* self) noexcept {
  const std::string& ours = static_cast<const TlsServerContext*>(self)->alpn_wire_;
  unsigned char* chosen = nullptr;
  // Our order wins. A client that offers none of ours still gets a connection without ALPN, as
  // HTTP/1.1 clients expect, rather than a handshake failure.
  if (SSL_select_next_proto(&chosen, out_len, reinterpret_cast<const unsigned char*>(ours.data()),
                            static_cast<unsigned int>(ours.size()), in, in_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// ---- TlsClientContext

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::create(const UpstreamTlsConfig& config) {
  std::shared_ptr<TlsClientContext> out(new TlsClientContext());
  out->verify_ = config.verify;
  out->ctx_ = SSL_CTX_new(TLS_client_method());
  FL_CHECK(out->ctx_ != nullptr, "SSL_CTX_new");
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(out->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(out->ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(out->ctx_, SSL_MODE_RELEASE_BUFFERS);
  FL_CHECK(SSL_CTX_set_cipher_list(out->ctx_, kCiphers12) == 1, "the built-in cipher list");
  if (config.verify) {
    SSL_CTX_set_verify(out->ctx_, SSL_VERIFY_PEER, nullptr);
    if (config.ca.empty()) {
      if (SSL_CTX_set_default_verify_paths(out->ctx_) != 1) {
        return fail(Errc::ConfigInvalid, "the system's trust store: " + sslReason());
      }
    } else {
      if (auto ok = readable("ca", config.ca); !ok) return tl::unexpected(ok.error());
      if (SSL_CTX_load_verify_locations(out->ctx_, config.ca.c_str(), nullptr) != 1) {
        return fail(Errc::ConfigInvalid, fmt::format("ca {}: {} (expected PEM certificates)", config.ca, sslReason()));
      }
    }
  }
  return std::shared_ptr<const TlsClientContext>(std::move(out));
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

SSL* TlsClientContext::newSsl(const std::string& name) const {
  SSL* ssl = SSL_new(ctx_);
  FL_CHECK(ssl != nullptr, "SSL_new");
  SSL_set_connect_state(ssl);
  const bool literal = name.find(':') != std::string::npos ||
                       std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  // RFC 6066 §3: SNI carries host names only, never address literals.
  if (!literal) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (verify_) {
    // Without the name set, any certificate of a trusted CA would pass: never carry on without it.
    const int named = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str())
                              : SSL_set1_host(ssl, name.c_str());
    FL_CHECK(named == 1, "the name to verify an endpoint's certificate against");
  }
  return ssl;
}

}  // namespace fairlead::net
