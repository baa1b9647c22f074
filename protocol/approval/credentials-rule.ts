/**
 * T8 for credentials: the digest `creds` (5.1) is null exactly when the deployment sets no
 * credential field. A server that drops the field names of a deployment that sets credentials would
 * otherwise hide that change from the review; the phone refuses to sign such a deployment, and the
 * server refuses such a proposal.
 */
import type { CredentialFields } from '../credentials.js';

/** True when `creds` and the credential field names agree (both empty, or both present). */
export function credsMatchFields(creds: string | null, fields: CredentialFields): boolean {
  const setsFields = Object.values(fields).some((names) => names.length > 0);
  return (creds !== null) === setsFields;
}
