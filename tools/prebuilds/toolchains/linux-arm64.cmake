# linux-arm64 against glibc 2.28, with zig's libc++ linked in.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PREBUILD_TARGET linux-arm64)
include("${CMAKE_CURRENT_LIST_DIR}/../zig.cmake")
