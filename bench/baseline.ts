import express from 'express';

/**
 * The bare baseline every scenario is compared with: Express 5 parsing a JSON, form or text body
 * and echoing it as JSON. Same framework and process model as the service, none of its work.
 * Listens on 127.0.0.1:$PORT and prints one line `listening <port>` when ready.
 */
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '64kb' }));
app.use(express.urlencoded({ extended: false, limit: '64kb' }));
app.use(express.text({ type: ['application/xml', 'text/*'], limit: '64kb' }));
app.all('/{*path}', (req, res) => {
  res.json({ method: req.method, path: req.path, body: req.body ?? null });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : ''}\n`);
});
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
