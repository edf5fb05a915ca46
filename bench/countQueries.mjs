import { AsyncLocalStorage } from 'node:async_hooks';
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';

/**
 * Preloaded (`node --import ./bench/countQueries.mjs`) into a process by `npm run bench:roundtrips`:
 * counts the `pg` queries the process sends (each is one round trip to the server: node-pg sends
 * one query at a time per connection), those sent while handling an HTTP request apart from the
 * others (timers: the scheduler, senders, prunes), and writes "<in requests> <others>" to
 * $COUNT_QUERIES_FILE every 100 ms. Never loaded by the service itself.
 */
const file = process.env.COUNT_QUERIES_FILE;
if (file) {
  const inRequest = new AsyncLocalStorage();
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function emitting(event, ...args) {
    return event === 'request' ? inRequest.run(true, () => emit.call(this, event, ...args)) : emit.call(this, event, ...args);
  };
  const counts = [0, 0];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(...args) {
    counts[inRequest.getStore() ? 0 : 1]++;
    return query.apply(this, args);
  };
  let written = '';
  setInterval(() => {
    const now = counts.join(' ');
    if (now === written) return;
    // Written aside and renamed over, so a reader never sees half of it.
    writeFileSync(`${file}.tmp`, (written = now));
    renameSync(`${file}.tmp`, file);
  }, 100).unref();
}
