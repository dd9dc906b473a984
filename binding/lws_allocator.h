#pragma once

namespace lwsnode {

// Gives lws (linked into this addon only) an allocator that maps large
// blocks straight from the kernel; see lws_allocator.cc. Call once per
// process, before the first lws context.
void InstallLwsAllocator();

}  // namespace lwsnode
