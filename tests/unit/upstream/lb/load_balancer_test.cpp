#include "upstream/lb/load_balancer.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace fairlead::upstream {
namespace {

ClusterSnapshot cluster(BalancePolicy policy, const std::vector<std::uint32_t>& weights) {
  ClusterSnapshot c;
  c.config.balance = policy;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    Endpoint e;
    e.authority = "10.0.0." + std::to_string(i + 1) + ":8000";
    e.weight = weights[i];
    c.endpoints.push_back(e);
  }
  return c;
}

std::vector<std::size_t> counts(LoadBalancer& lb, std::size_t endpoints, int picks, PickRequest r = {}) {
  std::vector<std::size_t> n(endpoints, 0);
  for (int i = 0; i < picks; ++i) ++n.at(lb.pick(r));
  return n;
}

TEST(RoundRobinBalancer, IsSmoothAndExactlyWeighted) {
  const ClusterSnapshot c = cluster(BalancePolicy::RoundRobin, {5, 1, 1});
  auto lb = makeLoadBalancer(c, 0);
  std::string order;
  for (int i = 0; i < 7; ++i) order += static_cast<char>('a' + lb->pick({}));
  EXPECT_EQ(order, "aabacaa");  // nginx's smooth weighted round robin
  EXPECT_EQ(counts(*lb, 3, 7000), (std::vector<std::size_t>{5000, 1000, 1000}));
}

TEST(RoundRobinBalancer, SkipsWhatWasTriedUnlessEverythingWas) {
  const ClusterSnapshot c = cluster(BalancePolicy::RoundRobin, {1, 1, 1});
  auto lb = makeLoadBalancer(c, 0);
  for (int i = 0; i < 30; ++i) EXPECT_NE(lb->pick(PickRequest{.tried = 0b001}), 0u);
  const std::size_t any = lb->pick(PickRequest{.tried = 0b111});
  EXPECT_LT(any, 3u);
}

TEST(RandomBalancer, SpreadsByWeightWithinTolerance) {
  const ClusterSnapshot c = cluster(BalancePolicy::Random, {1, 2, 7});
  auto lb = makeLoadBalancer(c, 42);
  const auto n = counts(*lb, 3, 100000);
  EXPECT_NEAR(n[0] / 100000.0, 0.1, 0.01);
  EXPECT_NEAR(n[1] / 100000.0, 0.2, 0.01);
  EXPECT_NEAR(n[2] / 100000.0, 0.7, 0.01);
  for (int i = 0; i < 100; ++i) EXPECT_NE(lb->pick(PickRequest{.tried = 0b100}), 2u);
}

TEST(LeastRequestBalancer, PrefersTheLessLoadedForItsWeight) {
  const ClusterSnapshot c = cluster(BalancePolicy::LeastRequest, {1, 1});
  auto lb = makeLoadBalancer(c, 7);
  for (int i = 0; i < 10; ++i) lb->requestStarted(0);
  // With two endpoints both are always the two choices: the idle one wins every time.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(lb->pick({}), 1u);
  for (int i = 0; i < 10; ++i) lb->requestEnded(0);
  lb->requestEnded(0);  // one too many must not wrap around
  const auto n = counts(*lb, 2, 10000);
  EXPECT_NEAR(n[0] / 10000.0, 0.5, 0.03);

  // Weights: endpoint 1 has twice the capacity, so at 2 in flight it is as loaded as 0 at 1.
  const ClusterSnapshot w = cluster(BalancePolicy::LeastRequest, {1, 2});
  auto weighted = makeLoadBalancer(w, 7);
  weighted->requestStarted(0);
  weighted->requestStarted(1);
  EXPECT_EQ(weighted->pick({}), 1u);  // (1+1)/1 > (1+1)/2
}

TEST(LeastRequestBalancer, ARetryPrefersTheUntriedEvenWhenItIsBusier) {
  const ClusterSnapshot c = cluster(BalancePolicy::LeastRequest, {1, 1, 1});
  auto lb = makeLoadBalancer(c, 3);
  for (int i = 0; i < 50; ++i) lb->requestStarted(2);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(lb->pick(PickRequest{.tried = 0b011}), 2u);
}

TEST(RingHashBalancer, SameKeySameEndpointAndEvenSpread) {
  const ClusterSnapshot c = cluster(BalancePolicy::Hash, {1, 1, 1, 1, 1});
  auto lb = makeLoadBalancer(c, 0);
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
  auto before = makeLoadBalancer(five, 0);
  auto after = makeLoadBalancer(four, 0);
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
  auto lb = makeLoadBalancer(c, 0);
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
  Balancers balancers(0);
  EXPECT_EQ(balancers.forCluster(one).pick({}), 0u);
  std::vector<std::size_t> seen(3, 0);
  for (int i = 0; i < 3; ++i) ++seen.at(balancers.forCluster(three).pick({}));
  EXPECT_EQ(seen, (std::vector<std::size_t>{1, 1, 1}));
}

}  // namespace
}  // namespace fairlead::upstream
