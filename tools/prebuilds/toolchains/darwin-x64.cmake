# macOS on Intel. Built as a check only: nothing here runs it.
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(PREBUILD_TARGET darwin-x64)
include("${CMAKE_CURRENT_LIST_DIR}/../zig.cmake")
