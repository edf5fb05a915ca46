import type { BoardAgent, BoardData } from './breaks.service.js';

/**
 * The supervisor board: one server-rendered HTML page (no build step, no external assets) with a
 * small inline script that keeps it live from `events/stream` (SSE). Rows are rendered here so the
 * page is readable before the script runs; the script draws today's timeline per agent, ticks the
 * break timers every second, flags breaks over their limit, and applies each pause change as it
 * arrives. Everything the script shows is written with textContent, and the data island is JSON
 * with `<` escaped, so names like `<script>` stay text. The nonce is the page's CSP allowance.
 */

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function row(a: BoardAgent): string {
  const attr = (k: string, v: string) => ` ${k}="${escapeHtml(v)}"`;
  return (
    `<tr${attr('data-cli', a.cli)}${attr('data-pause', String(a.pause))}${attr('data-over', String(a.overLimit))}>` +
    `<td class="agent"><span class="name">${escapeHtml(a.name ?? '')}</span><span class="cli">${escapeHtml(a.cli)}</span></td>` +
    `<td class="status">${a.pause ? 'On break' : 'Available'}</td>` +
    `<td class="reason">${escapeHtml(a.pause ? (a.reason ?? '—') : '')}</td>` +
    `<td class="for"></td>` +
    `<td class="limit">${a.pause && a.limitMinutes > 0 ? `${a.limitMinutes} min` : ''}</td>` +
    `<td class="today"></td>` +
    `<td class="timeline"><div class="track"></div></td></tr>`
  );
}

const STYLE = `
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
body { margin: 0; padding: 1rem 1.5rem; }
header { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: baseline; }
h1 { font-size: 1.3rem; margin: 0; }
#live { font-size: .85rem; padding: .1rem .5rem; border-radius: 1rem; background: #ddd; }
body[data-live="true"] #live { background: #c8f0d2; color: #125c2a; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; background: #fff; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e3e6ea; font-size: .9rem; white-space: nowrap; }
th { font-weight: 600; background: #eef0f3; }
td.agent .name { display: block; font-weight: 600; }
td.agent .cli { color: #5b6472; font-size: .8rem; }
tr[data-pause="true"] td.status { color: #8a5a00; font-weight: 600; }
tr[data-pause="false"] td.status { color: #1f7a3a; }
tr[data-over="true"] { background: #fde8e8; }
tr[data-over="true"] td.status::after { content: " · over limit"; color: #b42318; }
td.timeline { width: 45%; min-width: 240px; }
.track { position: relative; height: 1.1rem; border-radius: 3px;
  background: repeating-linear-gradient(90deg, #f0f2f5 0, #f0f2f5 calc(100%/24 - 1px), #d9dde3 calc(100%/24 - 1px), #d9dde3 calc(100%/24)); }
.seg { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 2px; background: #e6a700; }
.seg.open { background: #f0b400; outline: 1px solid #8a5a00; }
.seg.over { background: #d92d20; }
.now { position: absolute; top: -2px; bottom: -2px; width: 2px; background: #2754c5; }
`;

const SCRIPT = `
(() => {
  const data = JSON.parse(document.getElementById('board-data').textContent);
  const DAY = 86400000;
  const base = '/admin/' + data.stage;
  const dayStart = Date.parse(data.dayStart);
  const skew = Date.parse(data.now) - Date.now();
  const now = () => Date.now() + skew;
  const tbody = document.querySelector('#board tbody');
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone: data.timeZone, hour: '2-digit', minute: '2-digit' });
  const agents = new Map();

  function load(d) {
    agents.clear();
    for (const a of d.agents) agents.set(a.cli, { ...a, since: a.since && Date.parse(a.since), breaks: [] });
    for (const b of d.breaks) agents.get(b.cli)?.breaks.push({ start: Date.parse(b.start), end: b.end && Date.parse(b.end), reason: b.reason });
  }
  function rowOf(cli) {
    let tr = [...tbody.rows].find((r) => r.dataset.cli === cli);
    if (!tr) {
      tr = tbody.insertRow();
      tr.dataset.cli = cli;
      for (const c of ['agent', 'status', 'reason', 'for', 'limit', 'today', 'timeline']) tr.insertCell().className = c;
      tr.cells[0].append(Object.assign(document.createElement('span'), { className: 'name' }), Object.assign(document.createElement('span'), { className: 'cli' }));
      tr.cells[6].append(Object.assign(document.createElement('div'), { className: 'track' }));
    }
    return tr;
  }
  const dur = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const p = (n) => String(n).padStart(2, '0');
    return h ? h + ':' + p(m) + ':' + p(r) : m + ':' + p(r);
  };
  const over = (a, t) => a.pause && a.limitMinutes > 0 && a.since && t - a.since > a.limitMinutes * 60000;

  function render(a) {
    const tr = rowOf(a.cli);
    const t = now();
    tr.dataset.pause = String(a.pause);
    tr.dataset.over = String(Boolean(over(a, t)));
    tr.querySelector('.name').textContent = a.name ?? '';
    tr.querySelector('.cli').textContent = a.cli;
    tr.cells[1].textContent = a.pause ? 'On break' : 'Available';
    tr.cells[2].textContent = a.pause ? (a.reason ?? '—') : '';
    tr.cells[3].textContent = a.pause && a.since ? dur(t - a.since) : '';
    tr.cells[4].textContent = a.pause && a.limitMinutes > 0 ? a.limitMinutes + ' min' : '';
    let total = 0;
    const track = tr.querySelector('.track');
    track.replaceChildren();
    for (const b of a.breaks) {
      const end = b.end ?? t;
      total += end - b.start;
      const seg = document.createElement('div');
      seg.className = 'seg' + (b.end ? '' : ' open');
      const limit = b.reason && data.reasonLimits[b.reason] || data.maxBreakMinutes;
      if (limit > 0 && end - b.start > limit * 60000) seg.classList.add('over');
      seg.style.left = ((b.start - dayStart) / DAY) * 100 + '%';
      seg.style.width = ((end - b.start) / DAY) * 100 + '%';
      seg.title = (b.reason ?? 'break') + ' ' + hm.format(b.start) + '–' + (b.end ? hm.format(b.end) : 'now');
      track.append(seg);
    }
    const mark = document.createElement('div');
    mark.className = 'now';
    mark.style.left = ((t - dayStart) / DAY) * 100 + '%';
    track.append(mark);
    tr.cells[5].textContent = a.breaks.length ? a.breaks.length + ' · ' + dur(total) : '';
  }
  function renderAll() {
    for (const a of agents.values()) render(a);
    document.getElementById('on-break').textContent = String([...agents.values()].filter((a) => a.pause).length);
    document.getElementById('agents').textContent = String(agents.size);
  }
  function apply(e) {
    const at = Date.parse(e.at);
    let a = agents.get(e.cli);
    if (!a) agents.set(e.cli, (a = { cli: e.cli, name: e.name, pause: false, reason: null, since: null, limitMinutes: 0, breaks: [] }));
    const open = a.breaks.find((b) => !b.end);
    if (open) open.end = at;
    if (e.pause) a.breaks.push({ start: at, end: null, reason: e.reason });
    Object.assign(a, { name: e.name, pause: e.pause, reason: e.reason, since: at, limitMinutes: e.limitMinutes });
    renderAll();
  }

  load(data);
  renderAll();
  setInterval(() => (now() - dayStart >= DAY ? location.reload() : renderAll()), 1000);

  let dropped = false;
  const es = new EventSource(base + '/events/stream');
  es.onopen = () => {
    document.body.dataset.live = 'true';
    document.getElementById('live').textContent = 'live';
    // After a dropped stream, changes may have been missed: reload the state once.
    if (dropped) fetch(base + '/board/data', { headers: { accept: 'application/json' } }).then((r) => r.json()).then((d) => { load(d); renderAll(); });
  };
  es.onerror = () => {
    dropped = true;
    document.body.dataset.live = 'false';
    document.getElementById('live').textContent = 'reconnecting…';
  };
  es.addEventListener('pauseChange', (m) => apply(JSON.parse(m.data)));
})();
`;

export function renderBoard(data: BoardData, nonce: string): string {
  const onBreak = data.agents.filter((a) => a.pause).length;
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const stage = escapeHtml(data.stage);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Breaks · ${stage}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body data-stage="${stage}" data-live="false">
<header>
<h1>Supervisor board · ${stage}</h1>
<span id="live">connecting…</span>
<span>On break: <strong id="on-break">${onBreak}</strong> of <span id="agents">${data.agents.length}</span></span>
<a href="/admin/${stage}/reports/breaks?format=csv&amp;from=${encodeURIComponent(data.dayStart)}">Today's report (CSV)</a>
</header>
<table id="board">
<thead><tr><th>Agent</th><th>Status</th><th>Reason</th><th>For</th><th>Limit</th><th>Today</th><th>Today 00:00–24:00 (${escapeHtml(data.timeZone)})</th></tr></thead>
<tbody>
${data.agents.map(row).join('\n')}
</tbody>
</table>
<script type="application/json" id="board-data">${json}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
