// The cap and its queue: slots per endpoint, FIFO hand-over, overflow, cancellation, and endpoints
// that stop or start taking requests while requests wait.
#include "upstream/admission.hpp"

#include <gtest/gtest.h>

#include "support/test_loop.hpp"
#include "upstream/cluster.hpp"
#include "upstream/health.hpp"

namespace fairlead::upstream {
namespace {

std::shared_ptr<ClusterSnapshot> cluster(std::size_t endpoints) {
  auto c = std::make_shared<ClusterSnapshot>();
  for (std::size_t i = 0; i < endpoints; ++i) {
    Endpoint e;
    e.peer = "10.0.0." + std::to_string(i + 1) + ":8000";
    e.pick_weight = kWeightScale;
    e.shared = std::make_shared<SharedEndpoint>(1, 0, nullptr);
    c->endpoints.push_back(e);
  }
  return c;
}

// The same endpoints with other pick weights: what a monitor publishes on a health change.
std::shared_ptr<ClusterSnapshot> withWeights(const ClusterSnapshot& c, std::vector<std::uint32_t> weights) {
  auto next = std::make_shared<ClusterSnapshot>(c);
  for (std::size_t i = 0; i < weights.size(); ++i) next->endpoints[i].pick_weight = weights[i];
  return next;
}

struct Grants {
  std::vector<std::pair<int, std::size_t>> seen;  // waiter id, endpoint index
};

struct Recorder final : Admission::Waiter {
  Recorder(Grants& g, int i) : grants(g), id(i) {}
  void onSlotGranted(const std::shared_ptr<const ClusterSnapshot>&, std::size_t index) noexcept override {
    grants.seen.emplace_back(id, index);
  }
  Grants& grants;
  int id;
};

class AdmissionTest : public ::testing::Test {
 protected:
  std::shared_ptr<Admission::Ticket> ticket(Admission::Waiter* w) {
    return std::make_shared<Admission::Ticket>(Admission::Ticket{&loop.loop(), w, {}});
  }
  test::TestLoop loop;
  Grants grants;
};

TEST_F(AdmissionTest, CapsEachEndpointThenQueuesInOrderAndOverflows) {
  const auto c = cluster(1);
  auto admission = std::make_shared<Admission>(2, 3);
  admission->update(c);
  EXPECT_EQ(admission->acquire(*c, 0, 0, ticket(nullptr)).outcome, Admission::Outcome::Granted);
  EXPECT_EQ(admission->acquire(*c, 0, 0, ticket(nullptr)).outcome, Admission::Outcome::Granted);

  Recorder waiters[] = {{grants, 0}, {grants, 1}, {grants, 2}, {grants, 3}};
  std::vector<std::shared_ptr<Admission::Ticket>> tickets;
  for (auto& w : waiters) tickets.push_back(ticket(&w));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(admission->acquire(*c, 0, 0, tickets[i]).outcome, Admission::Outcome::Queued);
  EXPECT_EQ(admission->acquire(*c, 0, 0, tickets[3]).outcome, Admission::Outcome::QueueFull);
  EXPECT_EQ(admission->queued(), 3u);
  EXPECT_EQ(admission->overflowsTotal(), 1u);

  // Waiter 1 gives up; slots freed go to 0 then 2, in arrival order, on the loop.
  tickets[1]->waiter = nullptr;
  EXPECT_TRUE(admission->cancel(tickets[1]));
  admission->release(c->endpoints[0].shared);
  admission->release(c->endpoints[0].shared);
  EXPECT_TRUE(grants.seen.empty()) << "a grant is delivered on the waiter's loop, not inside release()";
  ASSERT_TRUE(loop.runUntil([&] { return grants.seen.size() == 2; }));
  EXPECT_EQ(grants.seen, (std::vector<std::pair<int, std::size_t>>{{0, 0}, {2, 0}}));
  EXPECT_EQ(c->endpoints[0].shared->capped_active, 2u) << "handed over, never more than the cap";
  EXPECT_EQ(admission->waitsTotal(), 2u);

  // With nobody waiting a release frees the slot.
  admission->release(c->endpoints[0].shared);
  EXPECT_EQ(c->endpoints[0].shared->capped_active, 1u);
}

TEST_F(AdmissionTest, TakesAnotherEndpointsSlotBeforeQueueing) {
  auto c = cluster(3);
  c->endpoints[2].pick_weight = 0;  // unhealthy: never given a slot
  auto admission = std::make_shared<Admission>(1, 10);
  admission->update(c);
  auto t = ticket(nullptr);
  EXPECT_EQ(admission->acquire(*c, 0, 0, t).endpoint, 0u);
  const auto second = admission->acquire(*c, 0, 0, t);
  EXPECT_EQ(second.outcome, Admission::Outcome::Granted);
  EXPECT_EQ(second.endpoint, 1u);
  EXPECT_EQ(admission->acquire(*c, 0, 0, t).outcome, Admission::Outcome::Queued);
  EXPECT_TRUE(admission->cancel(t));
}

// A grant that arrives for a waiter who already left gives the slot back: the next waiter gets it.
TEST_F(AdmissionTest, AGrantForAWaiterThatLeftGoesToTheNext) {
  const auto c = cluster(1);
  auto admission = std::make_shared<Admission>(1, 10);
  admission->update(c);
  ASSERT_EQ(admission->acquire(*c, 0, 0, nullptr).outcome, Admission::Outcome::Granted);
  Recorder left(grants, 1);
  Recorder stays(grants, 2);
  auto gone = ticket(&left);
  auto next = ticket(&stays);
  ASSERT_EQ(admission->acquire(*c, 0, 0, gone).outcome, Admission::Outcome::Queued);
  ASSERT_EQ(admission->acquire(*c, 0, 0, next).outcome, Admission::Outcome::Queued);
  admission->release(c->endpoints[0].shared);  // granted to `gone`, on its way
  gone->waiter = nullptr;
  EXPECT_FALSE(admission->cancel(gone));
  ASSERT_TRUE(loop.runUntil([&] { return grants.seen.size() == 1; }));
  EXPECT_EQ(grants.seen[0].first, 2);
  EXPECT_EQ(c->endpoints[0].shared->capped_active, 1u);
  EXPECT_EQ(admission->queued(), 0u);
}

// A slot freed on an endpoint that stopped taking requests (ejected, drained) is not handed to a
// waiter; one that comes back offers its free slots to the queue at once.
TEST_F(AdmissionTest, FollowsTheEndpointsThatTakeRequestsNow) {
  const auto c = cluster(2);
  auto admission = std::make_shared<Admission>(1, 10);
  admission->update(c);
  ASSERT_EQ(admission->acquire(*c, 0, 0, nullptr).endpoint, 0u);
  ASSERT_EQ(admission->acquire(*c, 1, 0, nullptr).endpoint, 1u);
  Recorder waiter(grants, 7);
  ASSERT_EQ(admission->acquire(*c, 0, 0, ticket(&waiter)).outcome, Admission::Outcome::Queued);

  admission->update(withWeights(*c, {kWeightScale, 0}));  // endpoint 1 ejected
  admission->release(c->endpoints[1].shared);
  loop.runFor(std::chrono::milliseconds(20));
  EXPECT_TRUE(grants.seen.empty()) << "a waiter was sent to an ejected endpoint";
  EXPECT_EQ(c->endpoints[1].shared->capped_active, 0u);

  admission->update(withWeights(*c, {kWeightScale, kWeightScale}));  // back
  ASSERT_TRUE(loop.runUntil([&] { return grants.seen.size() == 1; }));
  EXPECT_EQ(grants.seen[0], (std::pair<int, std::size_t>{7, 1}));
}

}  // namespace
}  // namespace fairlead::upstream
