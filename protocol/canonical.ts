import canonicalizeModule from 'canonicalize';

/**
 * RFC 8785 canonical JSON. `canonicalize` is CommonJS whose declaration claims an ES default export;
 * at run time (Node and Vite alike) the default import is the function itself.
 */
export const canonicalJson = canonicalizeModule as unknown as (
  input: unknown,
) => string | undefined;
