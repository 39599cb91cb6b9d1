// Broadcast server: every text message a client sends goes to every connected client.
// Run: node examples/broadcast.js   (PORT=9002 by default)
import { WSServer, WSServerError } from 'wsworks';

const server = new WSServer();
server.localPort = Number(process.env.PORT ?? 9002);
server.config('BufferMessage=True'); // one dataIn per whole message

server.on('dataIn', (e) => {
  if (e.dataFormat !== 1) return; // text only
  const line = `${e.connectionId}: ${e.text.toString('utf8')}`;
  for (const id of server.connections.keys()) {
    try {
      server.sendText(id, line).catch(() => {}); // a client that left meanwhile is not an error here
    } catch (err) {
      // 10035: this client's outgoing queue is full (a slow reader). Skip it; the others still get the line.
      if (!(err instanceof WSServerError && err.code === 10035)) console.error(`${id}: ${err.message}`);
    }
  }
});
server.on('error', (e) => console.error(`${e.connectionId}: [${e.errorCode}] ${e.description}`));

await server.startListening();
console.log(`broadcast server on ws://localhost:${server.localPort}`);

process.once('SIGINT', async () => {
  await server.shutdown(); // closes every client with 1000
  process.exit(0);
});
