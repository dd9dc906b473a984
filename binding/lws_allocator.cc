// Two of lws's allocations are mapped here rather than taken from malloc:
//
// - Every connection's receive buffer (the protocol's rx_buffer_size, 128
//   KiB here so that one read can take 128 KiB), allocated when the
//   connection opens, whether or not anything arrives. From the malloc heap
//   each kept at least its first page resident (malloc's header) and cost an
//   idle connection 4 KiB. Mapped, with no header, a page is resident only
//   once lws writes to it, and a freed buffer's pages go back at once.
// - The 4 KiB that holds each handshake's headers ("ah data"), freed once
//   the connection is open. From malloc, the blocks of the handshakes in
//   flight lie between the connections' long-lived blocks, and once freed
//   leave holes that keep about 1 KiB per open connection resident after a
//   burst of openings. Freed ones stay resident for the next handshakes.
//
// Both come from SlotPools, mapped many blocks at a time (slot_pool.h).
// Every other allocation goes to malloc: lws also allocates large
// short-lived blocks (leftover input, for one), and a map and unmap for each
// would cost more than it saves.
//
// Under valgrind (scripts/valgrind.sh sets LWS_NODE_RX_BUFFER_FROM_MALLOC)
// both come from malloc as well: memcheck's red zones catch a write past a
// malloc block, where one past a mapped block's end would land unseen in the
// next slot, and a reused slot would hide a use after free.
#include "lws_allocator.h"

#include <libwebsockets.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "boundary.h"
#include "platform/page_memory.h"
#include "slot_pool.h"

namespace lwsnode {

namespace {

// lws names each allocation; these are the receive buffer's (client-ws.c)
// and the handshake headers' (parsers.c). Were one to change, that block
// would simply come from malloc again.
constexpr const char kReceiveBuffer[] = "client frame buffer";
constexpr size_t kMapFrom = 64 * 1024;  // a smaller buffer is as well off in the heap
constexpr const char kHandshakeHeaders[] = "ah data";
// About 2 MiB of address space per chunk of receive buffers; handshake
// blocks in chunks of 128 KiB, which is also the most an emptied chunk
// keeps resident.
constexpr size_t kReceiveBuffersPerChunk = 16;
constexpr size_t kHandshakeBlocksPerChunk = 32;

size_t PageRounded(size_t size) { return (size + PageSize() - 1) / PageSize() * PageSize(); }

// Every lws context in the process (one per worker thread) shares the
// allocator, so the pools are locked. One pool per block length: lws asks
// for the same two lengths every time.
std::mutex pools_mutex;
std::vector<SlotPool*>& Pools() {
  static auto* pools = new std::vector<SlotPool*>();  // never destroyed: lws may free at exit
  return *pools;
}

SlotPool* PoolFor(size_t length, bool receive_buffer) {
  for (SlotPool* pool : Pools())
    if (pool->slot_length() == length) return pool;
  auto* pool = receive_buffer ? new SlotPool(length, kReceiveBuffersPerChunk, true)
                              : new SlotPool(length, kHandshakeBlocksPerChunk, false);
  Pools().push_back(pool);
  return pool;
}

// The pool `block` came from, or null for a malloc block. Slots are
// page-aligned, so most malloc blocks need no lookup.
SlotPool* OwnerOf(void* block) {
  if (reinterpret_cast<uintptr_t>(block) % PageSize() != 0) return nullptr;
  for (SlotPool* pool : Pools())
    if (pool->Owns(block)) return pool;
  return nullptr;
}

// Whether a new allocation is one of the two above, and which.
bool ShouldMap(size_t size, const char* reason, bool* receive_buffer) {
  if (!reason) return false;
  *receive_buffer = size >= kMapFrom;
  if (*receive_buffer) return std::strcmp(reason, kReceiveBuffer) == 0;
  return std::strcmp(reason, kHandshakeHeaders) == 0;
}

// lws's one allocation entry point: realloc semantics, size 0 frees.
void* Allocate(void* block, size_t size, const char* reason) {
  bool receive_buffer = false;
  if (!block && size && ShouldMap(size, reason, &receive_buffer)) {
    size_t length = PageRounded(size);
    std::lock_guard<std::mutex> lock(pools_mutex);
    return PoolFor(length, receive_buffer)->Take();
  }
  SlotPool* owner = nullptr;
  if (block) {
    std::lock_guard<std::mutex> lock(pools_mutex);
    owner = OwnerOf(block);
  }
  if (!owner) {
    if (size) return realloc(block, size);
    free(block);
    return nullptr;
  }
  // One of ours, resized or freed: the rest of its life is malloc's.
  void* moved = nullptr;
  if (size) {
    moved = malloc(size);
    if (!moved) return nullptr;  // as realloc: the old block stays valid
    std::memcpy(moved, block, std::min(owner->slot_length(), size));
  }
  std::lock_guard<std::mutex> lock(pools_mutex);
  owner->Give(block);
  return moved;
}

// Called by lws: nothing may throw past here (boundary.h). An exception
// (std::bad_alloc from the pools' bookkeeping) is an allocation that failed.
void* Reallocate(void* block, size_t size, const char* reason) {
  return Boundary(static_cast<void*>(nullptr), [=] { return Allocate(block, size, reason); });
}

}  // namespace

void InstallLwsAllocator() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    if (!std::getenv("LWS_NODE_RX_BUFFER_FROM_MALLOC")) lws_set_allocator(Reallocate);
  });
}

}  // namespace lwsnode
