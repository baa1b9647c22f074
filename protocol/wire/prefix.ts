/** The API prefix of 5.7. */
export const API_PREFIX = '/api/v1';
