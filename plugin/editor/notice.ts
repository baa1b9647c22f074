/**
 * The editor notice (DESIGN 7): the gate tells open editors, through `RED.comms`, that a deployment
 * is waiting for approval and what became of it. The editor is untrusted; this is convenience only
 * and nothing sent back could approve anything (the editor plugin only listens).
 */

/** The topic the editor plugin (plugin/index.html) subscribes to. */
export const NOTICE_TOPIC = 'countersign/deployment';

/**
 * One notice. `status` is `held`, `unreachable`, `applying` (approved and verified, about to be
 * applied: `rev` is the rev Node-RED will report), a final state, or `drift`. A rejection carries
 * the approver (`by`) and their `note`.
 */
export type Notice = {
  id: string | null;
  status: string;
  message: string;
  rev?: string;
  by?: string;
  note?: string;
};

/** Publishes notices to the editor; a missing comms API makes it a no-op. */
export function createNotifier(
  comms: { publish?: (topic: string, data: unknown, retain?: boolean) => void } | undefined,
) {
  return (notice: Notice): void => {
    try {
      comms?.publish?.(NOTICE_TOPIC, notice, false);
    } catch {
      // The notice is a convenience; the gate does not depend on it.
    }
  };
}
