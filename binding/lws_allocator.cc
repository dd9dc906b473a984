// lws allocates every connection's receive buffer (the protocol's
// rx_buffer_size, 128 KiB here so that one read can take 128 KiB) when the
// connection opens, whether or not anything arrives. From the malloc heap,
// each such block keeps at least its first page resident (malloc's header)
// and costs an idle connection 4 KiB. That buffer is mapped here instead,
// with no header: a page is resident only once lws writes to it, and
// freeing returns the pages to the kernel at once. Every other allocation
// goes to malloc: lws also allocates large short-lived blocks (leftover
// input, for one), and a map and unmap for each would cost more than it saves.
//
// Under valgrind (scripts/valgrind.sh sets LWS_NODE_RX_BUFFER_FROM_MALLOC)
// the buffer comes from malloc as well: memcheck's red zones catch a write
// past a malloc block, where one past the buffer's end would land unseen in
// the rest of its mapping's last page.
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

namespace lwsnode {

namespace {

// lws names each allocation; this is the receive buffer's name (client-ws.c).
// Were it to change, the buffer would simply come from malloc again.
constexpr const char kReceiveBuffer[] = "client frame buffer";
constexpr size_t kMapFrom = 64 * 1024;  // a smaller buffer is as well off in the heap

// Every lws context in the process (one per worker thread) shares the
// allocator, so the registry of mapped blocks is locked.
std::mutex mapped_mutex;
std::unordered_map<void*, size_t>& Mapped() {
  static auto* mapped = new std::unordered_map<void*, size_t>();  // never destroyed: lws may free at exit
  return *mapped;
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
  void* block = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) return nullptr;
  std::lock_guard<std::mutex> lock(mapped_mutex);
  Mapped().emplace(block, length);
  return block;
}

void Unmap(void* block, size_t length) {
  {
    std::lock_guard<std::mutex> lock(mapped_mutex);
    Mapped().erase(block);
  }
  munmap(block, length);
}

// lws's one allocation entry point: realloc semantics, size 0 frees.
void* Reallocate(void* block, size_t size, const char* reason) {
  if (!block && size >= kMapFrom && reason && std::strcmp(reason, kReceiveBuffer) == 0) return Map(size);
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
