#include "support/load_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

namespace fairlead::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string lowered(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The value of `name` in a response head (lower-case name), or "".
std::string headerValue(const std::string& head, const std::string& name) {
  const std::string lower = lowered(head);
  const std::size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return {};
  std::size_t start = at + 3 + name.size();
  while (start < head.size() && head[start] == ' ') ++start;
  return head.substr(start, head.find("\r\n", start) - start);
}

}  // namespace

LoadClient::~LoadClient() { close(); }

void LoadClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool LoadClient::connect(std::string& why) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    why = std::string("connect: ") + std::strerror(errno);
    close();
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

LoadResult LoadClient::get(const std::string& target, const std::string& headers, std::chrono::milliseconds timeout) {
  LoadResult r;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: load.test\r\n" + headers + "\r\n";
  auto finish = [&](std::string why) {
    r.error = std::move(why);
    r.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    close();
    return r;
  };
  if (fd_ < 0 && !connect(r.error)) return finish(r.error);
  if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return finish(std::string("send: ") + std::strerror(errno));
  }
  std::size_t head_end = std::string::npos;
  std::size_t need = 0;
  char chunk[16384];
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const std::string head = buffer_.substr(0, head_end);
        r.status = std::atoi(head.c_str() + 9);
        r.retry_after = headerValue(head, "retry-after");
        need = head_end + 4 + static_cast<std::size_t>(std::atoll(headerValue(head, "content-length").c_str()));
      }
    }
    if (head_end != std::string::npos && buffer_.size() >= need) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      r.status = 0;
      return finish("timeout");
    }
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      r.status = 0;
      return finish(n == 0 ? "closed before the response" : std::string("recv: ") + std::strerror(errno));
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string head = buffer_.substr(0, head_end);
  r.body = buffer_.substr(head_end + 4, need - head_end - 4);
  buffer_.erase(0, need);
  r.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (lowered(headerValue(head, "connection")) == "close") close();
  return r;
}

std::vector<LoadResult> runLoad(const LoadPlan& plan) {
  const auto start = Clock::now();
  const auto end = start + plan.duration;
  std::mutex mu;
  std::vector<LoadResult> all;
  std::vector<std::thread> threads;
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(plan.threads / plan.rate));
  for (int t = 0; t < plan.threads; ++t) {
    threads.emplace_back([&, t] {
      LoadClient client(plan.port);
      // Threads start spread over one gap, so the load is steady rather than in bursts.
      auto next = start + gap * t / plan.threads;
      std::vector<LoadResult> mine;
      while (next < end) {
        std::this_thread::sleep_until(next);
        if (Clock::now() >= end) break;  // a thread that fell behind does not send past the end
        const double at = std::chrono::duration<double>(Clock::now() - start).count();
        LoadResult r = client.get(plan.target, {}, plan.timeout);
        r.at = at;
        mine.push_back(std::move(r));
        next += gap;
      }
      std::lock_guard lock(mu);
      for (auto& r : mine) all.push_back(std::move(r));
    });
  }
  if (plan.every_second) {
    for (int s = 1; start + std::chrono::seconds(s) < end; ++s) {
      std::this_thread::sleep_until(start + std::chrono::seconds(s));
      plan.every_second(s);
    }
  }
  for (auto& t : threads) t.join();
  std::sort(all.begin(), all.end(), [](const LoadResult& a, const LoadResult& b) { return a.at < b.at; });
  return all;
}

std::vector<SecondSummary> perSecond(const std::vector<LoadResult>& results, int seconds) {
  std::vector<SecondSummary> out(static_cast<std::size_t>(seconds));
  for (const LoadResult& r : results) {
    const auto s = static_cast<std::size_t>(r.at);
    if (s >= out.size()) continue;
    ++out[s].sent;
    out[s].slowest = std::max(out[s].slowest, r.latency);
    if (r.status == 0 || r.status >= 500) {
      ++out[s].failed;
    } else {
      ++out[s].by_body[r.body];
    }
  }
  return out;
}

std::string describe(const std::vector<SecondSummary>& seconds, const std::vector<std::string>& bodies) {
  std::ostringstream out;
  out << "  second  sent  failed  slowest_ms";
  for (const auto& b : bodies) out << "  " << b;
  out << '\n';
  for (std::size_t s = 0; s < seconds.size(); ++s) {
    out << "  " << s << "-" << s + 1 << "\t" << seconds[s].sent << "\t" << seconds[s].failed << "\t"
        << seconds[s].slowest.count();
    for (const auto& b : bodies) {
      const auto it = seconds[s].by_body.find(b);
      out << '\t' << (it == seconds[s].by_body.end() ? 0 : it->second);
    }
    out << '\n';
  }
  return out.str();
}

}  // namespace fairlead::test
