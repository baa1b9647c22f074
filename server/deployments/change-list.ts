import {
  computeChanges,
  moduleChange,
  parseFlows,
  parseModuleBlob,
  type Change,
  type CredentialFields,
  type DeploymentType,
  type Flows,
} from '../../protocol/index.js';

/** Where a change list's snapshots come from, by rev. */
export type SnapshotSource = {
  flows(rev: string): Promise<Flows>;
  text(rev: string): Promise<string>;
};

/** What a change list is computed from: a proposal, or the record it became. */
export type ChangeListInput = {
  type: DeploymentType;
  base: string;
  target: string;
  credentials: CredentialFields;
};

/** The change list of a deployment: of the flows, or for a palette change (7.1) its one `module` change. */
export async function changeListOf(source: SnapshotSource, d: ChangeListInput): Promise<Change[]> {
  const base = await source.flows(d.base);
  if (d.type === 'module')
    return [moduleChange(parseModuleBlob(await source.text(d.target)), base)];
  return computeChanges(base, await source.flows(d.target), d.credentials);
}

/**
 * The change list again from the stored snapshots (each re-hashed as it is read), for a store that
 * lost the file it wrote after the proposal's commit (a crash in between).
 */
export function recomputeChangeList(
  d: ChangeListInput,
  blob: (rev: string) => Promise<Uint8Array | null>,
): Promise<Change[]> {
  const text = async (rev: string): Promise<string> => {
    const bytes = await blob(rev);
    if (!bytes) throw new Error(`the snapshot ${rev.slice(0, 12)} is missing`);
    return Buffer.from(bytes).toString('utf8');
  };
  return changeListOf({ text, flows: async (rev) => parseFlows(JSON.parse(await text(rev))) }, d);
}
