// The demo sign-up page: the form talks to the demo backend (/demo/*),
// which holds the API key; the widget gets only the id and client token.
(() => {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const form = $('#signup');
  let owner = '';
  let current = null; // {verification_id, client_token, phone}
  let channel = 'missed_call';

  async function post(path, body) {
    const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const data = r.status === 204 ? {} : await r.json();
    if (!r.ok) throw new Error(data.detail || data.title || 'HTTP ' + r.status);
    return data;
  }

  async function start(restart) {
    const body = { phone: $('#phone').value, channel, locale: navigator.language || 'en' };
    if (restart) body.restart = restart;
    current = await post('/demo/start', body);
    owner = current.phone;
    $('#phone-owner').textContent = owner;
    const el = RingGate.mount('#widget', { verificationId: current.verification_id, token: current.client_token });
    el.addEventListener('ringgate-verified', signup);
    el.addEventListener('ringgate-retry', () => start(current.verification_id).catch(showError));
    watchPhone();
  }

  function showError(e) {
    $('#form-error').textContent = e.message;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    $('#form-error').textContent = '';
    for (const id of ['name', 'email', 'phone']) {
      const input = $('#' + id);
      if (!input.value.trim()) {
        $('#form-error').textContent = 'Please fill in ' + form.querySelector('label[for=' + id + ']').textContent.toLowerCase() + '.';
        input.focus();
        return;
      }
    }
    channel = form.querySelector('input[name=channel]:checked').value;
    $('#continue').disabled = true;
    try {
      await start('');
      form.hidden = true;
      $('#verify').hidden = false;
    } catch (err) {
      showError(err);
      $('#phone').focus();
    } finally {
      $('#continue').disabled = false;
    }
  });

  async function signup() {
    try {
      const r = await post('/demo/signup', { name: $('#name').value, email: $('#email').value, verification_id: current.verification_id });
      const w = $('#welcome');
      w.replaceChildren();
      const h = document.createElement('h2');
      h.textContent = 'Welcome, ' + r.name + '!';
      const p = document.createElement('p');
      p.textContent = 'Your account is ready. ' + r.phone + ' is verified (' + r.verified_channel.replace('_', ' ') + ').';
      w.append(h, p);
      w.hidden = false;
      w.focus();
    } catch (err) {
      showError(err);
    }
  }

  // The simulated phone.
  $('#call').addEventListener('click', async () => {
    const out = $('#call-result');
    if (!owner) {
      out.textContent = 'Type your number in the form first: this phone has no SIM yet.';
      return;
    }
    out.textContent = 'Calling…';
    try {
      const r = await post('/sim/calls', { from: owner, to: $('#dial').value.replace(/[^\d+]/g, '') });
      out.textContent = r.disposition === 'rejected'
        ? 'Call ended: rejected before answer (SIP ' + r.sip_status + '), so it cost nothing.'
        : 'Call ' + r.disposition + '.';
    } catch (err) {
      out.textContent = 'Call failed: ' + err.message;
    }
  });

  let timer = null;
  function watchPhone() {
    clearInterval(timer);
    const load = async () => {
      try {
        const r = await fetch('/sim/phones/' + encodeURIComponent(owner), { cache: 'no-store' });
        if (r.ok) drawPhone(await r.json());
      } catch (e) { /* the next tick tries again */ }
    };
    load();
    timer = setInterval(load, 1000);
  }

  function fill(ul, items, empty, line) {
    ul.replaceChildren();
    if (!items.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = empty;
      ul.append(li);
    }
    for (const it of items.slice().reverse()) {
      const li = document.createElement('li');
      li.textContent = line(it);
      ul.append(li);
    }
  }

  function drawPhone(p) {
    fill($('#sms'), p.messages || [], 'No messages', (m) => (m.from ? m.from + ': ' : '') + m.text);
    fill($('#calls'), p.calls || [], 'No calls', (c) => c.from + ' (' + c.state + ')');
  }
})();
