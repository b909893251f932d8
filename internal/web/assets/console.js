// The operator console: charts, live feed, detail with webhook retries,
// number pools. Data from /console/api/*, with the admin token as a bearer
// token kept for this tab only (sessionStorage).
(() => {
  'use strict';
  const $ = (s, el) => (el || document).querySelector(s);
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const NAMES = { missed_call: 'Missed call', flash_call: 'Flash call', answer_call: 'Answered call', voice_otp: 'Voice OTP', sms_otp: 'SMS OTP' };
  const name = (c) => NAMES[c] || c;
  let token = sessionStorage.getItem('rg-admin') || '';
  let overview = null;
  let selected = '';
  let retryNote = ''; // survives the detail's refresh

  async function api(path, opts) {
    opts = opts || {};
    const r = await fetch('/console/api/' + path, {
      method: opts.method || 'GET', cache: 'no-store',
      headers: Object.assign({ Authorization: 'Bearer ' + token }, opts.body ? { 'Content-Type': 'application/json' } : {}),
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    if (r.status === 401) { signOut('The admin token was not accepted.'); throw new Error('unauthorized'); }
    const data = r.status === 204 ? {} : await r.json();
    if (!r.ok) throw new Error(data.detail || data.title || 'HTTP ' + r.status);
    return data;
  }

  function signOut(msg) {
    token = '';
    if (following) { following.abort(); following = null; }
    sessionStorage.removeItem('rg-admin');
    $('#app').hidden = true;
    $('#controls').hidden = true;
    $('#login').hidden = false;
    $('#login-error').textContent = msg || '';
    $('#token').focus();
  }

  $('#login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    token = $('#token').value.trim();
    try {
      await boot();
      sessionStorage.setItem('rg-admin', token);
    } catch (err) {
      if (err.message !== 'unauthorized') $('#login-error').textContent = err.message;
    }
  });
  $('#signout').addEventListener('click', () => signOut(''));

  async function boot() {
    overview = await api('overview');
    $('#login').hidden = true;
    $('#app').hidden = false;
    $('#controls').hidden = false;
    $('#whoami').textContent = overview.apps.length + ' app(s)';
    for (const sel of [$('#filters select[name=app]'), $('#pool-app')]) {
      const keep = sel.name === 'app' && sel.id !== 'pool-app' ? '<option value="">all</option>' : '';
      sel.innerHTML = keep + overview.apps.map((a) => '<option value="' + esc(a.id) + '">' + esc(a.name) + '</option>').join('');
    }
    await Promise.all([charts(), feed(), pool(), unmatched()]);
    follow();
  }

  const appName = (id) => {
    const a = overview && overview.apps.find((x) => x.id === id);
    return a ? a.name : id;
  };

  // follow reads the console's live stream (Server-Sent Events over fetch,
  // which can carry the admin token): each change refreshes the feed and
  // the open detail at once, the charts at most every 5 s. A dropped
  // stream is opened again after 2 s.
  let following = null;
  let chartsDue = 0;
  async function follow() {
    if (following) following.abort();
    const ctl = new AbortController();
    following = ctl;
    let pending = null;
    const changed = () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        feed();
        if (selected) detail(selected).catch(() => {});
        const now = Date.now();
        if (now >= chartsDue) { chartsDue = now + 5000; charts().catch(() => {}); }
      }, 150);
    };
    try {
      const r = await fetch('/console/api/feed/stream', { headers: { Authorization: 'Bearer ' + token }, signal: ctl.signal, cache: 'no-store' });
      if (r.status === 401) return signOut('The admin token was not accepted.');
      if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
      $('#feed-caption').dataset.live = 'on';
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const msg = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (/^event: changed$/m.test(msg)) changed();
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    $('#feed-caption').dataset.live = 'off';
    if (following === ctl && token) setTimeout(() => { if (following === ctl && token) follow(); }, 2000);
  }

  // ---- charts (plain SVG) ----
  const money = (v, cur) => new Intl.NumberFormat('en', { style: 'currency', currency: cur || 'USD', minimumFractionDigits: 4, maximumFractionDigits: 4 }).format(v);

  // Charts are drawn at the size they are shown (no scaling), so their
  // 12 px text stays 12 px.
  const width = (id) => Math.max(300, Math.floor($('#chart-' + id + ' .plot').clientWidth || 420));

  function bars(rows, fmt, opts) {
    opts = opts || {};
    const W = opts.width || 420, rowH = 30, left = 110, right = 110;
    const H = rows.length * rowH + 24;
    const max = Math.max(opts.ref || 0, ...rows.map((r) => r.v), opts.min || 0) || 1;
    const x = (v) => left + (W - left - right) * (v / max);
    let s = '<svg width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' + esc(opts.label) + '">';
    rows.forEach((r, i) => {
      const y = i * rowH + 6;
      s += '<text x="0" y="' + (y + 15) + '">' + esc(name(r.c)) + '</text>';
      s += '<rect class="c-' + esc(r.c) + '" x="' + left + '" y="' + y + '" height="20" width="' + Math.max(1, x(r.v) - left) + '" rx="3"></rect>';
      s += '<text x="' + (x(r.v) + 6) + '" y="' + (y + 15) + '" class="val">' + esc(fmt(r.v, r)) + '</text>';
    });
    if (opts.ref != null) {
      const rx = x(opts.ref);
      s += '<line class="ref" x1="' + rx + '" x2="' + rx + '" y1="0" y2="' + (H - 18) + '"></line>';
      s += '<text x="' + Math.min(rx + 4, W - 120) + '" y="' + (H - 4) + '">' + esc(opts.refLabel) + '</text>';
    }
    return s + '</svg>';
  }

  function lines(st, W) {
    const H = 200, L = 34, B = 24;
    const chans = st.channels.map((c) => c.channel);
    const pts = st.series;
    const max = Math.max(1, ...pts.flatMap((p) => chans.map((c) => p.started[c] || 0)));
    const x = (i) => L + (W - L - 10) * (pts.length <= 1 ? 0 : i / (pts.length - 1));
    const y = (v) => H - B - (H - B - 10) * (v / max);
    let s = '<svg width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="Verifications started per ' + esc(bucketName(st.bucket_s)) + ', by channel">';
    s += '<line class="axis" x1="' + L + '" x2="' + W + '" y1="' + (H - B) + '" y2="' + (H - B) + '"></line><line class="axis" x1="' + L + '" x2="' + L + '" y1="0" y2="' + (H - B) + '"></line>';
    s += '<text x="0" y="14">' + max + '</text><text x="0" y="' + (H - B) + '">0</text>';
    if (pts.length) {
      const f = (t) => new Date(t).toLocaleString('en-GB', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
      s += '<text x="' + L + '" y="' + (H - 6) + '">' + esc(f(pts[0].at)) + '</text><text x="' + (W - 110) + '" y="' + (H - 6) + '">' + esc(f(pts[pts.length - 1].at)) + '</text>';
    }
    for (const c of chans) {
      const d = pts.map((p, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(p.started[c] || 0).toFixed(1)).join('');
      s += '<path class="line c-' + esc(c) + '" d="' + d + '"></path>';
      if (pts.length === 1) s += '<circle class="c-' + esc(c) + '" r="4" cx="' + x(0) + '" cy="' + y(pts[0].started[c] || 0) + '"></circle>';
    }
    return s + '</svg><div class="legend">' + chans.map((c) => '<span><span class="sw c-' + esc(c) + '"></span>' + esc(name(c)) + '</span>').join('') + '</div>';
  }

  function bucketName(s) {
    if (s % 86400 === 0) return s === 86400 ? 'day' : s / 86400 + ' days';
    if (s % 3600 === 0) return s === 3600 ? 'hour' : s / 3600 + ' hours';
    return s === 60 ? 'minute' : s / 60 + ' minutes';
  }

  async function charts() {
    const sandbox = $('#sandbox').checked;
    const st = await api('stats?window=' + $('#window').value + (sandbox ? '&sandbox=1' : ''));
    const live = sandbox ? 'verifications, sandbox included,' : 'live verifications';
    const hidden = !sandbox && st.sandbox_rows ? ' ' + st.sandbox_rows + ' sandbox (test-key) verifications are not counted; "Include sandbox" shows them.' : '';
    const note = st.channels.reduce((n, c) => n + c.started, 0) + ' ' + live + ' in the window' + (st.truncated ? ' (only the first 200,000 are counted)' : '') +
      ', one point per ' + bucketName(st.bucket_s) + '.' + hidden + ' Prices are per attempt, from the config (' + st.currency + '; the defaults are examples).';
    $('#charts-note').textContent = note;
    const empty = '<p class="muted">No verifications in this window yet.</p>';
    if (!st.channels.length) {
      for (const id of ['volume', 'conversion', 'median', 'cost']) $('#chart-' + id + ' .plot').innerHTML = empty;
      $('#cost-summary').textContent = '';
      return;
    }
    $('#chart-volume .plot').innerHTML = lines(st, width('volume'));
    const pct = (v, r) => Math.round(v * 100) + '% (' + r.n + ' of ' + r.of + ')';
    $('#chart-conversion .plot').innerHTML = bars(st.channels.map((c) => ({ c: c.channel, v: c.conversion, n: c.verified, of: c.ended })), pct,
      { label: 'Conversion rate per channel: verified of those ended', min: 1, width: width('conversion') });
    const secs = (v) => (v < 1 ? v.toFixed(2) : v < 10 ? v.toFixed(1) : Math.round(v)) + ' s';
    $('#chart-median .plot').innerHTML = bars(st.channels.map((c) => ({ c: c.channel, v: c.median_seconds })), secs, { label: 'Median seconds to verify per channel', width: width('median') });
    // SMS as it is: its own cost per verified user when texts were sent
    // and verified, else one text's price (every user needs at least one).
    const sms = st.channels.find((c) => c.channel === 'sms_otp');
    const smsRef = sms && sms.verified ? sms.cost_per_verified : st.sms_price;
    const costRows = st.channels.filter((c) => c.verified).map((c) => ({ c: c.channel, v: c.cost_per_verified }));
    $('#chart-cost .plot').innerHTML = costRows.length
      ? bars(costRows, (v) => money(v, st.currency), { label: 'Cost per verified user per channel, with SMS marked', ref: smsRef, refLabel: 'SMS ' + money(smsRef, st.currency), width: width('cost') })
      : '<p class="muted">No verified users yet.</p>';
    const mc = costRows.find((r) => r.c === 'missed_call');
    $('#cost-summary').textContent = mc && smsRef > 0
      ? 'Missed call: ' + money(mc.v, st.currency) + ' per verified user, ' + Math.round((1 - mc.v / smsRef) * 100) + '% less than SMS (' + money(smsRef, st.currency) + ').'
      : '';
  }
  $('#window').addEventListener('change', () => charts().catch(() => {}));
  $('#sandbox').addEventListener('change', () => charts().catch(() => {}));

  // ---- feed ----
  async function feed() {
    const q = new URLSearchParams();
    for (const el of $('#filters').elements) if (el.name && el.value.trim()) q.set(el.name, el.value.trim());
    q.set('limit', '50');
    try {
      const r = await api('verifications?' + q);
      $('#feed-error').textContent = '';
      const tb = $('#feed');
      tb.innerHTML = r.data.map((v) => '<tr tabindex="0" data-id="' + esc(v.id) + '"' + (v.id === selected ? ' aria-selected="true"' : '') + '><td>' +
        esc(new Date(v.created_at).toLocaleTimeString('en-GB')) + '</td><td>' + esc(appName(v.app_id)) + '</td><td>' + esc(v.phone) + '</td><td>' + esc(name(v.channel)) +
        '</td><td>' + esc(v.country) + '</td><td class="st-' + esc(v.status) + '">' + esc(v.status) +
        (v.sandbox ? '<span class="tag" title="Started with a test key: simulated, not counted in the charts">sandbox</span>' : '') + '</td></tr>').join('') ||
        '<tr><td colspan="6" class="muted">Nothing matches.</td></tr>';
    } catch (err) {
      if (err.message !== 'unauthorized') $('#feed-error').textContent = err.message;
    }
  }
  $('#filters').addEventListener('input', () => feed());
  $('#filters').addEventListener('submit', (e) => e.preventDefault());
  const open = (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr && (e.type === 'click' || e.key === 'Enter')) { selected = tr.dataset.id; retryNote = ''; detail(selected); }
  };
  $('#feed').addEventListener('click', open);
  $('#feed').addEventListener('keydown', open);

  // ---- detail ----
  async function detail(id) {
    const d = await api('verifications/' + encodeURIComponent(id));
    const v = d.verification;
    const el = $('#detail');
    const rows = [['Id', v.id], ['App', appName(v.app_id) + ' (' + v.app_id + ')' + (v.sandbox ? ', sandbox' : '')], ['Phone', v.phone], ['Status', v.status + (v.reason ? ' (' + v.reason + ')' : '')],
      ['Channel', name(v.channel)], ['Workflow', v.workflow.map((s) => name(s.channel)).join(' → ')], ['Dial number', v.dial_number || '—'], ['Attempts', v.attempts]];
    el.innerHTML = '<table><tbody>' + rows.map((r) => '<tr><th scope="row">' + esc(r[0]) + '</th><td>' + esc(r[1]) + '</td></tr>').join('') + '</tbody></table>' +
      '<h3>Timeline</h3><ol class="timeline">' + d.events.map((e) => '<li><time>' + esc(new Date(e.created_at).toLocaleTimeString('en-GB')) + '</time> ' + esc(e.type) + '</li>').join('') + '</ol>' +
      '<h3>Webhook deliveries</h3>' + (d.deliveries.length ? '<table><thead><tr><th>Event</th><th>Status</th><th>Attempts</th><th>Last answer</th><th></th></tr></thead><tbody>' +
        d.deliveries.map((w) => '<tr><td>' + esc(w.type) + '</td><td>' + esc(w.status) + '</td><td>' + esc(w.attempts) + '</td><td>' + esc(w.last_status_code || w.last_error || '') +
          '</td><td><button type="button" class="secondary" data-retry="' + esc(w.id) + '" aria-label="Retry delivery of ' + esc(w.type) + '">Retry</button></td></tr>').join('') + '</tbody></table>'
        : '<p class="muted">None.</p>') + '<p class="muted" id="retry-note" role="status">' + esc(retryNote) + '</p>';
    for (const b of el.querySelectorAll('[data-retry]')) {
      b.onclick = async () => {
        try {
          await api('apps/' + encodeURIComponent(v.app_id) + '/deliveries/' + encodeURIComponent(b.dataset.retry) + '/retry', { method: 'POST' });
          retryNote = 'Queued again.';
        } catch (err) { retryNote = err.message; }
        $('#retry-note').textContent = retryNote;
      };
    }
  }

  // ---- number pool ----
  async function pool() {
    const app = $('#pool-app').value;
    if (!app) return;
    const r = await api('apps/' + encodeURIComponent(app) + '/numbers');
    const ul = $('#pool');
    ul.innerHTML = r.data.map((n) => '<li>' + esc(n.number) + ' <span class="muted">' + esc(n.country === '*' ? 'every country' : n.country) +
      '</span> <button type="button" class="secondary" data-remove="' + esc(n.number) + '" aria-label="Remove ' + esc(n.number) + '">Remove</button></li>').join('') ||
      '<li class="muted">No numbers: missed calls cannot start for this app.</li>';
    // Remove asks first: the number stops serving at once, and a visitor
    // shown it may be dialling it right now.
    for (const b of ul.querySelectorAll('[data-remove]')) {
      b.onclick = () => {
        const n = b.dataset.remove;
        const ask = document.createElement('span');
        ask.className = 'confirm';
        ask.setAttribute('role', 'group');
        ask.innerHTML = '<span>Remove ' + esc(n) + ' from the pool? Visitors shown it can no longer verify by calling it.</span>' +
          '<button type="button" data-yes>Yes, remove</button><button type="button" class="secondary" data-no>Keep it</button>';
        b.replaceWith(ask);
        ask.querySelector('[data-no]').focus();
        ask.querySelector('[data-no]').onclick = () => pool();
        ask.querySelector('[data-yes]').onclick = async () => {
          try {
            await api('apps/' + encodeURIComponent(app) + '/numbers/' + encodeURIComponent(n), { method: 'DELETE' });
            $('#pool-error').textContent = '';
          } catch (err) { $('#pool-error').textContent = err.message; }
          pool();
        };
      };
    }
  }
  $('#pool-app').addEventListener('change', () => pool());

  // ---- unmatched callers (spoofing runs) ----
  async function unmatched() {
    const r = await api('unmatched-callers?window=24h');
    $('#unmatched').innerHTML = r.data.map((c) => '<li>' + esc(c.from) + ' <span class="muted">' + c.calls + (c.calls === 1 ? ' call' : ' calls') +
      ', last ' + esc(new Date(c.last_call_at).toLocaleString()) + '</span></li>').join('') || '<li class="muted">None.</li>';
  }
  $('#pool-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('apps/' + encodeURIComponent($('#pool-app').value) + '/numbers', { method: 'POST', body: { number: $('#pool-number').value, country: $('#pool-country').value } });
      $('#pool-error').textContent = '';
      $('#pool-number').value = '';
      pool();
    } catch (err) { $('#pool-error').textContent = err.message; }
  });

  // ---- export ----
  async function exportFeed(format) {
    const q = new URLSearchParams({ format });
    for (const el of $('#filters').elements) if (el.name && el.value.trim()) q.set(el.name, el.value.trim());
    try {
      const r = await fetch('/console/api/export?' + q, { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
      if (!r.ok) { const p = await r.json().catch(() => ({})); throw new Error(p.detail || 'HTTP ' + r.status); }
      const blob = await r.blob();
      const m = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '');
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = m ? m[1] : 'verifications.' + format;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      $('#feed-error').textContent = '';
    } catch (err) { $('#feed-error').textContent = err.message; }
  }
  $('#export-csv').addEventListener('click', () => exportFeed('csv'));
  $('#export-jsonl').addEventListener('click', () => exportFeed('jsonl'));

  if (token) boot().catch(() => signOut('')); else signOut('');
})();
