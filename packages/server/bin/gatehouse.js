#!/usr/bin/env node
// The `gatehouse` command. A committed shim, so that npm can link the bin at install time, before
// `prepare` has compiled the TypeScript into dist/.
import '../dist/cli/main.js';
