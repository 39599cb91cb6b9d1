// Types of app.js, for the TypeScript tests that start the demo.
import type { Server } from 'node:http';
import type { WSServer } from 'wsworks';

export interface DemoOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to listen on; default all interfaces. */
  host?: string;
  /** Receives one line per connection event; default: silent. */
  log?: (line: string) => void;
}

export interface Demo {
  /** The port the demo listens on (the chosen one when 0 was asked for). */
  readonly port: number;
  /** The WSServer handling /echo and /chat, attached to `httpServer`. */
  readonly wsServer: WSServer;
  /** The http.Server serving the page and the WebSocket upgrades. */
  readonly httpServer: Server;
  /** Closes every WebSocket, stops the HTTP server; resolves when both are done. */
  close(): Promise<void>;
}

export function startDemo(options?: DemoOptions): Promise<Demo>;
