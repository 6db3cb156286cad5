// UvHandle<T>: owns the memory of one libuv handle, not the object that uses it. The C++ owner can
// die at any moment; the libuv struct lives until libuv's close callback, which frees it.
#pragma once

#include <utility>

#include <uv.h>

#include <fairlead/result.hpp>

namespace fairlead::net {

template <typename UvT>
class UvHandle {
 public:
  UvHandle() = default;

  template <typename InitFn>  // e.g. [](uv_loop_t* l, uv_timer_t* t) { return uv_timer_init(l, t); }
  static Result<UvHandle> open(uv_loop_t* loop, void* owner, InitFn init) {
    auto* raw = new UvT{};
    if (const int rc = init(loop, raw); rc != 0) {
      delete raw;  // never initialised, so libuv holds no reference to it
      return fail(Errc::Uv, uv_strerror(rc), rc);
    }
    raw->data = owner;
    return UvHandle(raw);
  }

  // For handles whose init leaves them registered with the loop even when it fails (uv_spawn):
  // on failure the struct is closed, not deleted, so the loop forgets it before it is freed.
  template <typename InitFn>
  static Result<UvHandle> openClosingOnFailure(uv_loop_t* loop, void* owner, InitFn init) {
    UvHandle handle(new UvT{});
    if (const int rc = init(loop, handle.raw_); rc != 0) return fail(Errc::Uv, uv_strerror(rc), rc);
    handle.raw_->data = owner;
    return handle;
  }

  UvHandle(UvHandle&& other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      close();
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  ~UvHandle() { close(); }

  UvT* get() const noexcept { return raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }

  // Idempotent. Afterwards no callback reaches the owner; the struct is freed by our close
  // callback, which libuv runs after the callbacks of any cancelled requests.
  void close() noexcept {
    if (raw_ == nullptr) return;
    auto* h = reinterpret_cast<uv_handle_t*>(std::exchange(raw_, nullptr));
    h->data = nullptr;
    uv_close(h, [](uv_handle_t* dead) { delete reinterpret_cast<UvT*>(dead); });
  }

 private:
  explicit UvHandle(UvT* raw) noexcept : raw_(raw) {}
  UvT* raw_ = nullptr;
};

}  // namespace fairlead::net
