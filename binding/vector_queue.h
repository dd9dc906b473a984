#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace lwsnode {

// A FIFO queue on one vector: nothing allocated while it is empty, one
// block while in use. std::deque allocates a 512-byte block and its map as
// soon as it exists, which every idle connection would pay twice.
template <typename T>
class VectorQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  void push_back(T item) { items_.push_back(std::move(item)); }

  // What the item owns is released now; its slot once the queue empties,
  // or once popped slots are half the vector (a queue that never empties
  // must not keep growing). Items move then: point into what they own
  // (a vector's buffer moves with it), never at them.
  void pop_front() {
    items_[head_++] = T();
    if (empty()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= kCompactFrom && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  // The queued items, front first.
  T* begin() { return items_.data() + head_; }
  T* end() { return items_.data() + items_.size(); }

 private:
  static constexpr size_t kCompactFrom = 64;

  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace lwsnode
