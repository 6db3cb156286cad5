// IntrusiveList<T>: a doubly linked list whose links live inside the items (T derives from
// ListNode<T>). Registering an object costs no allocation and 16 bytes in the object, where a
// hash set of pointers costs a node allocation and a bucket per entry. Not thread safe; an item is
// in at most one list.
#pragma once

#include <cstddef>
#include <vector>

namespace fairlead::core {

template <typename T>
class IntrusiveList;

template <typename T>
class ListNode {
 public:
  bool linked() const noexcept { return prev_ != nullptr; }

 protected:
  ListNode() = default;
  ~ListNode() = default;
  ListNode(const ListNode&) = delete;
  ListNode& operator=(const ListNode&) = delete;

 private:
  friend class IntrusiveList<T>;
  ListNode* prev_ = nullptr;
  ListNode* next_ = nullptr;
};

template <typename T>
class IntrusiveList {
 public:
  IntrusiveList() noexcept { root_.prev_ = root_.next_ = &root_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  void pushBack(T& item) noexcept {
    ListNode<T>& n = item;
    n.prev_ = root_.prev_;
    n.next_ = &root_;
    root_.prev_->next_ = &n;
    root_.prev_ = &n;
    ++size_;
  }

  void erase(T& item) noexcept {
    ListNode<T>& n = item;
    if (!n.linked()) return;
    n.prev_->next_ = n.next_;
    n.next_->prev_ = n.prev_;
    n.prev_ = n.next_ = nullptr;
    --size_;
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // For walks during which items may leave the list: check linked() before using each one.
  std::vector<T*> snapshot() const {
    std::vector<T*> all;
    all.reserve(size_);
    for (const ListNode<T>* n = root_.next_; n != &root_; n = n->next_) {
      all.push_back(static_cast<T*>(const_cast<ListNode<T>*>(n)));
    }
    return all;
  }

 private:
  struct Root : ListNode<T> {};
  Root root_;
  std::size_t size_ = 0;
};

}  // namespace fairlead::core
