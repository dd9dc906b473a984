# macOS on Apple silicon. Built as a check only: nothing here runs it.
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR arm64)
set(PREBUILD_TARGET darwin-arm64)
include("${CMAKE_CURRENT_LIST_DIR}/../zig.cmake")
