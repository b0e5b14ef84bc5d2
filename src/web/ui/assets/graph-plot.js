// Plots a range-query result (a Prometheus "matrix") with uPlot: one line per series on a
// shared time grid, a legend of label sets (click to hide or show a series) and a hover box
// with the value of the series nearest the cursor. Label text is only ever set with
// textContent, never parsed as HTML.
'use strict';

window.PyrometerPlot = (function () {
  // Distinct, readable line colours; series beyond the list reuse them in order.
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
    '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39'];

  /** `name{a="b", c="d"}` as the Prometheus UI writes a series. */
  function seriesName(metric) {
    const name = metric.__name__ || '';
    const pairs = Object.keys(metric).filter(k => k !== '__name__').sort()
      .map(k => k + '="' + metric[k] + '"');
    if (pairs.length === 0) return name || '{}';
    return name + '{' + pairs.join(', ') + '}';
  }

  /** A sample value from the API ("1.5", "NaN", "+Inf") as a finite number or null. */
  function sampleValue(s) {
    if (s === '+Inf') return null;
    const v = parseFloat(s);
    return Number.isFinite(v) ? v : null;
  }

  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  /** Aligns every series on the grid start, start+step, …, end (seconds). */
  function align(result, start, end, step) {
    const n = Math.floor((end - start) / step) + 1;
    const xs = new Array(n);
    for (let i = 0; i < n; i++) xs[i] = start + i * step;
    const ys = result.map(r => {
      const col = new Array(n).fill(null);
      for (const [t, v] of r.values || []) {
        const i = Math.round((t - start) / step);
        if (i >= 0 && i < n) col[i] = sampleValue(v);
      }
      return col;
    });
    return { xs, ys };
  }

  /** Running sums over the shown series, for the stacked view (gaps stay gaps). */
  function stack(ys, shown) {
    const acc = new Array(ys.length ? ys[0].length : 0).fill(0);
    return ys.map((col, s) => col.map((v, i) => {
      if (v === null || !shown[s]) return v;
      acc[i] += v;
      return acc[i];
    }));
  }

  /** Axis value: four significant digits, exponent form for very large or small values. */
  function formatValue(v) {
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e6 || a < 1e-3) return v.toExponential(2);
    return String(parseFloat(v.toPrecision(4)));
  }

  /** Axis time (UTC): the date for day steps, seconds only when the ticks need them. */
  function formatTick(sec, incr) {
    const iso = new Date(sec * 1000).toISOString();
    if (incr >= 86400) return iso.slice(5, 10);
    if (incr >= 60) return iso.slice(11, 16);
    return iso.slice(11, 19);
  }

  function formatTime(sec) {
    return new Date(sec * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
  }

  /**
   * Draws `result` into `el` (emptied first). Returns a handle with `destroy()`.
   * opts: { start, end, step (seconds), stacked (bool) }.
   */
  function draw(el, result, opts) {
    el.textContent = '';
    const { xs, ys } = align(result, opts.start, opts.end, opts.step);
    const shown = result.map(() => true);
    const names = result.map(r => seriesName(r.metric || {}));
    const points = ys.reduce((n, col) => n + col.filter(v => v !== null).length, 0);
    el.dataset.series = String(result.length);
    el.dataset.points = String(points);

    const chartBox = document.createElement('div');
    chartBox.className = 'chart';
    const hover = document.createElement('div');
    hover.className = 'hover';
    chartBox.appendChild(hover);
    const legend = document.createElement('ul');
    legend.className = 'legend';
    el.append(chartBox, legend);

    const series = [{}];
    const bands = [];
    names.forEach((name, i) => {
      const color = PALETTE[i % PALETTE.length];
      const s = { label: name, stroke: color, width: 1.5, spanGaps: false, points: { show: false } };
      if (opts.stacked) {
        s.fill = alpha(color, 0.35);
        if (i > 0) bands.push({ series: [i + 1, i], fill: alpha(color, 0.35) });
      }
      series.push(s);
    });
    if (opts.stacked) {
      // With bands, each series fills only down to the one below it.
      series.forEach((s, i) => { if (i > 1) delete s.fill; });
    }

    const data = () => [xs].concat(opts.stacked ? stack(ys, shown) : ys);
    const width = () => Math.max(300, el.clientWidth || 800);
    const plot = new uPlot({
      width: width(),
      height: 380,
      series,
      bands,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: [opts.start, opts.end] },
        // A stack is read against zero; plain lines use the data's own range.
        // A flat line gets a band of ±1 around it rather than uPlot's 0..100.
        y: opts.stacked
          ? { range: (u, min, max) => [Math.min(0, min), max > 0 ? max : 1] }
          : { range: (u, min, max) => (min === max ? [min - 1, max + 1] : uPlot.rangeNum(min, max, 0.1, true)) },
      },
      tzDate: ts => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      axes: [
        { values: (u, splits, ax, space, incr) => splits.map(x => formatTick(x, incr)) },
        { size: 70, values: (u, splits) => splits.map(formatValue) },
      ],
      hooks: { setCursor: [u => showHover(u)] },
    }, data(), chartBox);

    function showHover(u) {
      const idx = u.cursor.idx;
      if (idx === null || idx === undefined || u.cursor.left < 0) {
        hover.style.display = 'none';
        return;
      }
      let best = -1;
      let bestDist = Infinity;
      for (let s = 1; s < u.series.length; s++) {
        const v = u.data[s][idx];
        if (!shown[s - 1] || v === null || v === undefined) continue;
        const d = Math.abs(u.valToPos(v, 'y') - u.cursor.top);
        if (d < bestDist) { bestDist = d; best = s; }
      }
      if (best < 0) {
        hover.style.display = 'none';
        return;
      }
      hover.textContent = '';
      const t = document.createElement('div');
      t.className = 't';
      t.textContent = formatTime(xs[idx]);
      const labels = document.createElement('div');
      labels.className = 'labels';
      labels.textContent = names[best - 1];
      const value = document.createElement('div');
      value.textContent = 'value: ' + ys[best - 1][idx];
      hover.append(t, labels, value);
      hover.style.display = 'block';
      // Right of the cursor, or left of it when the box would leave the chart.
      const x = u.over.offsetLeft + u.cursor.left;
      const left = x + 12 + hover.offsetWidth > chartBox.clientWidth ? x - 12 - hover.offsetWidth : x + 12;
      hover.style.left = Math.max(0, left) + 'px';
      hover.style.top = (u.over.offsetTop + u.cursor.top + 12) + 'px';
    }

    names.forEach((name, i) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = PALETTE[i % PALETTE.length];
      const text = document.createElement('span');
      text.textContent = name;
      li.append(sw, text);
      li.title = 'click to hide or show this series';
      li.addEventListener('click', () => {
        shown[i] = !shown[i];
        li.classList.toggle('off', !shown[i]);
        plot.setSeries(i + 1, { show: shown[i] });
        if (opts.stacked) plot.setData(data());
      });
      legend.appendChild(li);
    });

    const onResize = () => plot.setSize({ width: width(), height: 380 });
    window.addEventListener('resize', onResize);
    return {
      destroy() {
        window.removeEventListener('resize', onResize);
        plot.destroy();
      },
    };
  }

  return { draw, seriesName };
})();
