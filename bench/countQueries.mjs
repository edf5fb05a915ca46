import { writeFileSync } from 'node:fs';
import pg from 'pg';

/**
 * Preloaded (`node --import ./bench/countQueries.mjs`) into a process by `npm run bench:roundtrips`:
 * counts every `pg` query the process sends (each is one round trip to the server: node-pg sends
 * one query at a time per connection) and writes the running total to $COUNT_QUERIES_FILE every
 * 100 ms. Never loaded by the service itself.
 */
const file = process.env.COUNT_QUERIES_FILE;
if (file) {
  let n = 0;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(...args) {
    n++;
    return query.apply(this, args);
  };
  let written = -1;
  setInterval(() => {
    if (n !== written) writeFileSync(file, String((written = n)));
  }, 100).unref();
}
