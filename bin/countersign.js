#!/usr/bin/env node
// The `countersign` command line (see `countersign --help`); it runs the compiled server from dist/.
import('../dist/server/cli/main.js')
  .then((cli) => cli.run())
  .catch((err) => {
    const missing = err && err.code === 'ERR_MODULE_NOT_FOUND';
    console.error(
      missing
        ? 'countersign: the server is not built; run `npm run build` in the Countersign package first.'
        : `countersign: ${err && err.message ? err.message : err}`,
    );
    process.exitCode = 1;
  });
