import type { Instance } from './instances.js';

/**
 * The board's Server-Sent Events stream of one instance (docs/http.md §6), its frames collected
 * as { event, data } while the test runs; `close` ends it.
 */
export interface Stream {
  frames: { event: string; data: any }[];
  close(): Promise<void>;
}

export async function openStream(inst: Instance, stage = 'test'): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(`${inst.url}/admin/${stage}/events/stream`, { signal: abort.signal });
  if (res.status !== 200) throw new Error(`stream on ${inst.name}: ${res.status}`);
  const frames: { event: string; data: any }[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) frames.push({ event, data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  return {
    frames,
    async close() {
      abort.abort();
      await pump;
    },
  };
}

/** Poll `find` every 25 ms until it returns something or `ms` pass. */
export async function waitFor<T>(find: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const found = await find();
    if (found !== undefined || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}
