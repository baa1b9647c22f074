/**
 * Resolves after one full turn of the event loop (timers and I/O included). Work split by it lets
 * other requests and, when the server is embedded, Node-RED's own flows run in between: a big
 * body's steps (hash, decode, parse, check), and the log appends and change-list writes that follow
 * a commit (they start after the answers and pushes that turn began, and the I/O they bring back).
 */
export function nextTurn(): Promise<void> {
  // Called from an I/O callback, a first setImmediate runs before the timers of the next turn;
  // the second one runs after them.
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
