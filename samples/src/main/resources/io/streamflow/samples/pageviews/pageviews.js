// Live page views per minute from the sample's ResultLog at /results (server-sent events).
// result / snapshot = put (key, window), retract = remove, reset = clear. EventSource reconnects by
// itself and sends Last-Event-ID, so the server replays exactly what was missed; if the stream is
// closed for good (an HTTP error), the page opens a new one from the last id it saw.
(function () {
  'use strict';

  var WINDOW = 60000;
  var windows = new Map();      // "key|start" -> {key, start, end, value, id, timing, final}
  var lastId = null;
  var events = 0;
  var resets = 0;
  var drops = 0;
  var source = null;
  var token = new URLSearchParams(window.location.search).get('access_token');

  var body = document.body;
  var connection = document.getElementById('connection');
  var tbody = document.querySelector('#counts tbody');

  function windowKey(key, start) {
    return key + '|' + start;
  }

  function put(data) {
    windows.set(windowKey(data.key, data.window.start), {
      key: data.key, start: data.window.start, end: data.window.end, value: data.value, id: data.id,
      timing: data.pane.timing, final: data.pane.final
    });
  }

  function remove(data) {
    var k = windowKey(data.key, data.window.start);
    var held = windows.get(k);
    if (held && (held.id === data.retracts || data.retracts === undefined)) {
      windows.delete(k);
    }
  }

  function seen(e) {
    events++;
    if (e.lastEventId) {
      lastId = e.lastEventId;
    }
  }

  var scheduled = false;
  function render() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(draw);
    }
  }

  function time(ms) {
    var d = new Date(ms);
    return d.toISOString().substring(11, 16);
  }

  function draw() {
    scheduled = false;
    var current = -Infinity;
    windows.forEach(function (w) { current = Math.max(current, w.start); });
    var previous = current - WINDOW;
    var pages = new Map();
    windows.forEach(function (w) {
      if (w.start !== current && w.start !== previous) {
        return;
      }
      var p = pages.get(w.key) || {key: w.key, current: null, previous: null};
      p[w.start === current ? 'current' : 'previous'] = w;
      pages.set(w.key, p);
    });
    var rows = Array.from(pages.values());
    rows.sort(function (a, b) {
      var d = (b.current ? b.current.value : 0) - (a.current ? a.current.value : 0);
      return d !== 0 ? d : (b.previous ? b.previous.value : 0) - (a.previous ? a.previous.value : 0);
    });
    var max = 1;
    rows.forEach(function (r) { max = Math.max(max, r.current ? r.current.value : 0); });
    document.getElementById('current-window').textContent = isFinite(current)
        ? 'current ' + time(current) + '–' + time(current + WINDOW) : 'current minute';
    document.getElementById('previous-window').textContent = isFinite(current)
        ? 'previous ' + time(previous) + '–' + time(current) : 'previous minute';
    tbody.textContent = '';
    rows.forEach(function (r, i) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-page', r.key);
      cell(tr, 'rank', String(i + 1));
      cell(tr, 'page', r.key);
      cell(tr, 'previous' + state(r.previous), r.previous ? String(r.previous.value) : '–');
      cell(tr, 'current' + state(r.current), r.current ? String(r.current.value) : '–');
      var bar = cell(tr, 'bar', '');
      var span = document.createElement('span');
      span.style.width = Math.round(100 * (r.current ? r.current.value : 0) / max) + '%';
      bar.appendChild(span);
      tbody.appendChild(tr);
    });
    document.getElementById('empty').hidden = rows.length > 0;
    document.getElementById('events').textContent = String(events);
    document.getElementById('last-id').textContent = lastId === null ? '–' : lastId;
    document.getElementById('resets').textContent = String(resets);
    body.setAttribute('data-events', String(events));
    body.setAttribute('data-last-id', lastId === null ? '' : lastId);
    body.setAttribute('data-resets', String(resets));
    body.setAttribute('data-windows', String(windows.size));
  }

  function state(w) {
    return w ? (w.final ? ' final' : ' early') : '';
  }

  function cell(tr, cls, text) {
    var td = document.createElement('td');
    td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function status(text, cls) {
    connection.textContent = text;
    connection.className = 'connection ' + cls;
  }

  function connect() {
    var params = new URLSearchParams();
    if (token) {
      params.set('access_token', token);
    }
    if (lastId !== null) {
      params.set('lastEventId', lastId);   // a new stream resumes from where the old one stopped
    } else {
      params.set('snapshot', 'true');      // the first one starts with the current counts
    }
    source = new EventSource('/results?' + params.toString());
    source.onopen = function () { status('live', 'live'); };
    source.onerror = function () {
      drops++;
      body.setAttribute('data-drops', String(drops));
      if (source.readyState === EventSource.CLOSED) {
        status('disconnected, retrying…', 'down');
        source.close();
        window.setTimeout(connect, 2000);
      } else {
        status('reconnecting…', 'down');   // EventSource retries by itself, with Last-Event-ID
      }
    };
    source.addEventListener('result', function (e) { seen(e); put(JSON.parse(e.data)); render(); });
    source.addEventListener('snapshot', function (e) { seen(e); put(JSON.parse(e.data)); render(); });
    source.addEventListener('retract', function (e) { seen(e); remove(JSON.parse(e.data)); render(); });
    source.addEventListener('reset', function (e) { seen(e); resets++; windows.clear(); render(); });
    source.addEventListener('snapshot-end', function (e) { seen(e); render(); });
  }

  connect();
}());
