#!/usr/bin/env node
// The `countersign` command line: see `countersign --help`.
console.log('countersign: the command line is not ready yet.');
