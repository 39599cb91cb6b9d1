/**
 * Starting a real WSServer on 127.0.0.1 for a test, recording its events, shutting it down after
 * the test, and the list of engines every protocol test runs against.
 */
import { afterEach, vi } from 'vitest';
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

/** WSServer options, plus `setup`, which runs before listening (add listeners, config). */
export type StartServerOptions = WSServerOptions & { setup?: (server: WSServer) => void };

/**
 * Starts a server on 127.0.0.1 with a free port. `setup` runs before listening (add listeners,
 * config). Events are recorded from the start.
 */
export async function startServer(options: StartServerOptions = {}): Promise<TestServer> {
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

/** One step of a test's teardown: closing a client, a socket or a server, clearing a timer. */
export type Cleanup = () => Promise<void> | void;

/** What {@link cleanUpAfterEachTest} gives a test file. */
export interface TestTeardown {
  /**
   * The running test's teardown, run after it last-registered-first, so a client registered after
   * its server is closed before that server shuts down. One list for the whole file: tests in a
   * `describe.concurrent` must close their own servers instead.
   */
  cleanups: Cleanup[];
  /** {@link startServer}, with the server's shutdown registered in `cleanups`. */
  started(options?: StartServerOptions): Promise<TestServer>;
}

/**
 * Call once at the top of a test file: registers an `afterEach` that runs what the test put in
 * `cleanups` (newest first), then restores `vi.spyOn` spies. The spies go last because a spy on
 * a prototype (`net.Socket`, `http.Server`) may be in use until the servers are shut down, and
 * must not leak into the next test.
 */
export function cleanUpAfterEachTest(): TestTeardown {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    vi.restoreAllMocks();
  });
  return {
    cleanups,
    async started(options = {}) {
      const ts = await startServer(options);
      cleanups.push(() => ts.close());
      return ts;
    },
  };
}
