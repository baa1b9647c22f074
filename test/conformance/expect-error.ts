/** The error answer every conformance test expects (DESIGN 5.7): a status and a `{code, message}` body. */
import { expect } from 'vitest';
import type { Reply } from './client.js';

/** Expects `status` and a body of exactly `{code, message}`; `code` when given, else any `ERR_…` code. */
export function expectError(reply: Reply, status: number, code?: string): void {
  expect({ status: reply.status, body: reply.body }).toEqual({
    status,
    body: { code: code ?? expect.stringMatching(/^ERR_/), message: expect.any(String) },
  });
}
