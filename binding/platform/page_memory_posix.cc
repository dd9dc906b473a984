// Linux, macOS and the other POSIX systems: mmap and madvise.
#include "page_memory.h"

#include <sys/mman.h>
#include <unistd.h>

namespace lwsnode {

size_t PageSize() {
  // Fixed for the life of the process; asked once.
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

void* MapPages(size_t length) {
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return base == MAP_FAILED ? nullptr : base;
}

void UnmapPages(void* base, size_t length) { munmap(base, length); }

void DiscardPages(void* base, size_t length) {
  // On Linux the pages leave the process at once (they read as zeroes
  // next); elsewhere MADV_DONTNEED is a hint the kernel may act on later.
  madvise(base, length, MADV_DONTNEED);
}

}  // namespace lwsnode
