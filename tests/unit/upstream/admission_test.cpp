// The cap and its queue: slots per endpoint, FIFO hand-over, overflow, cancellation.
#include "upstream/admission.hpp"

#include <gtest/gtest.h>

#include "support/test_loop.hpp"
#include "upstream/cluster.hpp"
#include "upstream/health.hpp"

namespace fairlead::upstream {
namespace {

ClusterSnapshot cluster(std::size_t endpoints) {
  ClusterSnapshot c;
  for (std::size_t i = 0; i < endpoints; ++i) {
    Endpoint e;
    e.peer = "10.0.0." + std::to_string(i + 1) + ":8000";
    e.pick_weight = kWeightScale;
    e.shared = std::make_shared<SharedEndpoint>(1, 0, nullptr);
    c.endpoints.push_back(e);
  }
  return c;
}

struct Recorder final : Admission::Waiter {
  std::vector<std::shared_ptr<SharedEndpoint>>* grants;
  int id;
  std::vector<int>* order;
  void onSlotGranted(const std::shared_ptr<SharedEndpoint>& e) noexcept override {
    grants->push_back(e);
    order->push_back(id);
  }
};

TEST(Admission, CapsEachEndpointThenQueuesInOrderAndOverflows) {
  test::TestLoop loop;
  const ClusterSnapshot c = cluster(1);
  auto admission = std::make_shared<Admission>(2, 3);
  auto ticket = [&](Admission::Waiter* w) {
    return std::make_shared<Admission::Ticket>(Admission::Ticket{&loop.loop(), w, {}});
  };
  EXPECT_EQ(admission->acquire(c, 0, 0, ticket(nullptr)).outcome, Admission::Outcome::Granted);
  EXPECT_EQ(admission->acquire(c, 0, 0, ticket(nullptr)).outcome, Admission::Outcome::Granted);

  std::vector<std::shared_ptr<SharedEndpoint>> grants;
  std::vector<int> order;
  Recorder waiters[4];
  std::vector<std::shared_ptr<Admission::Ticket>> tickets;
  for (int i = 0; i < 4; ++i) {
    waiters[i].grants = &grants;
    waiters[i].order = &order;
    waiters[i].id = i;
    tickets.push_back(ticket(&waiters[i]));
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(admission->acquire(c, 0, 0, tickets[i]).outcome, Admission::Outcome::Queued);
  EXPECT_EQ(admission->acquire(c, 0, 0, tickets[3]).outcome, Admission::Outcome::QueueFull);
  EXPECT_EQ(admission->queued(), 3u);
  EXPECT_EQ(admission->overflowsTotal(), 1u);

  // Waiter 1 gives up; slots freed go to 0 then 2, in arrival order, on the loop.
  tickets[1]->waiter = nullptr;
  EXPECT_TRUE(admission->cancel(tickets[1]));
  admission->release(c.endpoints[0].shared);
  admission->release(c.endpoints[0].shared);
  EXPECT_TRUE(order.empty()) << "a grant is delivered on the waiter's loop, not inside release()";
  ASSERT_TRUE(loop.runUntil([&] { return order.size() == 2; }));
  EXPECT_EQ(order, (std::vector<int>{0, 2}));
  EXPECT_EQ(c.endpoints[0].shared->capped_active, 2u) << "handed over, never freed in between";
  EXPECT_EQ(admission->waitsTotal(), 2u);

  // With nobody waiting a release frees the slot.
  admission->release(c.endpoints[0].shared);
  EXPECT_EQ(c.endpoints[0].shared->capped_active, 1u);
}

TEST(Admission, TakesAnotherEndpointsSlotBeforeQueueing) {
  test::TestLoop loop;
  ClusterSnapshot c = cluster(3);
  c.endpoints[2].pick_weight = 0;  // unhealthy: never given a slot
  auto admission = std::make_shared<Admission>(1, 10);
  auto ticket = std::make_shared<Admission::Ticket>(Admission::Ticket{&loop.loop(), nullptr, {}});
  EXPECT_EQ(admission->acquire(c, 0, 0, ticket).endpoint, 0u);
  const auto second = admission->acquire(c, 0, 0, ticket);
  EXPECT_EQ(second.outcome, Admission::Outcome::Granted);
  EXPECT_EQ(second.endpoint, 1u);
  EXPECT_EQ(admission->acquire(c, 0, 0, ticket).outcome, Admission::Outcome::Queued);
  EXPECT_TRUE(admission->cancel(ticket));
}

// A grant that arrives for a waiter who already left passes the slot on.
TEST(Admission, AGrantForAWaiterThatLeftPassesTheSlotOn) {
  test::TestLoop loop;
  const ClusterSnapshot c = cluster(1);
  auto admission = std::make_shared<Admission>(1, 10);
  ASSERT_EQ(admission->acquire(c, 0, 0, nullptr).outcome, Admission::Outcome::Granted);
  std::vector<std::shared_ptr<SharedEndpoint>> grants;
  std::vector<int> order;
  Recorder late{};
  late.grants = &grants;
  late.order = &order;
  late.id = 7;
  auto gone = std::make_shared<Admission::Ticket>(Admission::Ticket{&loop.loop(), &late, {}});
  auto next = std::make_shared<Admission::Ticket>(Admission::Ticket{&loop.loop(), &late, {}});
  ASSERT_EQ(admission->acquire(c, 0, 0, gone).outcome, Admission::Outcome::Queued);
  ASSERT_EQ(admission->acquire(c, 0, 0, next).outcome, Admission::Outcome::Queued);
  admission->release(c.endpoints[0].shared);  // granted to `gone`, on its way
  gone->waiter = nullptr;
  EXPECT_FALSE(admission->cancel(gone));
  ASSERT_TRUE(loop.runUntil([&] { return order.size() == 1; }));
  EXPECT_EQ(c.endpoints[0].shared->capped_active, 1u);
  EXPECT_EQ(admission->queued(), 0u);
}

}  // namespace
}  // namespace fairlead::upstream
