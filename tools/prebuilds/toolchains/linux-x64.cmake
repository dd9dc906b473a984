# linux-x64 against glibc 2.28 (RHEL 8, Debian 10, Ubuntu 20.04 have it or
# newer), with zig's libc++ linked in: no GLIBCXX_ import at all.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(PREBUILD_TARGET linux-x64)
include("${CMAKE_CURRENT_LIST_DIR}/../zig.cmake")
