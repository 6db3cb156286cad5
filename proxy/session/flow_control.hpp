// FlowControl: why reading from one side of a proxied stream is paused. Each reason holds at most
// one pause; the side is paused when the first reason appears and resumed when the last one goes,
// so independent reasons never undo each other. One per direction, owned by the session.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fairlead::session {

enum class PauseReason : std::uint8_t {
  PipelineFull = 1 << 0,  // pipelined requests held while a response is under way reached the cap
  PeerFull = 1 << 1,      // the other side's write queue is above the high watermark
};

class FlowControl {
 public:
  // Above the high mark the side stops being read; it resumes only at or below the low mark, so a
  // steady stream does not toggle its reading for every chunk.
  static constexpr std::size_t kHighWatermark = 256 * 1024;
  static constexpr std::size_t kLowWatermark = 64 * 1024;

  bool paused() const noexcept { return reasons_ != 0; }
  bool paused(PauseReason r) const noexcept { return (reasons_ & bit(r)) != 0; }

  // Adds a reason; calls stop() when it is the first.
  template <typename Stop>
  void pause(PauseReason r, Stop&& stop) {
    if (paused(r)) return;
    const bool first = reasons_ == 0;
    reasons_ |= bit(r);
    if (first) stop();
  }
  // Drops a reason; calls start() when it was the last.
  template <typename Start>
  void resume(PauseReason r, Start&& start) {
    if (!paused(r)) return;
    reasons_ &= static_cast<std::uint8_t>(~bit(r));
    if (reasons_ == 0) start();
  }
  // Drops every reason; calls start() if any was held.
  template <typename Start>
  void resumeAll(Start&& start) {
    if (reasons_ == 0) return;
    reasons_ = 0;
    start();
  }

  // The peer's queue decides PeerFull: pause above the high mark, resume at or below the low one.
  template <typename Stop, typename Start>
  void peerQueue(std::size_t pending, Stop&& stop, Start&& start) {
    if (pending >= kHighWatermark) {
      pause(PauseReason::PeerFull, stop);
    } else if (pending <= kLowWatermark) {
      resume(PauseReason::PeerFull, start);
    }
  }

 private:
  static constexpr std::uint8_t bit(PauseReason r) noexcept { return static_cast<std::uint8_t>(r); }
  std::uint8_t reasons_ = 0;
};

}  // namespace fairlead::session
