/** The Node-RED runtime API a plugin receives, as far as Countersign uses it. */
export type NodeRedApi = {
  plugins: { registerPlugin(id: string, definition: Record<string, unknown>): void };
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
};

/** Registers the Countersign plugin with Node-RED. */
export async function register(RED: NodeRedApi): Promise<void> {
  RED.plugins.registerPlugin('countersign', { type: 'countersign' });
}
