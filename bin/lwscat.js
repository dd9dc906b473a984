#!/usr/bin/env node
'use strict';
// The CLI lives in the compiled package (lib/cli/lwscat.ts → dist/cli/lwscat.js).
require('../dist/cli/lwscat.js').main();
