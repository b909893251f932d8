// The demo sign-up page: the form talks to the demo backend (/demo/*),
// which holds the API key; the widget gets only the id and client token.
(() => {
  'use strict';
  const $ = (s) => document.querySelector(s);
  const form = $('#signup');
  let owner = '';
  let current = null; // {verification_id, client_token, phone}
  let channel = 'missed_call';

  // Countries of the selector, by name; the browser's region picks the
  // default.
  const COUNTRIES = [['AR', 'Argentina'], ['AU', 'Australia'], ['AT', 'Austria'], ['BE', 'Belgium'], ['BR', 'Brazil'],
    ['CA', 'Canada'], ['CL', 'Chile'], ['CN', 'China'], ['CO', 'Colombia'], ['CZ', 'Czechia'], ['DK', 'Denmark'],
    ['EG', 'Egypt'], ['FI', 'Finland'], ['FR', 'France'], ['DE', 'Germany'], ['GR', 'Greece'], ['HK', 'Hong Kong'],
    ['IN', 'India'], ['ID', 'Indonesia'], ['IE', 'Ireland'], ['IL', 'Israel'], ['IT', 'Italy'], ['JP', 'Japan'],
    ['KE', 'Kenya'], ['MY', 'Malaysia'], ['MX', 'Mexico'], ['MA', 'Morocco'], ['NL', 'Netherlands'], ['NZ', 'New Zealand'],
    ['NG', 'Nigeria'], ['NO', 'Norway'], ['PK', 'Pakistan'], ['PE', 'Peru'], ['PH', 'Philippines'], ['PL', 'Poland'],
    ['PT', 'Portugal'], ['RO', 'Romania'], ['SA', 'Saudi Arabia'], ['SG', 'Singapore'], ['ZA', 'South Africa'],
    ['KR', 'South Korea'], ['ES', 'Spain'], ['SE', 'Sweden'], ['CH', 'Switzerland'], ['TW', 'Taiwan'], ['TH', 'Thailand'],
    ['TR', 'Turkey'], ['UA', 'Ukraine'], ['AE', 'United Arab Emirates'], ['GB', 'United Kingdom'], ['US', 'United States'],
    ['VN', 'Vietnam']];
  const select = $('#country');
  for (const [code, name] of COUNTRIES) select.add(new Option(name, code));
  const browserRegion = (() => {
    for (const tag of navigator.languages || [navigator.language]) {
      const m = /-([a-z]{2})(?:-|$)/i.exec(String(tag || ''));
      if (m && COUNTRIES.some(([c]) => c === m[1].toUpperCase())) return m[1].toUpperCase();
    }
    return 'US';
  })();
  select.value = browserRegion;

  // What a shopper reads when a start is refused: never the API's
  // developer wording (its detail), which names fields and formats.
  function shopperMessage(code) {
    const country = select.options[select.selectedIndex] ? select.options[select.selectedIndex].text : 'your country';
    switch (code) {
      case 'invalid_phone':
        return 'That number does not look right for ' + country + '. Check the number, or choose the country it belongs to.';
      case 'rate_limited':
      case 'prefix_blocked':
        return 'Too many attempts for this number. Please wait a few minutes and try again.';
      case 'sms_to_landline':
        return 'This looks like a landline, which cannot receive text messages. Choose a missed call, or use a mobile number.';
      case 'premium_number':
      case 'prefix_denied':
      case 'country_not_allowed':
      case 'risk_denied':
      case 'no_route':
      case 'no_pool_number':
        return 'We cannot verify this number. Please use another mobile number.';
    }
    return 'Something went wrong. Please try again.';
  }

  async function post(path, body) {
    const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const data = r.status === 204 ? {} : await r.json();
    if (!r.ok) {
      const e = new Error(shopperMessage(data.code));
      e.code = data.code;
      throw e;
    }
    return data;
  }

  async function start(restart) {
    const body = { phone: $('#phone').value, country: select.value, channel, locale: navigator.language || 'en' };
    if (restart) body.restart = restart;
    current = await post('/demo/start', body);
    owner = current.phone;
    $('#phone-owner').textContent = owner;
    const el = RingGate.mount('#widget', { verificationId: current.verification_id, token: current.client_token, country: select.value });
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
