/** The change model of 5.2 (and the `module` change of 7.1). */
import type { ModuleChange } from '../module.js';

/** What a change is about. */
export type ChangeKind =
  'flow' | 'subflow' | 'node' | 'config' | 'wiring' | 'layout' | 'credentials' | 'module';

/** What happened to the subject. */
export type ChangeOp = 'added' | 'removed' | 'changed';

/** How much a change can do. */
export type Risk = 'high' | 'medium' | 'low';

/** One connection: a wire from an output port, or a link between link nodes. */
export type Edge = { from: string; port: number; to: string; via?: 'wire' | 'link' };

/** A containing tab or subflow. */
export type FlowRef = { id: string; label: string };

/** One reviewable change; `id` is `${kind}:${subjectId}` and unique within a deployment. */
export type Change = {
  id: string;
  kind: ChangeKind;
  op: ChangeOp;
  flow: FlowRef | null;
  node?: { id: string; type: string; name?: string };
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  delta?: unknown;
  edges?: { added: Edge[]; removed: Edge[] };
  nodes?: string[];
  fields?: string[];
  /** kind 'module' (7.1): the module descriptor and the running flows that use its types. */
  module?: ModuleChange;
  risk: Risk;
};
