'use strict';
// The npm packages a source build needs and a prebuilt install does not:
// cmake-js (drives cmake for the addon; fetches Node's headers when they
// are nowhere else) and node-addon-api (C++ headers). They are optional peer
// dependencies, which npm does not install by itself, so an install that
// uses the prebuild pulls neither in (nor cmake-js's ~40 dependencies).
// They are looked up from the package's folder, as npm places them.
const { createRequire } = require('node:module');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fromPackage = createRequire(path.join(root, 'package.json'));
const { peerDependencies = {} } = require('../package.json');

/** The build packages that cannot be found, as `name@range` specs. */
function missingBuildPackages() {
  return ['cmake-js', 'node-addon-api']
    .filter((name) => {
      try {
        fromPackage.resolve(`${name}/package.json`);
        return false;
      } catch {
        return true;
      }
    })
    .map((name) => `${name}@${peerDependencies[name] ?? 'latest'}`);
}

/** The cmake-js package (its API). */
function loadCmakeJs() {
  return fromPackage('cmake-js');
}

/** cmake-js's command-line script. */
function cmakeJsBin() {
  return fromPackage.resolve('cmake-js/bin/cmake-js');
}

module.exports = { missingBuildPackages, loadCmakeJs, cmakeJsBin };
