# Shared by the per-target toolchain files in toolchains/: each sets
# CMAKE_SYSTEM_NAME, CMAKE_SYSTEM_PROCESSOR and PREBUILD_TARGET (a name in
# tools/prebuilds/targets.js), then includes this.
#
# Compiles with zig (`zig cc -target <triple>`), through the wrappers that
# tools/prebuilds/build.js writes into <toolchains>/targets/<target>/, where
# it also puts what lws's configure links its checks against (see
# node_exports.js): lws is built against Node's own OpenSSL and zlib headers
# and binds to the copies the node binary exports.
get_filename_component(_prebuild_checkout "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(DEFINED ENV{LWS_TOOLCHAINS_DIR})
  set(_prebuild_tools "$ENV{LWS_TOOLCHAINS_DIR}")
else()
  set(_prebuild_tools "${_prebuild_checkout}/deps/.toolchains")
endif()
set(_prebuild_dir "${_prebuild_tools}/targets/${PREBUILD_TARGET}")
if(NOT EXISTS "${_prebuild_dir}/cc")
  message(FATAL_ERROR "${_prebuild_dir}/cc is missing: tools/prebuilds/build.js writes it")
endif()

set(CMAKE_C_COMPILER "${_prebuild_dir}/cc")
set(CMAKE_CXX_COMPILER "${_prebuild_dir}/c++")
set(CMAKE_AR "${_prebuild_dir}/ar" CACHE FILEPATH "")
set(CMAKE_RANLIB "${_prebuild_dir}/ranlib" CACHE FILEPATH "")

# Nothing of the build machine's own libraries or headers may be found.
set(CMAKE_FIND_ROOT_PATH "${_prebuild_dir}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# For lws (ignored by the addon's CMakeLists.txt): OpenSSL and zlib are
# Node's. lws links its feature checks (check_function_exists) against the
# library named here, which exports what node exports, so lws_config.h says
# what the node binary provides; the static lws links none of it.
include("${_prebuild_dir}/node-exports.cmake")
set(LWS_OPENSSL_INCLUDE_DIRS "${PREBUILD_NODE_INCLUDE_DIR}" CACHE PATH "")
set(LWS_OPENSSL_LIBRARIES "${PREBUILD_NODE_EXPORTS}" CACHE PATH "")
set(LWS_ZLIB_INCLUDE_DIRS "${PREBUILD_NODE_INCLUDE_DIR}" CACHE PATH "")
set(LWS_ZLIB_LIBRARIES "${PREBUILD_NODE_EXPORTS}" CACHE PATH "")
set(LWS_WITH_BUNDLED_ZLIB OFF CACHE BOOL "")
# For its check_include_file()s (openssl/ecdh.h), which look nowhere else.
set(CMAKE_REQUIRED_INCLUDES "${PREBUILD_NODE_INCLUDE_DIR}")
