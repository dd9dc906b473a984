declare module 'node-gyp-build' {
  /** Loads the addon in build/Release or a matching prebuild under `dir`. */
  function load(dir: string): unknown;
  export = load;
}
