'use strict';
// Finds Node's own C headers for the running Node: the folder with node.h,
// uv.h, zlib.h and openssl/. lws is compiled against Node's OpenSSL and zlib
// headers because at run time its calls bind to the copies inside the node
// binary; the addon needs uv.h, which node-api-headers does not ship.
//
// The first of these that holds all four wins:
//   1. npm's `nodedir` setting (`--nodedir=DIR`, npm_config_nodedir), as
//      node-gyp and cmake-js read it: DIR/include/node;
//   2. the running Node's own install: <prefix>/include/node next to
//      bin/node (the official tarballs, nvm, the Docker images). Distribution
//      packages may lack it or leave OpenSSL out (Debian's nodejs);
//   3. cmake-js's header cache, ~/.cmake-js/node-<arch>/v<version>/, where
//      cmake-js downloads Node's header tarball for this version from Node's
//      release site (NVM_NODEJS_ORG_MIRROR names a mirror) when it is not
//      there yet.
const fs = require('node:fs');
const path = require('node:path');

const REQUIRED = ['node.h', 'uv.h', 'zlib.h', path.join('openssl', 'ssl.h')];

/** The header files of REQUIRED that `dir` lacks. */
function missingHeaders(dir) {
  return REQUIRED.filter((file) => !fs.existsSync(path.join(dir, file)));
}

function candidates() {
  const list = [];
  const nodedir = process.env.npm_config_nodedir;
  if (nodedir) list.push({ from: `nodedir (${nodedir})`, dir: path.join(path.resolve(nodedir), 'include', 'node') });
  list.push({ from: `this Node's install (${process.execPath})`, dir: path.resolve(process.execPath, '..', '..', 'include', 'node') });
  return list;
}

/**
 * The folder with Node's headers. `loadCmakeJs` returns the cmake-js
 * package; it is called only when neither nodedir nor Node's install has them.
 */
async function nodeIncludeDir(loadCmakeJs) {
  const tried = [];
  for (const { from, dir } of candidates()) {
    const missing = missingHeaders(dir);
    if (missing.length === 0) return dir;
    tried.push(`${from}: ${dir} lacks ${missing.join(', ')}`);
  }
  // The header tarball cmake-js fetches for non-Node-API builds: the same
  // Dist object, asked directly, since this package's own build is Node-API.
  const dist = new (loadCmakeJs().Dist)({ runtime: 'node', runtimeVersion: process.versions.node, arch: process.arch });
  try {
    await dist.ensureDownloaded();
  } catch (error) {
    tried.push(`cmake-js could not fetch Node's headers into ${dist.internalPath}: ${error instanceof Error ? error.message : error}`);
    throw new Error(`Node's headers (node.h, uv.h, zlib.h, openssl/) were not found:\n  - ${tried.join('\n  - ')}\n` +
      'Unpack node-v<version>-headers.tar.gz of this Node version and pass its folder as --nodedir (npm_config_nodedir).');
  }
  const dir = path.join(dist.internalPath, 'include', 'node');
  const missing = missingHeaders(dir);
  if (missing.length > 0) throw new Error(`Node's headers in ${dir} lack ${missing.join(', ')}`);
  return dir;
}

module.exports = { nodeIncludeDir, missingHeaders };
