#include "session/flow_control.hpp"

#include <gtest/gtest.h>

namespace fairlead::session {
namespace {

// What the side being read saw: pauses and resumes, like TcpConnection's counted pause.
struct Side {
  int pauses = 0;
  int resumes = 0;
  auto stop() {
    return [this] { ++pauses; };
  }
  auto start() {
    return [this] { ++resumes; };
  }
};

TEST(FlowControl, TwoReasonsPauseOnceAndResumeWhenTheLastGoes) {
  FlowControl fc;
  Side side;
  fc.pause(PauseReason::PipelineFull, side.stop());
  fc.pause(PauseReason::PeerFull, side.stop());
  fc.pause(PauseReason::PeerFull, side.stop());  // the same reason twice holds one pause
  EXPECT_EQ(side.pauses, 1);
  fc.resume(PauseReason::PeerFull, side.start());
  EXPECT_EQ(side.resumes, 0) << "the pipeline still holds the side";
  EXPECT_TRUE(fc.paused());
  fc.resume(PauseReason::PipelineFull, side.start());
  EXPECT_EQ(side.resumes, 1);
  EXPECT_FALSE(fc.paused());
  fc.resume(PauseReason::PipelineFull, side.start());  // not held: nothing to undo
  EXPECT_EQ(side.resumes, 1);
}

TEST(FlowControl, PausesReadingWhileThePeerIsFullWithHysteresis) {
  FlowControl fc;
  Side side;
  fc.peerQueue(FlowControl::kHighWatermark - 1, side.stop(), side.start());
  EXPECT_EQ(side.pauses, 0);
  fc.peerQueue(FlowControl::kHighWatermark, side.stop(), side.start());
  EXPECT_EQ(side.pauses, 1);
  // Between the marks nothing changes: a steady stream does not toggle reading per chunk.
  fc.peerQueue(FlowControl::kLowWatermark + 1, side.stop(), side.start());
  fc.peerQueue(FlowControl::kHighWatermark * 2, side.stop(), side.start());
  EXPECT_EQ(side.pauses, 1);
  EXPECT_EQ(side.resumes, 0);
  fc.peerQueue(FlowControl::kLowWatermark, side.stop(), side.start());
  EXPECT_EQ(side.resumes, 1);
  EXPECT_FALSE(fc.paused(PauseReason::PeerFull));
}

TEST(FlowControl, ResumeAllStartsOnceWhateverWasHeld) {
  FlowControl fc;
  Side side;
  fc.resumeAll(side.start());
  EXPECT_EQ(side.resumes, 0);
  fc.pause(PauseReason::PipelineFull, side.stop());
  fc.pause(PauseReason::PeerFull, side.stop());
  fc.resumeAll(side.start());
  EXPECT_EQ(side.resumes, 1);
  EXPECT_FALSE(fc.paused());
}

}  // namespace
}  // namespace fairlead::session
