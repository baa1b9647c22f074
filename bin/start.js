#!/usr/bin/env node
// `npm start`: a protected Node-RED with the embedded approval server.
console.log('Countersign: the one-command start is not ready yet.');
