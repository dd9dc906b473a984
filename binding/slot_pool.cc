#include "slot_pool.h"

#include <algorithm>

#include "platform/page_memory.h"

namespace lwsnode {

SlotPool::SlotPool(size_t slot_length, size_t slots_per_chunk, bool release_freed)
    : slot_length_(slot_length),
      slots_per_chunk_(static_cast<uint32_t>(slots_per_chunk)),
      chunk_length_(slot_length * slots_per_chunk),
      release_freed_(release_freed) {}

void* SlotPool::Take() {
  if (roomy_.empty()) {
    void* base = MapPages(chunk_length_);
    if (!base) return nullptr;
    auto* chunk = new Chunk{static_cast<char*>(base), 0};
    auto by_base = [](const Chunk* a, const Chunk* b) { return a->base < b->base; };
    chunks_.insert(std::upper_bound(chunks_.begin(), chunks_.end(), chunk, by_base), chunk);
    roomy_.push_back(chunk);
  }
  Chunk* chunk = roomy_.back();
  if (chunk == spare_) spare_ = nullptr;
  uint32_t index;
  if (!chunk->given_back.empty()) {
    index = chunk->given_back.back();
    chunk->given_back.pop_back();
  } else {
    index = chunk->never_taken++;
  }
  chunk->live++;
  if (!HasRoom(*chunk)) roomy_.pop_back();
  return chunk->base + index * slot_length_;
}

void SlotPool::Give(void* slot) {
  Chunk* chunk = ChunkOf(slot);
  if (--chunk->live == 0) {
    // One empty chunk stays as a spare, so that connections opening and
    // closing one at a time (at a chunk's edge, say) do not map and unmap
    // a chunk each; any other chunk that empties goes back to the kernel.
    if (spare_) {
      Release(chunk);
      return;
    }
    spare_ = chunk;
  }
  if (release_freed_) DiscardPages(slot, slot_length_);
  if (!HasRoom(*chunk)) roomy_.push_back(chunk);
  chunk->given_back.push_back(static_cast<uint32_t>((static_cast<char*>(slot) - chunk->base) / slot_length_));
}

bool SlotPool::Owns(const void* block) const { return ChunkOf(block) != nullptr; }

SlotPool::Chunk* SlotPool::ChunkOf(const void* block) const {
  const char* at = static_cast<const char*>(block);
  auto after = std::upper_bound(chunks_.begin(), chunks_.end(), at, [](const char* a, const Chunk* c) { return a < c->base; });
  if (after == chunks_.begin()) return nullptr;
  Chunk* chunk = *(after - 1);
  return at < chunk->base + chunk_length_ ? chunk : nullptr;
}

bool SlotPool::HasRoom(const Chunk& chunk) const {
  return !chunk.given_back.empty() || chunk.never_taken < slots_per_chunk_;
}

// Never the spare: Give() releases a chunk only while another is kept.
void SlotPool::Release(Chunk* chunk) {
  UnmapPages(chunk->base, chunk_length_);
  chunks_.erase(std::find(chunks_.begin(), chunks_.end(), chunk));
  auto listed = std::find(roomy_.begin(), roomy_.end(), chunk);
  if (listed != roomy_.end()) roomy_.erase(listed);  // a chunk whose every slot was live is not
  delete chunk;
}

}  // namespace lwsnode
