// Equal-sized blocks ("slots") of anonymous memory, mapped from the kernel
// many at a time. Mapping each block on its own cost an mmap and a munmap
// per block, each splitting or merging the process's memory areas; opening
// connections in a burst, that was about a tenth of the client's time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lwsnode {

class SlotPool {
 public:
  // `slot_length` is a multiple of the page size. With `release_freed`, a
  // freed slot's pages go back to the kernel at once (DiscardPages), for blocks
  // that may have been written all over; without, they stay resident for
  // the next block, for small ones that are soon handed out again.
  SlotPool(size_t slot_length, size_t slots_per_chunk, bool release_freed);
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;

  // A slot, or null if the kernel refused a new chunk. Not thread-safe:
  // the caller locks.
  void* Take();
  // Gives back a slot Take() returned.
  void Give(void* slot);
  // Whether `block` is one of this pool's slots (handed out or not).
  bool Owns(const void* block) const;

  size_t slot_length() const { return slot_length_; }

 private:
  struct Chunk {
    char* base;
    uint32_t never_taken;           // slots from here on were never handed out
    uint32_t live = 0;              // slots handed out now
    std::vector<uint32_t> given_back;  // freed slots, taken again first
  };

  Chunk* ChunkOf(const void* block) const;
  bool HasRoom(const Chunk& chunk) const;
  void Release(Chunk* chunk);

  const size_t slot_length_;
  const uint32_t slots_per_chunk_;
  const size_t chunk_length_;    // what one MapPages() maps
  const bool release_freed_;
  std::vector<Chunk*> chunks_;   // sorted by base, for ChunkOf
  std::vector<Chunk*> roomy_;    // chunks with a slot to hand out; the last is used first
  Chunk* spare_ = nullptr;       // the one empty chunk kept mapped, if any
};

}  // namespace lwsnode
