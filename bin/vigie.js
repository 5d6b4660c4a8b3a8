#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds it (prepare script).
import '../dist/cli/main.js';
