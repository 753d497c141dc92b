#pragma once
// Threads that carry a cluster follower's appends to the partition writer
// (EventLog::AppendBatchThen on a follower). Each forward waits for the
// writer's answer: a network round trip, or seconds while another node takes
// the writer's role over. A server's I/O thread must not wait that long, or
// every connection it serves (health checks included) waits with it.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace custodian {

class ForwardPool {
 public:
  // Threads start as tasks wait for one, up to `max_threads`; past that,
  // tasks queue (a server bounds them: one request in flight per connection).
  explicit ForwardPool(size_t max_threads) : max_threads_(max_threads) {}
  ForwardPool(const ForwardPool&) = delete;
  ForwardPool& operator=(const ForwardPool&) = delete;
  // Runs what is queued, then joins the threads.
  ~ForwardPool();

  void Post(std::function<void()> task);
  // Returns once nothing is queued or running: what the tasks use (a
  // forwarder and the node behind it) may then go.
  void Drain();

 private:
  void Loop();

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable work_cv_, idle_cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t waiting_ = 0;  // threads waiting for a task
  size_t running_ = 0;  // tasks being run
  bool stopping_ = false;
};

}  // namespace custodian
