// Windows: VirtualAlloc and VirtualFree.
#include "page_memory.h"

#include <windows.h>

namespace lwsnode {

size_t PageSize() {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info.dwPageSize;
}

void* MapPages(size_t length) {
  // Reserved and committed at once: committed pages use no memory until
  // touched, as with an anonymous mmap.
  return VirtualAlloc(nullptr, length, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void UnmapPages(void* base, size_t) {
  // MEM_RELEASE takes the whole reservation and wants a length of 0.
  VirtualFree(base, 0, MEM_RELEASE);
}

void DiscardPages(void* base, size_t length) {
  // MEM_RESET: the contents may be dropped instead of written to the page
  // file; the pages stay committed for the next use.
  VirtualAlloc(base, length, MEM_RESET, PAGE_READWRITE);
}

}  // namespace lwsnode
