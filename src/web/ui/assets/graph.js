// The expression browser: panels with an expression box (metric-name completion and a query
// history kept in localStorage), a Table tab (instant query) and a Graph tab (range query,
// drawn by graph-plot.js). The panels' state is mirrored into the URL with Prometheus's
// parameter names (g0.expr, g0.tab, g0.range_input, g0.end_input, g0.moment_input,
// g0.step_input, g0.stacked), so a link or a reload shows the same thing.
// Text from the server is only ever inserted with textContent.
'use strict';

(function () {
  const HISTORY_KEY = 'pyrometer.queryHistory';
  const HISTORY_MAX = 50;
  // Rendering more rows than this makes the page slow and is no use to read.
  const TABLE_MAX_ROWS = 2000;
  const COMPLETE_MAX = 60;
  // The range presets the -/+ buttons step through.
  const RANGES = ['1m', '5m', '15m', '30m', '1h', '2h', '6h', '12h', '1d', '2d', '1w', '2w', '4w', '8w', '1y'];
  // Aim for about this many points across the graph when the step is automatic.
  const AUTO_POINTS = 250;
  // PromQL functions and aggregation operators offered by the completion (Prometheus 3.x).
  const FUNCTIONS = ['abs', 'absent', 'absent_over_time', 'avg', 'avg_over_time', 'bottomk', 'ceil',
    'changes', 'clamp', 'clamp_max', 'clamp_min', 'count', 'count_over_time', 'count_values',
    'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'delta', 'deriv', 'exp', 'floor',
    'group', 'histogram_avg', 'histogram_count', 'histogram_fraction', 'histogram_quantile',
    'histogram_stddev', 'histogram_stdvar', 'histogram_sum', 'hour', 'idelta', 'increase', 'irate', 'label_join',
    'label_replace', 'last_over_time', 'limitk', 'limit_ratio', 'ln', 'log10', 'log2', 'max',
    'max_over_time', 'min', 'min_over_time', 'minute', 'month', 'predict_linear',
    'present_over_time', 'quantile', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar',
    'sgn', 'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev',
    'stddev_over_time', 'stdvar', 'stdvar_over_time', 'sum', 'sum_over_time', 'time',
    'timestamp', 'topk', 'vector', 'year'];

  const panelsEl = document.getElementById('panels');
  const panels = [];
  let metricNames = [];

  // ---- durations and times --------------------------------------------------------------

  const UNITS = { y: 31536000, w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

  /** Seconds in a Prometheus duration such as "1h30m", or null. */
  function parseDuration(s) {
    const text = String(s || '').trim();
    if (!/^(\d+(ms|y|w|d|h|m|s))+$/.test(text)) return null;
    let total = 0;
    for (const m of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(m[1]) * UNITS[m[2]];
    return total > 0 ? total : null;
  }

  function formatDuration(sec) {
    let rest = Math.round(sec * 1000);
    let out = '';
    for (const [u, f] of [['y', 31536000000], ['w', 604800000], ['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000], ['ms', 1]]) {
      if (rest >= f) { out += Math.floor(rest / f) + u; rest %= f; }
    }
    return out || '0s';
  }

  /** "2024-05-01 12:00:00" (UTC), an RFC 3339 time or Unix seconds → Unix seconds, or null. */
  function parseTime(s) {
    const text = String(s || '').trim();
    if (text === '' || text === 'now') return null;
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
    const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?$/.test(text) ? text.replace(' ', 'T') + 'Z' : text;
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? null : ms / 1000;
  }

  function formatTime(sec) {
    return new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ');
  }

  // ---- URL state ------------------------------------------------------------------------

  /** Panels described by the page URL; accepts both Prometheus 2 and 3 parameter names. */
  function panelsFromUrl() {
    const q = new URLSearchParams(window.location.search);
    const out = [];
    for (let i = 0; q.has('g' + i + '.expr') || q.has('g' + i + '.tab'); i++) {
      const get = k => q.get('g' + i + '.' + k);
      const tab = get('tab');
      out.push({
        expr: get('expr') || '',
        tab: tab === '0' || tab === 'graph' ? 'graph' : 'table',
        range: parseDuration(get('range_input') || get('range')) || 3600,
        end: parseTime(get('end_input') || get('end_time')),
        moment: parseTime(get('moment_input')),
        step: parseDuration(get('step_input') || get('res_step')) || (Number(get('step_input')) || null),
        stacked: get('stacked') === '1' || get('display_mode') === 'stacked',
      });
    }
    return out;
  }

  function writeUrl() {
    const q = new URLSearchParams();
    panels.forEach((p, i) => {
      const s = p.state;
      const g = 'g' + i + '.';
      q.set(g + 'expr', s.expr);
      q.set(g + 'tab', s.tab === 'graph' ? '0' : '1');
      q.set(g + 'stacked', s.stacked ? '1' : '0');
      q.set(g + 'range_input', formatDuration(s.range));
      if (s.end !== null) q.set(g + 'end_input', formatTime(s.end));
      if (s.moment !== null) q.set(g + 'moment_input', formatTime(s.moment));
      if (s.step !== null) q.set(g + 'step_input', String(s.step));
    });
    window.history.replaceState(null, '', '/graph?' + q.toString());
  }

  // ---- query history --------------------------------------------------------------------

  function loadHistory() {
    try {
      const h = JSON.parse(window.localStorage.getItem(HISTORY_KEY) || '[]');
      return Array.isArray(h) ? h.filter(x => typeof x === 'string') : [];
    } catch (e) {
      return [];
    }
  }

  function remember(expr) {
    const h = [expr].concat(loadHistory().filter(x => x !== expr)).slice(0, HISTORY_MAX);
    try { window.localStorage.setItem(HISTORY_KEY, JSON.stringify(h)); } catch (e) { /* storage full or disabled */ }
  }

  // ---- API ------------------------------------------------------------------------------

  /** GET an API path; resolves to `data` or rejects with the API's error text. */
  async function api(path, params) {
    const resp = await fetch(path + '?' + new URLSearchParams(params).toString());
    let body;
    try {
      body = await resp.json();
    } catch (e) {
      throw new Error('HTTP ' + resp.status + ' from ' + path + ' (not JSON)');
    }
    if (body.status !== 'success') {
      throw new Error((body.errorType ? body.errorType + ': ' : '') + (body.error || 'HTTP ' + resp.status));
    }
    return { data: body.data, warnings: body.warnings || [] };
  }

  // ---- small DOM helpers ----------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c) e.appendChild(c);
    return e;
  }

  function showError(box, err) {
    box.textContent = '';
    box.appendChild(el('div', { class: 'alert-error', text: 'Error executing query: ' + err.message }));
  }

  // ---- completion -----------------------------------------------------------------------

  /** The dropdown under the expression box: matching history entries and metric names. */
  function attachCompletion(input, onPick) {
    const box = el('div', { class: 'complete' });
    box.style.display = 'none';
    input.parentNode.appendChild(box);
    let items = [];
    let sel = -1;

    function wordBefore() {
      const before = input.value.slice(0, input.selectionStart);
      const m = before.match(/[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      return m ? m[0] : '';
    }

    function close() { box.style.display = 'none'; items = []; sel = -1; }

    function render() {
      box.textContent = '';
      const text = input.value.trim();
      const word = wordBefore();
      const hist = loadHistory().filter(h => h !== text && (text === '' || h.includes(text))).slice(0, 10);
      let names = [];
      let funcs = [];
      if (word !== '') {
        const lw = word.toLowerCase();
        const starts = metricNames.filter(n => n.toLowerCase().startsWith(lw) && n !== word);
        const contains = metricNames.filter(n => !n.toLowerCase().startsWith(lw) && n.toLowerCase().includes(lw));
        names = starts.concat(contains).slice(0, COMPLETE_MAX);
        funcs = FUNCTIONS.filter(f => f.startsWith(lw) && f !== word);
      }
      items = [];
      const add = (title, list, kind) => {
        if (list.length === 0) return;
        box.appendChild(el('div', { class: 'head', text: title }));
        for (const value of list) {
          const item = el('div', { class: 'item', text: value });
          const entry = { value, kind, node: item };
          item.addEventListener('mousedown', ev => { ev.preventDefault(); pick(entry); });
          items.push(entry);
          box.appendChild(item);
        }
      };
      add('Query history', hist, 'history');
      add('Metric names', names, 'metric');
      add('Functions', funcs, 'function');
      sel = -1;
      box.style.display = items.length ? 'block' : 'none';
    }

    function pick(entry) {
      if (entry.kind === 'history') {
        input.value = entry.value;
      } else {
        // A function comes with its opening parenthesis, the cursor inside.
        const text = entry.kind === 'function' ? entry.value + '(' : entry.value;
        const pos = input.selectionStart;
        const start = pos - wordBefore().length;
        input.value = input.value.slice(0, start) + text + input.value.slice(pos);
        input.selectionStart = input.selectionEnd = start + text.length;
      }
      close();
      onPick();
      input.focus();
    }

    function move(d) {
      if (items.length === 0) return;
      if (sel >= 0) items[sel].node.classList.remove('sel');
      sel = (sel + d + items.length) % items.length;
      items[sel].node.classList.add('sel');
      items[sel].node.scrollIntoView({ block: 'nearest' });
    }

    input.addEventListener('input', render);
    input.addEventListener('focus', render);
    input.addEventListener('blur', close);
    input.addEventListener('keydown', ev => {
      const open = box.style.display !== 'none' && items.length > 0;
      if (!open && ev.key === 'ArrowDown') { ev.preventDefault(); render(); }
      else if (open && ev.key === 'ArrowDown') { ev.preventDefault(); move(1); }
      else if (open && ev.key === 'ArrowUp') { ev.preventDefault(); move(-1); }
      else if (open && (ev.key === 'Tab' || ev.key === 'Enter') && sel >= 0) { ev.preventDefault(); pick(items[sel]); }
      else if (ev.key === 'Escape') close();
    });
    return { close };
  }

  // ---- panels ---------------------------------------------------------------------------

  function newState() {
    return { expr: '', tab: 'table', range: 3600, end: null, moment: null, step: null, stacked: false };
  }

  function addPanel(state) {
    const p = { state, plot: null };
    const input = el('textarea', { rows: '1', placeholder: 'Expression (press Shift+Enter for newlines)', 'aria-label': 'Expression', spellcheck: 'false' });
    input.value = state.expr;
    const exec = el('button', { type: 'button', class: 'primary', text: 'Execute' });
    const remove = el('button', { type: 'button', class: 'small', text: 'Remove Panel' });
    const row = el('div', { class: 'expr-row' }, input, exec, remove);

    const tabTable = el('button', { type: 'button', text: 'Table' });
    const tabGraph = el('button', { type: 'button', text: 'Graph' });
    const tabs = el('div', { class: 'tabs' }, tabTable, tabGraph);
    const body = el('div', { class: 'tab-body' });
    const root = el('div', { class: 'panel' }, row, tabs, body);
    panelsEl.appendChild(root);
    p.root = root;
    const completion = attachCompletion(input, () => { state.expr = input.value; });

    const run = () => {
      completion.close();
      state.expr = input.value.trim();
      if (state.expr !== '') remember(state.expr);
      writeUrl();
      render(p, body);
    };
    exec.addEventListener('click', run);
    input.addEventListener('keydown', ev => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.defaultPrevented) { ev.preventDefault(); run(); }
    });
    const setTab = t => {
      state.tab = t;
      tabTable.classList.toggle('on', t === 'table');
      tabGraph.classList.toggle('on', t === 'graph');
      writeUrl();
      render(p, body);
    };
    tabTable.addEventListener('click', () => setTab('table'));
    tabGraph.addEventListener('click', () => setTab('graph'));
    remove.addEventListener('click', () => {
      if (p.plot) p.plot.destroy();
      root.remove();
      panels.splice(panels.indexOf(p), 1);
      writeUrl();
    });
    panels.push(p);
    tabTable.classList.toggle('on', state.tab === 'table');
    tabGraph.classList.toggle('on', state.tab === 'graph');
    render(p, body);
  }

  function render(p, body) {
    // A newer render supersedes answers still in flight for this panel.
    p.gen = (p.gen || 0) + 1;
    if (p.plot) { p.plot.destroy(); p.plot = null; }
    body.textContent = '';
    if (p.state.tab === 'graph') renderGraph(p, body); else renderTable(p, body);
  }

  /** A text input with buttons on either side (−/+, ←/→) bound to a getter and setter. */
  function stepper(label, value, less, more, onChange, cls) {
    const input = el('input', { type: 'text', class: cls || '', 'aria-label': label, placeholder: label, value });
    const minus = el('button', { type: 'button', class: 'small', text: less[0], title: less[1] });
    const plus = el('button', { type: 'button', class: 'small', text: more[0], title: more[1] });
    input.addEventListener('change', () => onChange(input.value, 0));
    input.addEventListener('keydown', ev => { if (ev.key === 'Enter') onChange(input.value, 0); });
    minus.addEventListener('click', () => onChange(input.value, -1));
    plus.addEventListener('click', () => onChange(input.value, 1));
    return [minus, input, plus];
  }

  async function renderTable(p, body) {
    const s = p.state;
    const controls = el('div', { class: 'tab-controls' });
    const out = el('div');
    body.append(controls, out);
    controls.append(el('span', { text: 'Evaluation time:' }),
      ...stepper('now', s.moment === null ? '' : formatTime(s.moment), ['\u2190', 'earlier'], ['\u2192', 'later'], (v, d) => {
        const base = parseTime(v);
        const t = base === null ? Date.now() / 1000 : base;
        s.moment = d === 0 ? base : t + d * 3600;
        writeUrl();
        render(p, body);
      }));
    const stats = el('span', { class: 'stats' });
    controls.appendChild(stats);
    if (s.expr === '') {
      out.appendChild(el('p', { class: 'muted', text: 'No query executed yet.' }));
      return;
    }
    const params = { query: s.expr };
    if (s.moment !== null) params.time = String(s.moment);
    const t0 = performance.now();
    const gen = p.gen;
    try {
      const { data, warnings } = await api('/api/v1/query', params);
      if (gen !== p.gen) return;
      warnings.forEach(w => out.appendChild(el('div', { class: 'alert-info', text: 'Warning: ' + w })));
      const rows = resultRows(data);
      stats.textContent = 'Load time: ' + Math.round(performance.now() - t0) + 'ms  Result series: ' + rows.length;
      const tbody = el('tbody');
      const table = el('table', { class: 'result' }, tbody);
      if (rows.length === 0) tbody.appendChild(el('tr', {}, el('td', { class: 'muted', text: 'Empty query result' })));
      for (const [series, value] of rows.slice(0, TABLE_MAX_ROWS)) {
        tbody.appendChild(el('tr', { class: 'sample' }, el('td', { class: 'series', text: series }), el('td', { class: 'value', text: value })));
      }
      if (rows.length > TABLE_MAX_ROWS) {
        out.appendChild(el('div', { class: 'alert-info', text: 'Showing the first ' + TABLE_MAX_ROWS + ' of ' + rows.length + ' series; refine the query to see the others.' }));
      }
      out.appendChild(table);
    } catch (err) {
      showError(out, err);
    }
  }

  /** [series text, value text] rows for any result type of an instant query. */
  function resultRows(data) {
    const name = PyrometerPlot.seriesName;
    switch (data.resultType) {
      case 'vector':
        return data.result.map(r => [name(r.metric), r.value ? r.value[1] : (r.histogram ? 'native histogram' : '')]);
      case 'matrix':
        return data.result.map(r => [name(r.metric), (r.values || []).map(([t, v]) => v + ' @' + t).join('\n')]);
      case 'scalar':
        return [['scalar', data.result[1]]];
      case 'string':
        return [['string', data.result[1]]];
      default:
        return [];
    }
  }

  async function renderGraph(p, body) {
    const s = p.state;
    const controls = el('div', { class: 'tab-controls' });
    const out = el('div');
    body.append(controls, out);
    const rerun = () => { writeUrl(); render(p, body); };
    const rangeCtl = stepper('range', formatDuration(s.range), ['\u2212', 'shorter range'], ['+', 'longer range'], (v, d) => {
      const cur = parseDuration(v) || s.range;
      if (d === 0) { s.range = cur; rerun(); return; }
      const secs = RANGES.map(parseDuration);
      const next = d > 0 ? secs.find(x => x > cur) : secs.slice().reverse().find(x => x < cur);
      s.range = next || cur;
      rerun();
    }, 'short');
    const endCtl = stepper('end time (now)', s.end === null ? '' : formatTime(s.end), ['\u2190', 'earlier'], ['\u2192', 'later'], (v, d) => {
      const base = parseTime(v);
      const t = base === null ? Date.now() / 1000 : base;
      s.end = d === 0 ? base : t + d * s.range / 2;
      rerun();
    });
    const step = el('input', {
      type: 'text', class: 'short', placeholder: 'auto', 'aria-label': 'step',
      title: 'resolution in seconds or as a duration; empty for automatic',
      value: s.step === null ? '' : String(s.step),
    });
    step.addEventListener('change', () => {
      const v = step.value.trim();
      s.step = v === '' ? null : (parseDuration(v) || (Number(v) > 0 ? Number(v) : null));
      rerun();
    });
    const stacked = el('input', { type: 'checkbox', 'aria-label': 'stacked' });
    stacked.checked = s.stacked;
    stacked.addEventListener('change', () => { s.stacked = stacked.checked; rerun(); });
    const stats = el('span', { class: 'stats' });
    controls.append(...rangeCtl, ...endCtl, el('span', { text: 'Res. (s):' }), step,
      el('label', {}, stacked, document.createTextNode(' stacked')), stats);

    if (s.expr === '') {
      out.appendChild(el('p', { class: 'muted', text: 'No query executed yet.' }));
      return;
    }
    const end = s.end === null ? Math.floor(Date.now() / 1000) : s.end;
    const start = end - s.range;
    const stepSec = s.step || Math.max(Math.floor(s.range / AUTO_POINTS), 1);
    const t0 = performance.now();
    const gen = p.gen;
    try {
      const { data, warnings } = await api('/api/v1/query_range', { query: s.expr, start: String(start), end: String(end), step: String(stepSec) });
      if (gen !== p.gen) return;
      warnings.forEach(w => out.appendChild(el('div', { class: 'alert-info', text: 'Warning: ' + w })));
      stats.textContent = 'Load time: ' + Math.round(performance.now() - t0) + 'ms  Resolution: ' + stepSec + 's  Result series: ' + data.result.length;
      if (data.resultType !== 'matrix') {
        throw new Error('the graph needs a range vector result, the query gave ' + data.resultType);
      }
      const chart = el('div', { class: 'graph' });
      out.appendChild(chart);
      if (data.result.length === 0) {
        chart.appendChild(el('p', { class: 'muted', text: 'Empty query result' }));
        return;
      }
      p.plot = PyrometerPlot.draw(chart, data.result, { start, end, step: stepSec, stacked: s.stacked });
    } catch (err) {
      showError(out, err);
    }
  }

  // ---- start ----------------------------------------------------------------------------

  document.getElementById('add-panel').addEventListener('click', () => { addPanel(newState()); writeUrl(); });
  const initial = panelsFromUrl();
  (initial.length ? initial : [newState()]).forEach(addPanel);
  api('/api/v1/label/__name__/values', {})
    .then(({ data }) => { metricNames = Array.isArray(data) ? data : []; })
    .catch(() => { metricNames = []; });
})();
