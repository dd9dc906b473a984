// Two of lws's allocations are mapped here rather than taken from malloc:
//
// - Every connection's receive buffer (the protocol's rx_buffer_size, 128
//   KiB here so that one read can take 128 KiB), allocated when the
//   connection opens, whether or not anything arrives. From the malloc heap
//   each kept at least its first page resident (malloc's header) and cost an
//   idle connection 4 KiB. Mapped, with no header, a page is resident only
//   once lws writes to it, and freeing returns the pages at once.
// - The 4 KiB that holds each handshake's headers ("ah data"), freed once
//   the connection is open. From malloc, the blocks of the handshakes in
//   flight lie between the connections' long-lived blocks, and once freed
//   leave holes that keep about 1 KiB per open connection resident after a
//   burst of openings. A few freed ones are kept for the next handshakes,
//   so a burst costs few system calls.
//
// Every other allocation goes to malloc: lws also allocates large
// short-lived blocks (leftover input, for one), and a map and unmap for each
// would cost more than it saves.
//
// Under valgrind (scripts/valgrind.sh sets LWS_NODE_RX_BUFFER_FROM_MALLOC)
// both come from malloc as well: memcheck's red zones catch a write past a
// malloc block, where one past a mapped block's end would land unseen in the
// rest of its last page, and a kept block would hide a use after free.
#include "lws_allocator.h"

#include <libwebsockets.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace lwsnode {

namespace {

// lws names each allocation; these are the receive buffer's (client-ws.c)
// and the handshake headers' (parsers.c). Were one to change, that block
// would simply come from malloc again.
constexpr const char kReceiveBuffer[] = "client frame buffer";
constexpr size_t kMapFrom = 64 * 1024;  // a smaller buffer is as well off in the heap
constexpr const char kHandshakeHeaders[] = "ah data";
constexpr size_t kHandshakeBlocksKept = 32;

// Every lws context in the process (one per worker thread) shares the
// allocator, so the registry of mapped blocks is locked.
std::mutex mapped_mutex;
std::unordered_map<void*, size_t>& Mapped() {
  static auto* mapped = new std::unordered_map<void*, size_t>();  // never destroyed: lws may free at exit
  return *mapped;
}
// Freed handshake blocks of one page, still mapped and registered.
std::vector<void*>& KeptPages() {
  static auto* kept = new std::vector<void*>();
  return *kept;
}

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// The length of `block` if it is one of ours; 0 if it came from malloc.
// Mapped blocks are page-aligned, so most malloc blocks need no lookup.
size_t MappedLength(void* block) {
  if (reinterpret_cast<uintptr_t>(block) % PageSize() != 0) return 0;
  std::lock_guard<std::mutex> lock(mapped_mutex);
  auto found = Mapped().find(block);
  return found == Mapped().end() ? 0 : found->second;
}

void* Map(size_t size) {
  size_t length = (size + PageSize() - 1) / PageSize() * PageSize();
  if (length == PageSize()) {
    std::lock_guard<std::mutex> lock(mapped_mutex);
    if (!KeptPages().empty()) {
      void* block = KeptPages().back();
      KeptPages().pop_back();
      return block;
    }
  }
  void* block = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) return nullptr;
  std::lock_guard<std::mutex> lock(mapped_mutex);
  Mapped().emplace(block, length);
  return block;
}

void Unmap(void* block, size_t length) {
  {
    std::lock_guard<std::mutex> lock(mapped_mutex);
    if (length == PageSize() && KeptPages().size() < kHandshakeBlocksKept) {
      KeptPages().push_back(block);
      return;
    }
    Mapped().erase(block);
  }
  munmap(block, length);
}

// Whether a new allocation is one of the two above.
bool ShouldMap(size_t size, const char* reason) {
  if (!reason) return false;
  if (size >= kMapFrom) return std::strcmp(reason, kReceiveBuffer) == 0;
  return std::strcmp(reason, kHandshakeHeaders) == 0;
}

// lws's one allocation entry point: realloc semantics, size 0 frees.
void* Reallocate(void* block, size_t size, const char* reason) {
  if (!block && size && ShouldMap(size, reason)) return Map(size);
  size_t mapped_length = block ? MappedLength(block) : 0;
  if (!mapped_length) {
    if (size) return realloc(block, size);
    free(block);
    return nullptr;
  }
  // One of ours, resized or freed: the rest of its life is malloc's.
  void* moved = nullptr;
  if (size) {
    moved = malloc(size);
    if (!moved) return nullptr;  // as realloc: the old block stays valid
    std::memcpy(moved, block, std::min(mapped_length, size));
  }
  Unmap(block, mapped_length);
  return moved;
}

}  // namespace

void InstallLwsAllocator() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    if (!std::getenv("LWS_NODE_RX_BUFFER_FROM_MALLOC")) lws_set_allocator(Reallocate);
  });
}

}  // namespace lwsnode
