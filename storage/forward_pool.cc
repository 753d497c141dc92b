#include "storage/forward_pool.h"

#include <utility>

namespace custodian {

ForwardPool::~ForwardPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ForwardPool::Post(std::function<void()> task) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(task));
    // A thread for each task no waiting thread will take.
    if (queue_.size() > waiting_ && threads_.size() < max_threads_) threads_.emplace_back([this] { Loop(); });
  }
  work_cv_.notify_one();
}

void ForwardPool::Drain() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return queue_.empty() && running_ == 0; });
}

void ForwardPool::Loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    ++waiting_;
    work_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    --waiting_;
    if (queue_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lk.unlock();
    task();
    task = nullptr;  // what it held (a reply, a session) goes before the lock is taken again
    lk.lock();
    --running_;
    if (queue_.empty() && running_ == 0) idle_cv_.notify_all();
  }
}

}  // namespace custodian
