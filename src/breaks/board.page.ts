import type { BoardAgent, BoardData } from './breaks.service.js';

/**
 * The supervisor board, a wallboard (docs/http.md §8.2, §6): one server-rendered HTML page (no
 * build step, no external assets) with a small inline script that keeps it live from
 * `events/stream` (SSE). Rows are rendered here so the page is readable before the script runs;
 * the script then owns them: it sorts and filters (state, reason, over limit), searches by name
 * or number, ticks the time on break and the time left before the limit every second, gives each
 * reason its colour, draws today's timeline, shows the count on break in the tab title, and
 * applies each pause change as it arrives. An `agentChange` event (an agent added, renamed or
 * removed) reloads the data. When the stream drops, the page says so at once ("not live" with
 * the time), keeps trying, and reloads the data when it is back, so nothing missed stays wrong.
 * Wallboard mode (`?wall=1` or the button) goes full screen with large type; colours follow
 * `prefers-color-scheme`; narrow screens get a card layout. Everything the script writes uses
 * textContent, and the data island is JSON with `<` escaped, so names like `<script>` stay text.
 * The nonce is the page's CSP allowance.
 */

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Reason colours: fixed for the ivr/ reasons in order, then by a hash of the name. */
const PALETTE = ['#e6a700', '#2e90fa', '#12b76a', '#9e77ed', '#f04438', '#ee46bc', '#0bc5ea', '#f79009'];

function row(a: BoardAgent): string {
  const attr = (k: string, v: string) => ` ${k}="${escapeHtml(v)}"`;
  return (
    `<tr${attr('data-cli', a.cli)}${attr('data-pause', String(a.pause))}${attr('data-over', String(a.overLimit))}>` +
    `<td class="agent"><span class="name">${escapeHtml(a.name ?? '')}</span><span class="cli">${escapeHtml(a.cli)}</span></td>` +
    `<td class="status">${a.pause ? 'On break' : 'Available'}</td>` +
    `<td class="reason">${escapeHtml(a.pause ? (a.reason ?? '—') : '')}</td>` +
    `<td class="for"></td>` +
    `<td class="left"></td>` +
    `<td class="today"></td>` +
    `<td class="timeline"><div class="track"></div></td></tr>`
  );
}

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1d2330; --card: #fff; --muted: #5b6472; --line: #e3e6ea; --head: #eef0f3;
  --ok: #1f7a3a; --warn: #8a5a00; --bad: #b42318; --overbg: #fde8e8; --tick: #d9dde3; --tick0: #f0f2f5; --live: #c8f0d2; --liveFg: #125c2a;
  --dead: #fde2e1; --deadFg: #9b1c1c; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
@media (prefers-color-scheme: dark) { :root { --bg: #11151b; --fg: #e6eaf0; --card: #1a2029; --muted: #9aa4b2; --line: #2a3240; --head: #222a35;
  --ok: #5fd38a; --warn: #f5c451; --bad: #ff8a80; --overbg: #3a1d1f; --tick: #364050; --tick0: #222a35; --live: #1d4a2c; --liveFg: #b7f0c8;
  --dead: #4a1f1f; --deadFg: #ffc9c4; } }
body { margin: 0; padding: 1rem 1.5rem; }
header { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center; }
h1 { font-size: 1.3rem; margin: 0; }
#live { font-size: .85rem; padding: .15rem .6rem; border-radius: 1rem; background: var(--dead); color: var(--deadFg); font-weight: 600; }
body[data-live="true"] #live { background: var(--live); color: var(--liveFg); }
#stale { display: none; margin: .75rem 0 0; padding: .5rem .75rem; border-radius: 6px; background: var(--dead); color: var(--deadFg); font-weight: 600; }
body[data-live="false"][data-started="true"] #stale { display: block; }
body[data-live="false"][data-started="true"] #board tbody { opacity: .55; }
.count { font-size: 1.05rem; }
.count strong { font-size: 1.3rem; }
.tools { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: center; margin-top: .75rem; }
.tools input[type=search], .tools select { font: inherit; padding: .3rem .5rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); }
.tools label { font-size: .9rem; color: var(--muted); }
button, .tools a { font: inherit; font-size: .9rem; padding: .3rem .7rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; text-decoration: none; }
form.logout { display: inline; margin: 0; }
table { border-collapse: collapse; width: 100%; margin-top: .75rem; background: var(--card); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); font-size: .9rem; white-space: nowrap; }
th { font-weight: 600; background: var(--head); }
td.agent .name { display: block; font-weight: 600; }
td.agent .cli { color: var(--muted); font-size: .8rem; }
tr[data-pause="true"] td.status { color: var(--warn); font-weight: 600; }
tr[data-pause="false"] td.status { color: var(--ok); }
tr[data-over="true"] { background: var(--overbg); }
tr[data-over="true"] td.left { color: var(--bad); font-weight: 700; }
td.reason .chip { display: inline-block; padding: .05rem .55rem; border-radius: 1rem; color: #111; font-weight: 600; background: var(--reason, #ccc); }
td.timeline { width: 40%; min-width: 220px; }
.track { position: relative; height: 1.1rem; border-radius: 3px;
  background: repeating-linear-gradient(90deg, var(--tick0) 0, var(--tick0) calc(100%/24 - 1px), var(--tick) calc(100%/24 - 1px), var(--tick) calc(100%/24)); }
.seg { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 2px; background: var(--reason, #e6a700); }
.seg.open { outline: 1px solid var(--fg); }
.seg.over { box-shadow: inset 0 -4px 0 #d92d20; }
.now { position: absolute; top: -2px; bottom: -2px; width: 2px; background: #2754c5; }
#empty { display: none; color: var(--muted); padding: 1rem 0; }
body[data-empty="true"] #empty { display: block; }
body.wall { padding: 1.5rem 2rem; }
body.wall .tools, body.wall .links { display: none; }
body.wall h1 { font-size: 2.2rem; }
body.wall .count { font-size: 1.8rem; }
body.wall .count strong { font-size: 2.4rem; }
body.wall th, body.wall td { font-size: 1.5rem; padding: .6rem .8rem; }
body.wall td.agent .cli { font-size: 1rem; }
body.wall .track { height: 1.6rem; }
@media (max-width: 700px) {
  body { padding: .75rem; }
  #board thead { display: none; }
  #board, #board tbody, #board tr, #board td { display: block; width: auto; }
  #board tr { border: 1px solid var(--line); border-radius: 8px; margin-bottom: .6rem; padding: .5rem .6rem; display: grid; grid-template-columns: 1fr auto; gap: .2rem .6rem; }
  #board td { border: 0; padding: 0; white-space: normal; }
  #board td.agent { grid-column: 1 / -1; }
  #board td.timeline, #board td.today { grid-column: 1 / -1; }
  #board td.for:not(:empty)::before { content: "for "; color: var(--muted); }
  #board td.today:not(:empty)::before { content: "today "; color: var(--muted); }
}
`;

const SCRIPT = `
(() => {
  const PALETTE = ${JSON.stringify(PALETTE)};
  let data = JSON.parse(document.getElementById('board-data').textContent);
  const DAY = 86400000;
  const base = '/admin/' + data.stage;
  const $ = (id) => document.getElementById(id);
  const tbody = document.querySelector('#board tbody');
  let skew = Date.parse(data.now) - Date.now();
  const now = () => Date.now() + skew;
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone: data.timeZone, hour: '2-digit', minute: '2-digit' });
  const hms = new Intl.DateTimeFormat('en-GB', { timeZone: data.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const agents = new Map();
  const reasonOrder = Object.keys(data.reasonLimits);
  const params = new URLSearchParams(location.search);

  const colourOf = (reason) => {
    if (!reason) return '#a0a7b4';
    const i = reasonOrder.indexOf(reason);
    if (i !== -1) return PALETTE[i % PALETTE.length];
    let h = 0;
    for (const ch of reason) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return PALETTE[h % PALETTE.length];
  };
  const limitOf = (reason) => (reason && data.reasonLimits[reason]) || data.maxBreakMinutes;

  function load(d) {
    data = d;
    skew = Date.parse(d.now) - Date.now();
    agents.clear();
    for (const a of d.agents) agents.set(a.cli, { ...a, since: a.since && Date.parse(a.since), breaks: [] });
    for (const b of d.breaks) agents.get(b.cli)?.breaks.push({ start: Date.parse(b.start), end: b.end && Date.parse(b.end), reason: b.reason });
    for (const tr of [...tbody.rows]) if (!agents.has(tr.dataset.cli)) tr.remove();
    fillReasons();
  }
  function fillReasons() {
    const sel = $('f-reason');
    const keep = sel.value;
    const seen = new Set(reasonOrder);
    for (const a of agents.values()) if (a.reason) seen.add(a.reason);
    sel.replaceChildren(new Option('any reason', ''), ...[...seen].map((r) => new Option(r, r)));
    sel.value = [...seen].includes(keep) ? keep : '';
  }
  function rowOf(cli) {
    let tr = [...tbody.rows].find((r) => r.dataset.cli === cli);
    if (!tr) {
      tr = tbody.insertRow();
      tr.dataset.cli = cli;
      for (const c of ['agent', 'status', 'reason', 'for', 'left', 'today', 'timeline']) tr.insertCell().className = c;
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
  /** Milliseconds left before the current break's limit (negative: over), or null without a limit. */
  const leftOf = (a, t) => (a.pause && a.limitMinutes > 0 && a.since ? a.limitMinutes * 60000 - (t - a.since) : null);

  function render(a, t) {
    const tr = rowOf(a.cli);
    const left = leftOf(a, t);
    tr.dataset.pause = String(a.pause);
    tr.dataset.over = String(left !== null && left < 0);
    tr.dataset.reason = a.pause ? (a.reason ?? '') : '';
    tr.querySelector('.name').textContent = a.name ?? '';
    tr.querySelector('.cli').textContent = a.cli;
    tr.cells[1].textContent = a.pause ? 'On break' : 'Available';
    tr.cells[2].replaceChildren();
    if (a.pause) {
      const chip = Object.assign(document.createElement('span'), { className: 'chip', textContent: a.reason ?? '—' });
      chip.style.setProperty('--reason', colourOf(a.reason));
      tr.cells[2].append(chip);
    }
    tr.cells[3].textContent = a.pause && a.since ? dur(t - a.since) : '';
    tr.cells[4].textContent = left === null ? '' : left >= 0 ? dur(left) + ' left' : dur(-left) + ' over';
    let total = 0;
    const track = tr.querySelector('.track');
    track.replaceChildren();
    const dayStart = Date.parse(data.dayStart);
    for (const b of a.breaks) {
      const end = b.end ?? t;
      total += end - b.start;
      const seg = document.createElement('div');
      seg.className = 'seg' + (b.end ? '' : ' open');
      seg.style.setProperty('--reason', colourOf(b.reason));
      const limit = limitOf(b.reason);
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
    return tr;
  }

  function visible(a, t) {
    const q = $('search').value.trim().toLowerCase();
    if (q) {
      const digits = q.replace(/[^0-9]/g, '');
      const byName = (a.name ?? '').toLowerCase().includes(q);
      const byNumber = digits.length > 0 && a.cli.replace(/[^0-9]/g, '').includes(digits);
      if (!byName && !byNumber) return false;
    }
    const state = $('f-state').value;
    if (state === 'break' && !a.pause) return false;
    if (state === 'available' && a.pause) return false;
    const reason = $('f-reason').value;
    if (reason && (!a.pause || a.reason !== reason)) return false;
    if ($('f-over').checked) { const l = leftOf(a, t); if (l === null || l >= 0) return false; }
    return true;
  }
  function compare(t) {
    const key = $('sort').value;
    const name = (a) => (a.name ?? a.cli).toLowerCase();
    const byName = (x, y) => name(x).localeCompare(name(y)) || x.cli.localeCompare(y.cli);
    if (key === 'name') return byName;
    if (key === 'left') return (x, y) => (leftOf(x, t) ?? Infinity) - (leftOf(y, t) ?? Infinity) || byName(x, y);
    if (key === 'longest') return (x, y) => (y.pause ? t - y.since : -1) - (x.pause ? t - x.since : -1) || byName(x, y);
    // Default: on break first, those over their limit first, then the longest break.
    return (x, y) => Number(y.pause) - Number(x.pause) || (leftOf(x, t) ?? Infinity) - (leftOf(y, t) ?? Infinity) || byName(x, y);
  }
  function renderAll() {
    const t = now();
    const list = [...agents.values()].sort(compare(t));
    let shown = 0;
    for (const a of list) {
      const tr = render(a, t);
      const show = visible(a, t);
      tr.hidden = !show;
      if (show) shown++;
      tbody.append(tr);
    }
    const onBreak = list.filter((a) => a.pause).length;
    $('on-break').textContent = String(onBreak);
    $('agents').textContent = String(agents.size);
    $('over').textContent = String(list.filter((a) => (leftOf(a, t) ?? 1) < 0).length);
    document.body.dataset.empty = String(shown === 0);
    document.title = '(' + onBreak + ') Breaks · ' + data.stage + (live ? '' : ' · not live');
  }
  function apply(e) {
    const at = Date.parse(e.at);
    let a = agents.get(e.cli);
    if (!a) agents.set(e.cli, (a = { cli: e.cli, name: e.name, pause: false, reason: null, since: null, limitMinutes: 0, breaks: [] }));
    const open = a.breaks.find((b) => !b.end);
    if (open) open.end = at;
    if (e.pause) a.breaks.push({ start: at, end: null, reason: e.reason });
    Object.assign(a, { name: e.name, pause: e.pause, reason: e.reason, since: at, limitMinutes: e.limitMinutes });
    if (e.reason && !$('f-reason').querySelector('option[value="' + CSS.escape(e.reason) + '"]')) fillReasons();
    renderAll();
  }

  // --- Live: the stream, honest about being down, and a reload of the data whenever it is back.
  let live = false;
  let since = null;
  let es = null;
  let lastSeen = Date.now();
  let reloading = null;
  function setLive(on) {
    live = on;
    document.body.dataset.live = String(on);
    if (on) since = null;
    else since ??= Date.now();
    $('live').textContent = on ? 'live' : 'not live';
    $('stale-since').textContent = since ? hms.format(since) : '';
    renderAll();
  }
  function reload() {
    if (reloading) return reloading;
    reloading = fetch(base + '/board/data', { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then((r) => {
        if (r.status === 401) { location.href = '/admin/login?next=' + encodeURIComponent(location.pathname + location.search); return; }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json().then((d) => { load(d); renderAll(); });
      })
      .finally(() => { reloading = null; });
    return reloading;
  }
  let agentReload = null;
  function connect() {
    es = new EventSource(base + '/events/stream');
    es.onopen = () => {
      lastSeen = Date.now();
      const wasDown = document.body.dataset.started === 'true';
      document.body.dataset.started = 'true';
      // Whatever happened while the stream was down is read back before the board says "live".
      if (wasDown) reload().then(() => setLive(true), () => setLive(false));
      else setLive(true);
    };
    es.onmessage = () => { lastSeen = Date.now(); };
    es.onerror = () => {
      document.body.dataset.started = 'true';
      setLive(false);
      // A stream refused outright (503 while the service restarts, 401) is not retried by the
      // browser itself: start a new one.
      if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(connect, 2000); }
    };
    es.addEventListener('pauseChange', (m) => { lastSeen = Date.now(); apply(JSON.parse(m.data)); });
    es.addEventListener('agentChange', () => {
      lastSeen = Date.now();
      clearTimeout(agentReload);
      agentReload = setTimeout(() => reload().catch(() => setLive(false)), 150);
    });
    es.addEventListener('ping', () => { lastSeen = Date.now(); });
  }

  // --- Controls
  for (const id of ['search', 'f-state', 'f-reason', 'f-over', 'sort']) $(id).addEventListener('input', renderAll);
  const wall = () => document.body.classList.contains('wall');
  $('wall').addEventListener('click', () => {
    if (!wall()) { document.body.classList.add('wall'); document.documentElement.requestFullscreen?.().catch(() => {}); }
    else { document.body.classList.remove('wall'); if (document.fullscreenElement) document.exitFullscreen().catch(() => {}); }
    $('wall').textContent = wall() ? 'Exit wallboard' : 'Wallboard';
  });
  document.addEventListener('fullscreenchange', () => { if (!document.fullscreenElement && wall()) { document.body.classList.remove('wall'); $('wall').textContent = 'Wallboard'; } });
  if (params.get('wall') === '1') { document.body.classList.add('wall'); $('wall').textContent = 'Exit wallboard'; }
  if (params.get('q')) $('search').value = params.get('q');

  load(data);
  renderAll();
  connect();
  setInterval(() => {
    // The stream sends a comment every 15 s; a silent minute means a half-open connection.
    if (live && Date.now() - lastSeen > 45000) { es.close(); setLive(false); setTimeout(connect, 0); }
    if (now() - Date.parse(data.dayStart) >= DAY) reload().catch(() => {});
    renderAll();
  }, 1000);
})();
`;

export function renderBoard(data: BoardData, nonce: string, opts: { canLogout: boolean } = { canLogout: false }): string {
  const onBreak = data.agents.filter((a) => a.pause).length;
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const stage = escapeHtml(data.stage);
  const logout = opts.canLogout ? `<form class="logout" method="post" action="/admin/logout"><button type="submit">Sign out</button></form>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>(${onBreak}) Breaks · ${stage}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body data-stage="${stage}" data-live="false" data-started="false">
<header>
<h1>Breaks · ${stage}</h1>
<span id="live" role="status">connecting…</span>
<span class="count">On break <strong id="on-break">${onBreak}</strong> of <span id="agents">${data.agents.length}</span> · over limit <strong id="over">${data.agents.filter((a) => a.overLimit).length}</strong></span>
<span class="links"><a href="/admin/${stage}/reports/breaks?format=csv&amp;from=${encodeURIComponent(data.dayStart)}">Today's report (CSV)</a></span>
<button type="button" id="wall">Wallboard</button>
${logout}
</header>
<p id="stale" role="alert">Not live since <span id="stale-since"></span>: changes made meanwhile are not shown yet. Reconnecting…</p>
<div class="tools">
<input type="search" id="search" placeholder="Search name or number" aria-label="Search name or number">
<label>State <select id="f-state"><option value="">all</option><option value="break">on break</option><option value="available">available</option></select></label>
<label>Reason <select id="f-reason"><option value="">any reason</option></select></label>
<label><input type="checkbox" id="f-over"> over limit only</label>
<label>Sort <select id="sort"><option value="status">on break first</option><option value="left">time left</option><option value="longest">longest break</option><option value="name">name</option></select></label>
</div>
<table id="board">
<thead><tr><th>Agent</th><th>Status</th><th>Reason</th><th>For</th><th>Left</th><th>Today</th><th>Today 00:00–24:00 (${escapeHtml(data.timeZone)})</th></tr></thead>
<tbody>
${data.agents.map(row).join('\n')}
</tbody>
</table>
<p id="empty">No agent matches.</p>
<noscript><p>The board needs JavaScript to stay live; the table shows the state when the page was loaded.</p></noscript>
<script type="application/json" id="board-data">${json}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
