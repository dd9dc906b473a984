#!/usr/bin/env node
'use strict';
// Builds the libwebsockets in deps/lws/ (the pinned release, pruned and
// patched by tools/prepare-lws.js; the npm package ships it) as a static,
// position-independent release library with what a WebSocket client needs,
// installs it under deps/.build/install and returns (prints) that prefix.
//
// Needs cmake, a C compiler and what cmake drives (make or ninja) — no
// shell, python3, OpenSSL or zlib packages: lws is compiled against Node's
// own OpenSSL and zlib headers (scripts/node-headers.js) and links neither;
// at run time its calls bind to the copies inside the node binary.
//
// A second run reuses the installed library: the stamp records the tree's
// manifest, the headers and every option, so changing any of them rebuilds.
//
//   LWS_BUILD_DIR=DIR           build and install under DIR (deps/.build)
//   LWS_EXTRA_CMAKE_ARGS="..."  more -D arguments for lws's configure,
//                               space-separated, after ours (so they win)
//   CMAKE_TOOLCHAIN_FILE, CMAKE_GENERATOR, CC, CFLAGS …  read by cmake
//                               itself at the first configure; passed
//                               through untouched
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const MANIFEST = 'lws-node-manifest.json';

// Each option is here for a reason:
// - static + PIC: it is linked into a shared object, the .node addon;
// - Release: lws_config.h turns on _DEBUG (and its logging cost) otherwise;
// - client only, no test apps, examples or plugins: nothing else is used;
// - event lib plugins and lws's libuv support off: we drive lws through its
//   custom event-library hook on Node's own loop;
// - lws's async DNS off: Node resolves names, lws only sees addresses;
// - extensions on: 4.3 drops permessage-deflate otherwise;
// - IPv6 on: without it an `::1` address cannot be connected to;
// - DISABLE_WERROR: OpenSSL 3 deprecation warnings would fail the build;
// - no Git: lws names its version after `git describe` in its source
//   folder, which sits inside this repository or the user's project: it
//   would report their commit. Without Git lws says "4.3.5-unknown".
const OPTIONS = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DCMAKE_POSITION_INDEPENDENT_CODE=ON',
  '-DLWS_STATIC_PIC=ON',
  '-DLWS_WITH_STATIC=ON',
  '-DLWS_WITH_SHARED=OFF',
  '-DLWS_WITHOUT_TESTAPPS=ON',
  '-DLWS_WITHOUT_SERVER=ON',
  '-DLWS_WITH_MINIMAL_EXAMPLES=OFF',
  '-DLWS_WITH_PLUGINS=OFF',
  '-DLWS_WITH_EVLIB_PLUGINS=OFF',
  '-DLWS_WITH_LIBUV=OFF',
  '-DLWS_WITH_HTTP2=OFF',
  '-DLWS_WITH_SYS_ASYNC_DNS=OFF',
  '-DLWS_WITH_SOCKS5=ON',
  '-DLWS_IPV6=ON',
  '-DLWS_WITHOUT_EXTENSIONS=OFF',
  '-DLWS_WITH_SSL=ON',
  '-DLWS_WITH_CONMON=OFF',
  '-DLWS_LOG_TAG_LIFECYCLE=OFF',
  '-DLWS_WITH_NETLINK=OFF',
  '-DDISABLE_WERROR=ON',
  '-DCMAKE_DISABLE_FIND_PACKAGE_Git=ON',
];

// lws probes OpenSSL by linking test programs against the library, and
// here there is none to link: the symbols are in the node binary, so every
// probe would fail and lws would leave out what it has. The answers are
// given instead: those a probe against OpenSSL 3.0 (Debian 12's libssl-dev,
// what this package was built with before) gives. Node >= 20 carries
// OpenSSL 3, which has all of OPENSSL_HAS; no OpenSSL has the two of
// OPENSSL_LACKS under those names. Same lws_config.h as with libssl-dev.
const OPENSSL_HAS = [
  'SSL_CTX_set1_param', 'SSL_SET_INFO_CALLBACK', 'X509_VERIFY_PARAM_set1_host', 'RSA_SET0_KEY', 'X509_get_key_usage',
  'SSL_CTX_get0_certificate', 'SSL_get0_alpn_selected', 'SSL_set_alpn_protos',
  'EVP_aes_128_cfb8', 'EVP_aes_128_cfb128', 'EVP_aes_192_cfb8', 'EVP_aes_192_cfb128', 'EVP_aes_256_cfb8', 'EVP_aes_256_cfb128',
  'EVP_aes_128_xts', 'EVP_aes_128_ofb', 'EVP_aes_128_ecb', 'EVP_aes_128_ctr', 'HMAC_CTX_new', 'EVP_PKEY_new_raw_private_key',
  'SSL_SESSION_set_time', 'EC_KEY_new_by_curve_name', 'SSL_EXTRA_CHAIN_CERTS', 'EVP_MD_CTX_free', 'ECDSA_SIG_set0',
  'BN_bn2binpad', 'EVP_aes_128_wrap', 'EC_POINT_get_affine_coordinates', 'TLS_CLIENT_METHOD', 'TLSV1_2_CLIENT_METHOD',
];
const OPENSSL_LACKS = ['SSL_CTX_EVP_PKEY_new_raw_private_key', 'RSA_verify_pss_mgf1'];

/**
 * lws's -D arguments for Node's headers in `includeDir`. The libraries are
 * `$<0:>`, a generator expression that is empty when cmake links: lws
 * takes a non-empty value as "found" and looks no further, and nothing is
 * linked.
 */
function headerOptions(includeDir) {
  return [
    `-DLWS_OPENSSL_INCLUDE_DIRS=${includeDir}`,
    '-DLWS_OPENSSL_LIBRARIES:STRING=$<0:>',
    `-DLWS_ZLIB_INCLUDE_DIRS=${includeDir}`,
    '-DLWS_ZLIB_LIBRARIES:STRING=$<0:>',
    ...OPENSSL_HAS.map((name) => `-DLWS_HAVE_${name}=1`),
    ...OPENSSL_LACKS.map((name) => `-DLWS_HAVE_${name}=`),
  ];
}

/** LWS_EXTRA_CMAKE_ARGS, split on white space. */
function extraArgs() {
  return (process.env.LWS_EXTRA_CMAKE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/** The static library an install under `prefix` holds (MSVC names it differently). */
function staticLibrary(prefix) {
  return ['libwebsockets.a', 'websockets_static.lib'].map((name) => path.join(prefix, 'lib', name)).find((file) => fs.existsSync(file));
}

/** Runs cmake with its output in `logFile`; on failure shows the log's end. */
function cmake(args, logFile, what) {
  const fd = fs.openSync(logFile, 'a');
  try {
    execFileSync('cmake', args, { stdio: ['ignore', fd, fd] });
  } catch {
    const lines = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n');
    throw new Error(`build-lws: ${what} failed (${logFile}):\n${lines.slice(-40).join('\n')}`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Builds and installs lws (if not already built with the same inputs) and
 * returns the install prefix. `nodeIncludeDir`: Node's headers.
 */
function buildLws(nodeIncludeDir, { sourceDir = path.join(root, 'deps', 'lws') } = {}) {
  const manifestFile = path.join(sourceDir, MANIFEST);
  if (!fs.existsSync(manifestFile)) {
    throw new Error(`build-lws: ${sourceDir} is not a prepared lws tree (no ${MANIFEST}); in a checkout, node tools/prepare-lws.js makes it`);
  }
  const buildRoot = path.resolve(process.env.LWS_BUILD_DIR || path.join(root, 'deps', '.build'));
  const buildDir = path.join(buildRoot, 'lws');
  const prefix = path.join(buildRoot, 'install');
  const options = [...OPTIONS, ...headerOptions(nodeIncludeDir), ...extraArgs()];

  const stamp = path.join(prefix, '.stamp');
  const want = JSON.stringify({
    manifest: JSON.parse(fs.readFileSync(manifestFile, 'utf8')),
    source: sourceDir,
    options,
    toolchain: process.env.CMAKE_TOOLCHAIN_FILE ?? null,
  });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want && staticLibrary(prefix)) return prefix;

  console.error(`build-lws: configuring libwebsockets from ${sourceDir} (log: ${path.join(buildRoot, 'configure.log')})`);
  fs.rmSync(buildDir, { recursive: true, force: true });
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(buildRoot, { recursive: true });
  for (const log of ['configure.log', 'build.log']) fs.rmSync(path.join(buildRoot, log), { force: true });
  cmake(['-S', sourceDir, '-B', buildDir, `-DCMAKE_INSTALL_PREFIX=${prefix}`, ...options], path.join(buildRoot, 'configure.log'), 'configuring lws');
  console.error(`build-lws: building (log: ${path.join(buildRoot, 'build.log')})`);
  const jobs = String(os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  cmake(['--build', buildDir, '--config', 'Release', '--parallel', jobs], path.join(buildRoot, 'build.log'), 'building lws');
  cmake(['--install', buildDir, '--config', 'Release'], path.join(buildRoot, 'build.log'), 'installing lws');
  fs.writeFileSync(stamp, want);
  return prefix;
}

module.exports = { buildLws };

if (require.main === module) {
  // As a command (tools/valgrind.sh): Node's headers as build.js finds them.
  const { nodeIncludeDir } = require('./node-headers');
  const { loadCmakeJs } = require('./build-deps');
  nodeIncludeDir(loadCmakeJs)
    .then((includeDir) => console.log(buildLws(includeDir)))
    .catch((error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
