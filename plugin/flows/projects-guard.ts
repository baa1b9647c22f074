/**
 * Node-RED projects (DESIGN 7; issue 9 item 7). A project action that changes the flows or the
 * credentials does it past the flows API: it writes the files itself (git checkout, pull, revert,
 * merge), switches the files storage reads, or re-keys and wipes the credentials; most then stop
 * every flow before reloading. None of that can be held as one reviewable deployment, so the gate
 * refuses each such action before it starts, with a message saying why, and the flows keep running.
 * Actions that leave the running flows alone (status, diffs, staging, commits, pushes, remotes,
 * branches listed or deleted, project settings other than files and the credential secret) pass.
 */
import { CountersignError } from '../../protocol/index.js';
import { replaceFunction, type ProjectsStorage } from '../runtime-modules.js';

type ProjectData = { credentialSecret?: unknown; resetCredentialSecret?: unknown; files?: unknown };

/** What each guarded action does, for the refusal; the key is its function in projects storage. */
const ALWAYS_REFUSED: Record<string, string> = {
  createProject: 'creating a project (it switches to the new project and reloads its flows)',
  initialiseProject: "initialising a project (it reloads the project's flows)",
  setActiveProject: "switching projects (it loads the other project's flows and credentials)",
  setBranch: 'switching branches (git checkout rewrites the flows files)',
  pull: 'pulling (git pull rewrites the flows files)',
  revertFile: 'reverting a file (it rewrites the flows files)',
  abortMerge: 'aborting a merge (it rewrites the flows files)',
  resolveMerge: 'resolving a merge (it writes the flows files)',
};

/** Every function of projects storage the guard wraps; one missing stops the start. */
export const GUARDED_PROJECT_FUNCTIONS = [
  ...Object.keys(ALWAYS_REFUSED),
  'updateProject',
  'commit',
  'getActiveProject',
] as const;

/** The refusal a guarded action answers with (403 `ERR_PROJECTS_REFUSED`, `{code, message}`). */
export function projectsRefusal(action: string): CountersignError {
  return new CountersignError(
    'ERR_PROJECTS_REFUSED',
    `Countersign refused ${action}: it would change the running flows or credentials without an approval. ` +
      'Nothing changed and the flows keep running. To run flows from a project, import them in the editor and deploy them for approval.',
  );
}

/** The reason `updateProject` with `data` is refused, or null when it may pass. */
function updateRefusal(data: unknown): string | null {
  const d = (typeof data === 'object' && data !== null ? data : {}) as ProjectData;
  if (d.resetCredentialSecret !== undefined || d.credentialSecret !== undefined) {
    return "changing or resetting the project's credential secret (it re-keys or wipes the credentials)";
  }
  if (d.files !== undefined) return "changing the project's flow or credentials files";
  return null;
}

/** Checks that every function the guard wraps is there (Node-RED 4.1 and 5.x have them all). */
export function checkProjects(projects: ProjectsStorage): void {
  for (const name of GUARDED_PROJECT_FUNCTIONS) {
    if (typeof projects[name] !== 'function') {
      throw new CountersignError(
        'ERR_GATE_UNSUPPORTED',
        `cannot guard this Node-RED: storage.projects.${name} is missing, so a project action could bypass approval`,
      );
    }
  }
}

type AnyFn = (...args: unknown[]) => unknown;

/** Wraps the project actions that change flows or credentials so that they are refused. */
export function guardProjects(projects: ProjectsStorage): void {
  checkProjects(projects);
  for (const [name, action] of Object.entries(ALWAYS_REFUSED)) {
    replaceFunction(projects, name, async function refused(): Promise<never> {
      throw projectsRefusal(action);
    });
  }
  const update = (projects.updateProject as AnyFn).bind(projects);
  replaceFunction(projects, 'updateProject', async function updateProject(...args: unknown[]) {
    const refusal = updateRefusal(args[2]);
    if (refusal) throw projectsRefusal(refusal);
    return update(...args);
  });
  const commit = (projects.commit as AnyFn).bind(projects);
  replaceFunction(projects, 'commit', async function commit_(...args: unknown[]) {
    // Committing the end of a merge reloads the merged flows files.
    if (projects.getActiveProject(args[0])?.isMerging?.() === true) {
      throw projectsRefusal('completing a merge (it reloads the merged flows files)');
    }
    return commit(...args);
  });
}
