/**
 * The ES module entry ("import" in package.json's exports): the CommonJS
 * build re-exported, so `import { connect } from 'libwebsockets'` and
 * require() share one instance — one addon, and error classes that
 * instanceof recognises whichever way they were loaded. Node finds the
 * CommonJS names statically (cjs-module-lexer reads tsc's output); the
 * package test checks that every one of them is here.
 */
export * from './index.js';
