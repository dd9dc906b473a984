# Windows x64 (MinGW ABI, linked against node.exe's exports through a
# delay-load import library; see binding/platform/win32_delay_load_hook.cc).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(PREBUILD_TARGET win32-x64)
# lws picks its Windows code paths by MSVC's architecture macro, which
# clang in MinGW mode does not define.
set(CMAKE_C_FLAGS_INIT "-D_M_X64=100")
include("${CMAKE_CURRENT_LIST_DIR}/../zig.cmake")
