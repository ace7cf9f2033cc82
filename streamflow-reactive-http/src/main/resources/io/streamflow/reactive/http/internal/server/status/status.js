// StreamFlow status page: renders the snapshots of /status/events (one a second) and draws a chart
// of records per second per pipeline. No dependencies; EventSource reconnects by itself.
(function () {
  'use strict';
  var HISTORY = 120;
  var series = {};      // pipeline name -> [records/s]
  var sections = {};    // pipeline name -> section element

  function fmtNumber(v, digits) {
    if (v === null || v === undefined) { return '–'; }
    return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  function fmtTime(ms) {
    if (ms === null || ms === undefined) { return '–'; }
    return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined) { return '–'; }
    if (Math.abs(ms) < 1000) { return fmtNumber(ms, 1) + ' ms'; }
    if (Math.abs(ms) < 120000) { return fmtNumber(ms / 1000, 1) + ' s'; }
    return fmtNumber(ms / 60000, 1) + ' min';
  }
  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
  }
  function fillTable(table, rows, columns) {
    var body = table.querySelector('tbody');
    body.textContent = '';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      columns.forEach(function (c) { cell(tr, c(r)); });
      body.appendChild(tr);
    });
  }

  function section(name) {
    var s = sections[name];
    if (!s) {
      var template = document.getElementById('pipeline-template');
      s = template.content.firstElementChild.cloneNode(true);
      s.setAttribute('data-pipeline', name);
      s.querySelector('.name').textContent = name;
      document.getElementById('pipelines').appendChild(s);
      sections[name] = s;
      series[name] = [];
    }
    return s;
  }

  function drawChart(canvas, values) {
    var ctx = canvas.getContext('2d');
    var w = canvas.width, h = canvas.height, pad = 28;
    ctx.clearRect(0, 0, w, h);
    var max = 1;
    values.forEach(function (v) { if (v > max) { max = v; } });
    max = niceCeiling(max);
    ctx.strokeStyle = '#d9dee7';
    ctx.fillStyle = '#6b7280';
    ctx.font = '10px sans-serif';
    ctx.lineWidth = 1;
    for (var i = 0; i <= 4; i++) {
      var y = pad / 2 + (h - pad) * i / 4;
      ctx.beginPath(); ctx.moveTo(pad + 20, y); ctx.lineTo(w - 4, y); ctx.stroke();
      ctx.fillText(fmtNumber(max * (4 - i) / 4), 2, y + 3);
    }
    if (values.length < 2) { return; }
    var step = (w - pad - 24) / (HISTORY - 1);
    var x0 = w - 4 - step * (values.length - 1);
    ctx.beginPath();
    values.forEach(function (v, k) {
      var x = x0 + step * k;
      var y = pad / 2 + (h - pad) * (1 - v / max);
      if (k === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
    });
    ctx.strokeStyle = '#2563eb';
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.lineTo(x0 + step * (values.length - 1), h - pad / 2);
    ctx.lineTo(x0, h - pad / 2);
    ctx.closePath();
    ctx.fillStyle = 'rgba(37, 99, 235, 0.12)';
    ctx.fill();
  }
  function niceCeiling(v) {
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function render(snapshot) {
    var empty = document.getElementById('empty');
    if (empty) { empty.remove(); }
    var badge = document.getElementById('server-status');
    badge.textContent = snapshot.status;
    badge.className = 'badge ' + snapshot.status;
    snapshot.pipelines.forEach(function (p) {
      var s = section(p.name);
      var status = s.querySelector('.status');
      status.textContent = p.status;
      status.className = 'badge status ' + p.status;
      s.querySelector('.state').textContent = p.state + (p.error ? ': ' + p.error : '');
      s.querySelector('.problems').textContent = p.problems.join('; ');
      s.querySelector('.rate').textContent = fmtNumber(p.recordsInPerSecond, 1);
      s.querySelector('.records-in').textContent = fmtNumber(p.recordsIn);
      s.querySelector('.watermark').textContent = fmtTime(p.watermark);
      s.querySelector('.lag').textContent = fmtDuration(p.watermarkLagMs);
      s.querySelector('.late').textContent = fmtNumber(p.late);
      s.querySelector('.dead-letters').textContent = fmtNumber(p.deadLetters);
      fillTable(s.querySelector('.operators'), p.operators, [
        function (o) { return o.name; },
        function (o) { return fmtNumber(o.inPerSecond, 1); },
        function (o) { return fmtNumber(o.outPerSecond, 1); },
        function (o) { return fmtNumber(o.recordsIn); },
        function (o) { return fmtNumber(o.recordsOut); },
        function (o) { return fmtNumber(o.late); },
        function (o) { return fmtNumber(o.deadLetters); },
        function (o) { return fmtTime(o.watermark); },
        function (o) { return fmtDuration(o.watermarkLagMs); }
      ]);
      fillTable(s.querySelector('.partitions'), p.partitions, [
        function (q) { return q.operator; },
        function (q) { return q.partition; },
        function (q) { return fmtTime(q.watermark); },
        function (q) { return fmtDuration(q.lagMs); }
      ]);
      var cps = p.checkpoints;
      var block = s.querySelector('.checkpoints-block');
      block.hidden = !cps;
      if (cps) {
        s.querySelector('.checkpoints').textContent = cps.completed + ' completed, ' + cps.failed + ' failed'
          + '; last ' + (cps.lastAgeMs === null ? 'not seen yet' : fmtDuration(cps.lastAgeMs) + ' ago')
          + '; duration mean ' + fmtDuration(cps.meanDurationMs) + ', max ' + fmtDuration(cps.maxDurationMs)
          + (cps.restoredId === null ? '' : '; restored checkpoint ' + cps.restoredId + ' of ' + fmtTime(cps.restoredTime));
        fillTable(s.querySelector('.history'), cps.history.slice().reverse(), [
          function (c) { return String(c.completed); },
          function (c) { return fmtTime(c.at); },
          function (c) { return fmtDuration(c.durationMs); }
        ]);
      }
      var values = series[p.name];
      if (p.recordsInPerSecond !== null) {
        values.push(p.recordsInPerSecond);
        if (values.length > HISTORY) { values.shift(); }
      }
      var canvas = s.querySelector('.chart');
      canvas.setAttribute('data-points', String(values.length));
      drawChart(canvas, values);
    });
  }

  function connect() {
    var token = new URLSearchParams(window.location.search).get('access_token');
    var url = 'status/events' + (token ? '?access_token=' + encodeURIComponent(token) : '');
    var source = new EventSource(url);
    var connection = document.getElementById('connection');
    source.onopen = function () {
      connection.textContent = 'live';
      connection.className = 'connection';
    };
    source.onmessage = function (e) { render(JSON.parse(e.data)); };
    source.onerror = function () {
      // EventSource retries by itself while the stream is reconnectable
      connection.textContent = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
      connection.className = 'connection lost';
    };
  }
  connect();
}());
