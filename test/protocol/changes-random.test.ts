import { describe, expect, it } from 'vitest';
import { computeChanges, type CredentialFields } from '../../protocol/index.js';
import { loadFlows, realFlowsFiles } from '../helpers/fixtures.js';
import { cloneFlows, MUTATIONS, mutate, rng, type Mutation } from '../helpers/mutations.js';

// A new seed each run widens the search; a failure prints it, and COUNTERSIGN_SEED replays it.
const seed = Number(process.env.COUNTERSIGN_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = 300;

describe(`random mutations of real flows (COUNTERSIGN_SEED=${seed})`, () => {
  const files = realFlowsFiles()
    .map(([name, path]) => ({ name, flows: loadFlows(path) }))
    .filter(({ flows }) => flows.filter((n) => n.type === 'tab').length >= 2);

  it(`shows every mutated node in exactly one change over ${ROUNDS} rounds`, () => {
    const random = rng(seed);
    let checked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const file = files[Math.floor(random() * files.length)]!;
      const target = cloneFlows(file.flows);
      const used = new Set<string>();
      const counter = { n: 0 };
      const done: Mutation[] = [];
      const count = 1 + Math.floor(random() * 8);
      for (let i = 0; i < count; i++) {
        const name = MUTATIONS[Math.floor(random() * MUTATIONS.length)]!;
        const mutation = mutate(target, name, random, used, counter);
        if (mutation) done.push(mutation);
      }
      const credentials: CredentialFields = Object.assign(
        {},
        ...done.map((m) => m.credentials ?? {}),
      );
      const changes = computeChanges(file.flows, target, credentials);
      const context = `seed ${seed}, round ${round}, ${file.name}: ${done.map((m) => m.name).join(', ')}`;

      const subjects = changes.flatMap((c) => c.nodes ?? [c.node!.id]);
      for (const mutation of done) {
        for (const id of mutation.touched) {
          expect(subjects.filter((s) => s === id).length, `${context}: ${id}`).toBe(1);
          checked++;
        }
      }
      const touched = new Set(done.flatMap((m) => m.touched));
      expect(
        subjects.filter((s) => !touched.has(s)),
        context,
      ).toEqual([]);
      const expectedIds = new Set(done.flatMap((m) => m.changeIds));
      expect(changes.map((c) => c.id).sort(), context).toEqual([...expectedIds].sort());
    }
    expect(checked).toBeGreaterThan(ROUNDS);
  });
});
