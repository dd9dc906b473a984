'use strict';
// Which symbol versions an ELF file imports, read from its dynamic symbol
// table with objdump -T (the host's binutils read every ELF architecture's
// version tables). Used by build.js before a Linux prebuild ships and by
// test/prebuilds.test.ts.
const { execFileSync } = require('node:child_process');

/** The oldest glibc the Linux prebuilds support (RHEL 8's). */
const GLIBC_BASELINE = [2, 28];

/** Every distinct GLIBC_x / GLIBCXX_x / CXXABI_x version `file` imports (undefined symbols). */
function importedVersions(file) {
  const table = execFileSync('objdump', ['-T', file], { maxBuffer: 64 << 20 }).toString();
  const versions = new Set();
  for (const line of table.split('\n')) {
    // "0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.17) clock_gettime"
    const match = /\*UND\*\s+\S+\s+\(?((?:GLIBC|GLIBCXX|CXXABI)_[0-9.]+)\)?\s/.exec(line);
    if (match) versions.add(match[1]);
  }
  return [...versions].sort();
}

const newerThanBaseline = (version) => {
  const [major, minor] = version.slice('GLIBC_'.length).split('.').map(Number);
  return major > GLIBC_BASELINE[0] || (major === GLIBC_BASELINE[0] && minor > GLIBC_BASELINE[1]);
};

/** The imports of `file` a glibc-2.28 system without a newer libstdc++ could not satisfy. */
function newerGlibcImports(file) {
  return importedVersions(file).filter((version) => !version.startsWith('GLIBC_') || newerThanBaseline(version));
}

module.exports = { GLIBC_BASELINE, importedVersions, newerGlibcImports };
