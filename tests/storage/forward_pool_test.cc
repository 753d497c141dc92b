// ForwardPool: the threads that carry a follower's appends to the writer.
#include "storage/forward_pool.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace custodian {
namespace {

TEST_CASE("ForwardPool runs tasks side by side up to its bound, and Drain returns only when every task has finished",
          "[storage][cluster]") {
  ForwardPool pool(4);
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  std::atomic<int> started{0}, finished{0};
  for (int i = 0; i < 6; ++i) {
    pool.Post([&, go] {
      ++started;
      go.wait();  // each holds its thread, as a forward waiting for the writer does
      ++finished;
    });
  }
  // Four run at once (the bound); the other two wait for a thread.
  while (started.load() < 4) std::this_thread::yield();
  CHECK(finished.load() == 0);
  std::future<void> drained = std::async(std::launch::async, [&] { pool.Drain(); });
  CHECK(drained.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);  // tasks still held
  CHECK(started.load() == 4);  // no fifth thread
  CHECK(finished.load() == 0);
  release.set_value();
  drained.get();
  CHECK(started.load() == 6);
  CHECK(finished.load() == 6);
}

TEST_CASE("ForwardPool's destructor runs what is still queued", "[storage][cluster]") {
  std::atomic<int> ran{0};
  {
    ForwardPool pool(1);
    for (int i = 0; i < 5; ++i) pool.Post([&] { ++ran; });
  }
  CHECK(ran.load() == 5);
}

}  // namespace
}  // namespace custodian
