// The scenarios and servers of the end-to-end echo benchmark.

/**
 * `connections` × `window` messages are in flight at once. `metric` is what the chart shows.
 * Idle scenarios open connections and measure the server's memory instead of throughput.
 */
export const SCENARIOS = {
  small: {
    title: 'small — 64 B text, 100 connections',
    message: { kind: 'ascii', size: 64, deflate: false },
    connections: 100,
    window: 64,
    metric: 'msgs',
  },
  medium: {
    title: 'medium — 16 KiB binary, 50 connections',
    message: { kind: 'binary', size: 16 * 1024, deflate: false },
    connections: 50,
    window: 32,
    metric: 'mbps',
  },
  large: {
    title: 'large text — 1 MiB multi-byte UTF-8 (2-, 3- and 4-byte characters), 10 connections',
    message: { kind: 'utf8', size: 1024 * 1024, deflate: false },
    connections: 10,
    window: 2,
    metric: 'mbps',
  },
  idle: {
    title: 'idle — memory per open connection, 10,000 connections, no compression',
    message: { kind: 'ascii', size: 64, deflate: false },
    connections: 10000,
    idle: true,
    metric: 'kbPerConn',
  },
  deflate: {
    title: 'deflate — 16 KiB JSON text with permessage-deflate, 50 connections',
    message: { kind: 'json', size: 16 * 1024, deflate: true },
    connections: 50,
    window: 2,
    metric: 'msgs',
  },
  'deflate-large': {
    title: 'deflate-large — 256 KiB JSON text with permessage-deflate, 50 connections',
    message: { kind: 'json', size: 256 * 1024, deflate: true },
    connections: 50,
    window: 1,
    metric: 'mbps',
  },
  'idle-deflate': {
    title: 'idle-deflate — memory per connection with permessage-deflate, 1,000 connections after one 16 KiB JSON message each',
    message: { kind: 'json', size: 16 * 1024, deflate: true },
    connections: 1000,
    idle: true,
    exchangeOnce: true,
    metric: 'kbPerConn',
  },
  'idle-takeover': {
    title: "idle-takeover — memory per connection with permessage-deflate and context takeover (a browser's offer), 1,000 connections after one 16 KiB JSON message each",
    message: { kind: 'json', size: 16 * 1024, deflate: 'takeover' },
    connections: 1000,
    idle: true,
    exchangeOnce: true,
    metric: 'kbPerConn',
  },
};

/** Servers in table order. wsworks engines that the build does not know are reported "not available". */
export const SERVERS = {
  'wsworks-js': { kind: 'wsworks', engine: 'js', label: 'wsworks js' },
  'wsworks-wasm': { kind: 'wsworks', engine: 'wasm', label: 'wsworks wasm' },
  'wsworks-pool': { kind: 'wsworks', engine: 'pool', label: 'wsworks pool' },
  'wsworks-auto': { kind: 'wsworks', engine: 'auto', label: 'wsworks auto' },
  'ws-js': { kind: 'ws', kernels: 'js', label: 'ws (pure JS)' },
  'ws-native': { kind: 'ws', kernels: 'native', label: 'ws + bufferutil' },
};
