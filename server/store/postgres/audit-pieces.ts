/**
 * An audit entry's text in the pieces the database's commit trigger (migration 2) joins once it
 * knows the entry's `seq` and `prev`:
 * - the hashed text, `prev + canonical {seq, at, type, data, prev}` (DESIGN 6, `auditHash`), is
 *   `prev + canonicalHead + prev + '","seq":' + seq + canonicalTail` (RFC 8785 sorts the keys:
 *   at, data, prev, seq, type);
 * - the stored line, `JSON.stringify({seq, at, type, data, prev, hash})`, is
 *   `'{"seq":' + seq + lineMiddle + ',"prev":"' + prev + '","hash":"' + hash + '"}'`.
 */
import { canonicalJson } from '../../../protocol/index.js';

export type AuditPieces = { canonicalHead: string; canonicalTail: string; lineMiddle: string };

export function auditPieces(entry: {
  at: string;
  type: string;
  data: Record<string, unknown>;
}): AuditPieces {
  const { at, type, data } = entry;
  return {
    canonicalHead: `{"at":${canonicalJson(at)},"data":${canonicalJson(data)},"prev":"`,
    canonicalTail: `,"type":${canonicalJson(type)}}`,
    lineMiddle: `,"at":${JSON.stringify(at)},"type":${JSON.stringify(type)},"data":${JSON.stringify(data)}`,
  };
}
