// Echo server: every message comes back to its sender with the same type.
// Run: node examples/echo.js (PORT=9001 by default), then in a browser console:
//   ws = new WebSocket('ws://localhost:9001'); ws.onmessage = (m) => console.log(m.data); ws.send('hi')
import { WSServer } from 'wsworks';

const server = new WSServer();
server.localPort = Number(process.env.PORT ?? 9001);
server.config('BufferMessage=True'); // one dataIn per whole message, not per fragment

server.on('dataIn', (e) => {
  try {
    // dataFormat 1 is text (UTF-8), 2 is binary; e.text holds the bytes either way.
    const sent = e.dataFormat === 2
      ? server.sendBytes(e.connectionId, e.text)
      : server.sendText(e.connectionId, e.text.toString('utf8'));
    sent.catch(() => {}); // the client may be gone already; 'disconnected' says so
  } catch (err) {
    console.error(`not echoed to ${e.connectionId}: ${err.message}`); // 10035: its queue is full
  }
});
server.on('connected', (e) => console.log(`${e.connectionId} connected`));
server.on('disconnected', (e) => console.log(`${e.connectionId} closed: ${e.statusCode} ${e.description}`));
server.on('error', (e) => console.error(`${e.connectionId}: [${e.errorCode}] ${e.description}`));

await server.startListening();
console.log(`echo server on ws://localhost:${server.localPort}`);

// Ctrl-C: close every client, stop listening, exit.
process.once('SIGINT', async () => {
  await server.shutdown();
  process.exit(0);
});
