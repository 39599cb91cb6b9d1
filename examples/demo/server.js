// Runs the wsworks demo: `npm start`, then open http://localhost:8080
// PORT and HOST choose where it listens (default: port 8080 on every interface).

import { startDemo } from './app.js';

const port = Number(process.env.PORT ?? 8080);
const demo = await startDemo({
  port,
  host: process.env.HOST || undefined,
  log: (line) => console.log(line),
});
console.log(`demo listening on http://localhost:${demo.port}`);

// Ctrl-C or a service manager's stop: close every client, then exit.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.log(`${signal}: shutting down`);
    await demo.close();
    process.exit(0);
  });
}
