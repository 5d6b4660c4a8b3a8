#!/usr/bin/env node
// Runs the compiled CLI (`npm install` builds it: prepare script), after checking the Node.js version
// first: the CLI's own modules are loaded only once the version is known to be enough.
import { nodeVersionRefusal } from './node-version.js';

const refusal = nodeVersionRefusal(process.version);
if (refusal) {
  process.stderr.write(`vigie: ${refusal}\n`);
  process.exit(1);
}
await import('../dist/cli/main.js');
