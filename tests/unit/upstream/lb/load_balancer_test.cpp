#include "upstream/lb/load_balancer.hpp"
#include "upstream/health.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace fairlead::upstream {
namespace {

ClusterSnapshot cluster(BalancePolicy policy, const std::vector<std::uint32_t>& weights) {
  static std::uint64_t versions = 0;
  ClusterSnapshot c;
  c.config.balance = policy;
  c.version = ++versions;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    Endpoint e;
    e.authority = "10.0.0." + std::to_string(i + 1) + ":8000";
    e.peer = e.authority;
    e.weight = weights[i];
    e.pick_weight = weights[i] * kWeightScale;
    e.shared = std::make_shared<SharedEndpoint>(1, 0, nullptr);
    c.endpoints.push_back(e);
  }
  return c;
}

void inFlight(const ClusterSnapshot& c, std::size_t endpoint, std::int64_t change) {
  c.endpoints[endpoint].shared->counters(0).active.fetch_add(static_cast<std::uint64_t>(change));
}

std::vector<std::size_t> counts(LoadBalancer& lb, std::size_t endpoints, int picks, PickRequest r = {}) {
  std::vector<std::size_t> n(endpoints, 0);
  for (int i = 0; i < picks; ++i) ++n.at(lb.pick(r));
  return n;
}

TEST(RoundRobinBalancer, IsSmoothAndExactlyWeighted) {
  const ClusterSnapshot c = cluster(BalancePolicy::RoundRobin, {5, 1, 1});
  auto lb = makeLoadBalancer(c, 0, 0);
  std::string order;
  for (int i = 0; i < 7; ++i) order += static_cast<char>('a' + lb->pick({}));
  EXPECT_EQ(order, "aabacaa");  // nginx's smooth weighted round robin
  EXPECT_EQ(counts(*lb, 3, 7000), (std::vector<std::size_t>{5000, 1000, 1000}));
}

TEST(RoundRobinBalancer, SkipsWhatWasTriedUnlessEverythingWas) {
  const ClusterSnapshot c = cluster(BalancePolicy::RoundRobin, {1, 1, 1});
  auto lb = makeLoadBalancer(c, 0, 0);
  for (int i = 0; i < 30; ++i) EXPECT_NE(lb->pick(PickRequest{.tried = 0b001}), 0u);
  const std::size_t any = lb->pick(PickRequest{.tried = 0b111});
  EXPECT_LT(any, 3u);
}

TEST(RandomBalancer, SpreadsByWeightWithinTolerance) {
  const ClusterSnapshot c = cluster(BalancePolicy::Random, {1, 2, 7});
  auto lb = makeLoadBalancer(c, 42, 0);
  const auto n = counts(*lb, 3, 100000);
  EXPECT_NEAR(n[0] / 100000.0, 0.1, 0.01);
  EXPECT_NEAR(n[1] / 100000.0, 0.2, 0.01);
  EXPECT_NEAR(n[2] / 100000.0, 0.7, 0.01);
  for (int i = 0; i < 100; ++i) EXPECT_NE(lb->pick(PickRequest{.tried = 0b100}), 2u);
}

TEST(LeastRequestBalancer, PrefersTheLessLoadedForItsWeight) {
  const ClusterSnapshot c = cluster(BalancePolicy::LeastRequest, {1, 1});
  auto lb = makeLoadBalancer(c, 7, 0);
  inFlight(c, 0, 10);
  // With two endpoints both are always the two choices: the idle one wins every time.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(lb->pick({}), 1u);
  inFlight(c, 0, -10);
  const auto n = counts(*lb, 2, 10000);
  EXPECT_NEAR(n[0] / 10000.0, 0.5, 0.03);

  // Weights: endpoint 1 has twice the capacity, so at 2 in flight it is as loaded as 0 at 1.
  const ClusterSnapshot w = cluster(BalancePolicy::LeastRequest, {1, 2});
  auto weighted = makeLoadBalancer(w, 7, 0);
  inFlight(w, 0, 1);
  inFlight(w, 1, 1);
  EXPECT_EQ(weighted->pick({}), 1u);  // (1+1)/1 > (1+1)/2
}

TEST(LeastRequestBalancer, ARetryPrefersTheUntriedEvenWhenItIsBusier) {
  const ClusterSnapshot c = cluster(BalancePolicy::LeastRequest, {1, 1, 1});
  auto lb = makeLoadBalancer(c, 3, 0);
  inFlight(c, 2, 50);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(lb->pick(PickRequest{.tried = 0b011}), 2u);
}

TEST(RingHashBalancer, SameKeySameEndpointAndEvenSpread) {
  const ClusterSnapshot c = cluster(BalancePolicy::Hash, {1, 1, 1, 1, 1});
  auto lb = makeLoadBalancer(c, 0, 0);
  std::vector<std::size_t> n(5, 0);
  for (int k = 0; k < 20000; ++k) {
    const std::uint64_t h = hashKey("user-" + std::to_string(k));
    const std::size_t e = lb->pick(PickRequest{.hash = h});
    EXPECT_EQ(lb->pick(PickRequest{.hash = h}), e);
    ++n[e];
  }
  for (std::size_t e = 0; e < 5; ++e) EXPECT_NEAR(n[e] / 20000.0, 0.2, 0.05) << e;
}

// Consistent: removing one of N endpoints moves only the keys it owned (about 1/N); keys on the
// others stay where they were.
TEST(RingHashBalancer, RemovingOneOfNMovesOnlyItsKeys) {
  const ClusterSnapshot five = cluster(BalancePolicy::Hash, {1, 1, 1, 1, 1});
  ClusterSnapshot four = five;
  four.endpoints.erase(four.endpoints.begin() + 2);
  auto before = makeLoadBalancer(five, 0, 0);
  auto after = makeLoadBalancer(four, 0, 0);
  int moved = 0;
  const int keys = 20000;
  for (int k = 0; k < keys; ++k) {
    const std::uint64_t h = hashKey("key-" + std::to_string(k));
    const std::string& was = five.endpoints[before->pick(PickRequest{.hash = h})].authority;
    const std::string& is = four.endpoints[after->pick(PickRequest{.hash = h})].authority;
    if (was != is) {
      ++moved;
      EXPECT_EQ(was, five.endpoints[2].authority) << "a key of a remaining endpoint moved";
    }
  }
  EXPECT_NEAR(moved / static_cast<double>(keys), 0.2, 0.05);
}

TEST(RingHashBalancer, ARetryGoesToTheNextEndpointOnTheRing) {
  const ClusterSnapshot c = cluster(BalancePolicy::Hash, {1, 1, 1});
  auto lb = makeLoadBalancer(c, 0, 0);
  const std::uint64_t h = hashKey("k");
  const std::size_t first = lb->pick(PickRequest{.hash = h});
  const std::size_t second = lb->pick(PickRequest{.hash = h, .tried = std::uint64_t{1} << first});
  EXPECT_NE(second, first);
  EXPECT_EQ(lb->pick(PickRequest{.hash = h, .tried = 0b111}), first);
}

TEST(Balancers, RebuildsWhenTheClusterSnapshotChanges) {
  const ClusterSnapshot one = cluster(BalancePolicy::RoundRobin, {1});
  ClusterSnapshot three = cluster(BalancePolicy::RoundRobin, {1, 1, 1});
  three.id = one.id;
  Balancers balancers(0, 0);
  EXPECT_EQ(balancers.forCluster(one).pick({}), 0u);
  std::vector<std::size_t> seen(3, 0);
  for (int i = 0; i < 3; ++i) ++seen.at(balancers.forCluster(three).pick({}));
  EXPECT_EQ(seen, (std::vector<std::size_t>{1, 1, 1}));
}

// Unhealthy, ejected and draining endpoints come with pick weight 0: no policy picks them, not even
// for a retry that tried everything else; with nothing left, the answer is kNone (a 503).
TEST(LoadBalancers, NeverPickAnEndpointWithPickWeightZero) {
  for (const BalancePolicy policy :
       {BalancePolicy::RoundRobin, BalancePolicy::LeastRequest, BalancePolicy::Random, BalancePolicy::Hash}) {
    ClusterSnapshot c = cluster(policy, {1, 1, 1});
    c.endpoints[1].pick_weight = 0;
    auto lb = makeLoadBalancer(c, 5, 0);
    for (int k = 0; k < 2000; ++k) {
      const PickRequest r{.hash = hashKey(std::to_string(k)), .tried = k % 2 == 0 ? 0u : 0b101u};
      EXPECT_NE(lb->pick(r), 1u) << static_cast<int>(policy);
    }
    for (auto& e : c.endpoints) e.pick_weight = 0;
    EXPECT_EQ(makeLoadBalancer(c, 5, 0)->pick({}), LoadBalancer::kNone) << static_cast<int>(policy);
  }
}

// A ramping (slow start) endpoint gets its share of the pick weights: a tenth of the weight takes
// about a twenty-first of the requests beside two full ones.
TEST(LoadBalancers, FollowPickWeightsNotConfiguredWeights) {
  for (const BalancePolicy policy : {BalancePolicy::RoundRobin, BalancePolicy::Random}) {
    ClusterSnapshot c = cluster(policy, {1, 1, 1});
    c.endpoints[0].pick_weight = kWeightScale / 10;
    auto lb = makeLoadBalancer(c, 9, 0);
    const auto n = counts(*lb, 3, 100000);
    EXPECT_NEAR(n[0] / 100000.0, 1.0 / 21, 0.01) << static_cast<int>(policy);
  }
}

// Taking one endpoint out of a hash cluster (weight 0) moves only its own keys.
TEST(RingHashBalancer, AnEndpointTakenOutMovesOnlyItsKeys) {
  const ClusterSnapshot all = cluster(BalancePolicy::Hash, {1, 1, 1, 1});
  ClusterSnapshot one_out = all;
  one_out.endpoints[3].pick_weight = 0;
  auto before = makeLoadBalancer(all, 0, 0);
  auto after = makeLoadBalancer(one_out, 0, 0);
  for (int k = 0; k < 5000; ++k) {
    const std::uint64_t h = hashKey("k" + std::to_string(k));
    const std::size_t was = before->pick(PickRequest{.hash = h});
    const std::size_t is = after->pick(PickRequest{.hash = h});
    EXPECT_NE(is, 3u);
    if (was != 3) {
      EXPECT_EQ(is, was);
    }
  }
}

}  // namespace
}  // namespace fairlead::upstream
