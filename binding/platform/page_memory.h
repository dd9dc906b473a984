// Pages of anonymous memory straight from the kernel, for SlotPool
// (slot_pool.h): one small file per platform implements these
// (page_memory_posix.cc, page_memory_win32.cc), chosen in CMakeLists.txt.
#pragma once

#include <cstddef>

namespace lwsnode {

// The granule MapPages() lengths are rounded to.
size_t PageSize();

// `length` bytes of zeroed, readable and writable pages, or null if the
// kernel refused. `length` is a multiple of PageSize().
void* MapPages(size_t length);

// Returns a block MapPages() gave, all of it.
void UnmapPages(void* base, size_t length);

// Tells the kernel the contents of these pages are no longer needed, so it
// may take their memory back now; they stay mapped for reuse and read as
// anything (zeroes or the old bytes) until written again.
void DiscardPages(void* base, size_t length);

}  // namespace lwsnode
