# linux-x64 on musl (Alpine). Built as a check only: no musl Node runs here.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(PREBUILD_TARGET linux-x64-musl)
include("${CMAKE_CURRENT_LIST_DIR}/../zig.cmake")
