/**
 * Builds a data directory of decided deployments in a process of its own (so the measurements
 * that follow start with a clean heap) and prints `{dataDir, token}` as JSON:
 * `tsx bench/year-build.ts 18250`.
 */
import { bigFlows } from './flows-10k.js';
import { buildHistory } from './year.js';

const decided = Number(process.argv[2]);
const built = await buildHistory({ base: bigFlows(1000), decided, perDay: 50 });
process.stdout.write(JSON.stringify({ dataDir: built.dataDir, token: built.token }) + '\n');
