/**
 * The gate's held records (plugin/startup/records.ts): the snapshot of a held deployment is written
 * while it is being proposed, before its id is known, and filed under the id once the server gave
 * one. A record on disk must always find its exact flows; a draft that was not kept must leave
 * nothing a restart would read as a held deployment.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshotText, sha256Hex, utf8, type Flows } from '../../protocol/index.js';
import { GateRecords, type HeldRecord } from '../../plugin/startup/records.js';

const flows: Flows = [
  { id: 't1', type: 'tab', label: 'Main' },
  { id: 'n1', type: 'inject', z: 't1', name: 'é ✓ \u2028', x: 10, y: 20, wires: [['n2']] },
  { id: 'n2', type: 'debug', z: 't1', x: 30, y: 40, wires: [] },
];

async function recordOf(id: string, text: string): Promise<HeldRecord> {
  return {
    v: 1,
    id,
    type: 'full',
    source: { user: 'alice', via: 'editor' },
    base: await sha256Hex('[]'),
    target: await sha256Hex(text),
    credentials: {},
    at: new Date().toISOString(),
  };
}

describe('held records', () => {
  let userDir: string;
  let records: GateRecords;
  beforeEach(async () => {
    userDir = await mkdtemp(join(tmpdir(), 'countersign-records-'));
    records = new GateRecords(userDir);
  });
  afterEach(() => rm(userDir, { recursive: true, force: true }));

  it('files a kept draft under its id, byte for byte, and reads it back as held', async () => {
    const text = snapshotText(flows);
    const draft = records.draftHeld(utf8(text));
    const record = await recordOf('dep_1', text);
    await draft.keep(record);

    const dir = join(userDir, 'countersign-gate', 'held');
    expect((await readdir(dir)).sort()).toEqual(['dep_1.flows.json', 'dep_1.json']);
    expect(await readFile(join(dir, 'dep_1.flows.json'), 'utf8')).toBe(text);
    const held = await records.readHeld();
    expect(held).toHaveLength(1);
    expect(held[0]!.record).toEqual(record);
    expect(held[0]!.flows).toEqual(flows);
  });

  it('leaves nothing behind for a discarded draft, and a draft in flight is never read as held', async () => {
    const text = snapshotText(flows);
    const inFlight = records.draftHeld(text);
    const discarded = records.draftHeld(text);
    await discarded.discard();
    expect(await records.readHeld()).toEqual([]);

    await inFlight.discard();
    expect(await readdir(join(userDir, 'countersign-gate', 'held'))).toEqual([]);
  });

  it('keeps nothing under an id that is not a safe file name', async () => {
    const text = snapshotText(flows);
    const draft = records.draftHeld(text);
    await draft.keep(await recordOf('../escape', text));
    expect(await readdir(join(userDir, 'countersign-gate', 'held'))).toEqual([]);
    expect(await readdir(userDir)).toEqual(['countersign-gate']);
  });

  it('fails the keep, leaving no record, when the draft could not be written', async () => {
    // The gate directory is a file: nothing can be written under it.
    await rm(userDir, { recursive: true, force: true });
    await mkdir(userDir);
    await writeFile(join(userDir, 'countersign-gate'), 'not a directory');
    const text = snapshotText(flows);
    const draft = records.draftHeld(text);
    await expect(draft.keep(await recordOf('dep_2', text))).rejects.toThrow();
    expect(await records.readHeld()).toEqual([]);
  });

  it("removes an earlier process's draft when reading what is held, and keeps this process's own", async () => {
    const dir = join(userDir, 'countersign-gate', 'held');
    await mkdir(dir, { recursive: true });
    const stray = `draft-${process.pid + 1}-abcdef012345.flows.tmp`;
    await writeFile(join(dir, stray), '[]');
    const own = records.draftHeld('[]');
    await own.keep(await recordOf('dep_own', '[]'));
    const inFlight = records.draftHeld('[]');
    await new Promise((r) => setTimeout(r, 50));
    const before = await readdir(dir);
    expect(before).toContain(stray);
    const held = await records.readHeld();
    expect(held.map((h) => h.record.id)).toEqual(['dep_own']);
    const after = await readdir(dir);
    expect(after).not.toContain(stray);
    expect(after.filter((n) => n.startsWith(`draft-${process.pid}-`))).toHaveLength(1);
    await inFlight.discard();
  });
});
