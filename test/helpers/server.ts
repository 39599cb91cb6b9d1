/**
 * Starting a real WSServer on 127.0.0.1 for a test, recording its events, and the list of
 * engines every protocol test runs against.
 */
import { WSServer, type WSServerOptions } from '../../src/index.js';
import type { WSServerEvents } from '../../src/events.js';
import { engineNames } from '../../src/engine/index.js';

/** Every engine the protocol suite runs once per (`describe.each(ENGINES)`). */
export const ENGINES: readonly string[] = engineNames();

export interface TestServer {
  server: WSServer;
  port: number;
  url: string;
  /** Every event fired, in order, with its name. */
  events: Array<{ name: keyof WSServerEvents; event: WSServerEvents[keyof WSServerEvents] }>;
  /** Connection ids by the client's local (the server's remote) port, recorded on `connected`. */
  idByPort: Map<number, string>;
  /**
   * Resolves with the `disconnected` event of the connection whose client used local port
   * `clientPort` (e.g. `raw.socket.localPort`).
   */
  disconnectedFor(clientPort: number, timeoutMs?: number): Promise<WSServerEvents['disconnected']>;
  /** Resolves with the first event of `name` matching `filter` (already fired or future). */
  waitFor<K extends keyof WSServerEvents>(name: K, filter?: (e: WSServerEvents[K]) => boolean, timeoutMs?: number): Promise<WSServerEvents[K]>;
  close(): Promise<void>;
}

const EVENT_NAMES: Array<keyof WSServerEvents> = [
  'connected', 'connectionRequest', 'dataIn', 'disconnected', 'error', 'log', 'ping', 'readyToSend',
  'sslClientAuthentication', 'sslConnectionRequest', 'sslStatus', 'webSocketOpenRequest',
];

/**
 * Starts a server on 127.0.0.1 with a free port. `setup` runs before listening (add listeners,
 * config). Events are recorded from the start.
 */
export async function startServer(
  options: WSServerOptions & { setup?: (server: WSServer) => void } = {},
): Promise<TestServer> {
  const { setup, ...serverOptions } = options;
  const server = new WSServer({ localHost: '127.0.0.1', localPort: 0, ...serverOptions });
  const events: TestServer['events'] = [];
  const idByPort = new Map<number, string>();
  const listeners: Array<() => void> = [];
  for (const name of EVENT_NAMES) {
    server.on(name, (event: WSServerEvents[typeof name]) => {
      if (name === 'connected') {
        const id = (event as WSServerEvents['connected']).connectionId;
        const remotePort = server.connections.get(id)?.remotePort;
        if (remotePort !== undefined) idByPort.set(remotePort, id);
      }
      events.push({ name, event });
      for (const l of [...listeners]) l();
    });
  }
  setup?.(server);
  await server.startListening();
  const port = server.localPort;
  const testServer: TestServer = {
    server,
    port,
    url: `ws://127.0.0.1:${port}`,
    events,
    idByPort,
    disconnectedFor(clientPort, timeoutMs = 5000) {
      return testServer.waitFor('disconnected', (e) => idByPort.get(clientPort) === e.connectionId, timeoutMs);
    },
    waitFor(name, filter, timeoutMs = 5000) {
      type E = WSServerEvents[typeof name];
      const find = (): E | undefined =>
        events.find((e) => e.name === name && (!filter || filter(e.event as E)))?.event as E | undefined;
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise<E>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.splice(listeners.indexOf(check), 1);
          reject(new Error(`timed out waiting for ${name}`));
        }, timeoutMs);
        const check = (): void => {
          const e = find();
          if (!e) return;
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(check), 1);
          resolve(e);
        };
        listeners.push(check);
      });
    },
    async close() {
      await server.shutdown();
    },
  };
  return testServer;
}
