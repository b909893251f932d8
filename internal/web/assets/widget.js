/* ringgate verification widget. Embedding, attributes, events, theming and
 * CSP: docs/widget.md. Usage, once the business's backend has started a
 * verification and handed the page its id and client token (never an API key):
 *   <script src="https://ringgate.example/widget.js" defer></script>
 *   <ringgate-verify verification-id="vf_…" token="ct_…"></ringgate-verify>
 * or RingGate.mount(element, {verificationId, token}). */
(() => {
  'use strict';
  if (window.customElements && customElements.get('ringgate-verify')) return;
  const script = document.currentScript;
  const DEFAULT_SERVER = script && script.src ? new URL(script.src, location.href).origin : location.origin;

  // Strings by language; {x} are filled in. The browser's languages choose.
  const T = {
    en: {
      callTitle: 'Call this number to verify your phone',
      free: 'The call is free: we hang up before it is answered.',
      scan: 'Scan with your phone to call',
      waiting: 'Waiting for your call',
      left: 'Time left',
      verified: 'Phone number verified',
      expired: 'Time ran out before we could verify your phone.',
      failed: 'We could not verify your phone number.',
      canceled: 'This verification was canceled.',
      retry: 'Try again',
      codeTitle: 'Enter your code',
      sms_otp: 'Enter the {n}-digit code we sent by text to {phone}.',
      voice_otp: 'Enter the {n}-digit code we read out on the call to {phone}.',
      flash_call: 'Enter the last {n} digits of the number that just called {phone}.',
      answer_call: 'We are calling {phone}. Answer the call; you can hang up at once.',
      codeLabel: 'Verification code',
      verify: 'Verify',
      wrong: 'That code is not right. Attempts left: {n}.',
      format: 'The code is {n} digits.',
      resend: 'Send a new code',
      another: 'Try another way',
      wait: 'You can try another way in {n} s.',
      checking: 'Checking…',
      offline: 'Connection lost; still trying.',
      denied: 'This verification link is no longer valid.',
      loading: 'Loading…',
      error: 'Something went wrong. Please try again.',
    },
  };
  // The other languages' strings are fetched from the server
  // (/widget/strings/{lang}.json) when the widget needs them, so that
  // pages load one language, not all: LANGS lists them.
  const LANGS = ["en","fr","es","de","it","pt","pt-BR","nl","pl","ru","uk","tr","ar","hi","id","ja","ko","zh","zh-TW","vi","th","sv","ro","cs","el"];

  const CSS = `
:host{display:block;font-family:var(--rg-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);color:var(--rg-fg,#1f1f1f);max-width:var(--rg-max-width,26rem)}
.card{background:var(--rg-bg,#fff);border:1px solid var(--rg-border,#c4c7c5);border-radius:var(--rg-radius,12px);padding:1.25rem;box-sizing:border-box}
h2{font-size:1.1rem;margin:0 0 .75rem;line-height:1.3}
p{margin:.5rem 0;line-height:1.45}
.muted{color:var(--rg-muted,#474747);font-size:.9rem}
.number{display:block;font-size:1.6rem;font-weight:700;letter-spacing:.03em;color:var(--rg-accent,#0b57d0);text-decoration:none;margin:.25rem 0;word-break:break-all}
.number:hover{text-decoration:underline}
.qr{margin:.5rem 0}
.qr img{width:9.5rem;height:9.5rem;display:block}
@media (pointer:coarse) and (hover:none){.qr{display:none}.number{font-size:2rem}}
.timer{display:flex;align-items:center;gap:.5rem;margin-top:.75rem;font-variant-numeric:tabular-nums}
.timer time{font-weight:700}
progress{width:100%;height:.4rem;accent-color:var(--rg-accent,#0b57d0)}
.dot{width:.6rem;height:.6rem;border-radius:50%;background:var(--rg-accent,#0b57d0);animation:p 1.2s infinite}
@keyframes p{50%{opacity:.25}}
@media (prefers-reduced-motion:reduce){.dot{animation:none}}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
.row{display:flex;gap:.5rem;flex-wrap:wrap}
input{font:inherit;font-size:1.4rem;letter-spacing:.3em;padding:.5rem .6rem;border:1px solid var(--rg-border,#747775);border-radius:calc(var(--rg-radius,12px)/2);width:10ch;flex:1 1 8rem;min-width:0;background:var(--rg-bg,#fff);color:inherit}
button{font:inherit;min-height:2.75rem;padding:.5rem 1rem;border-radius:calc(var(--rg-radius,12px)/2);border:1px solid var(--rg-accent,#0b57d0);background:var(--rg-accent,#0b57d0);color:var(--rg-accent-fg,#fff);cursor:pointer;font-weight:600}
button.link{background:transparent;color:var(--rg-accent,#0b57d0);border-color:transparent;padding:.5rem .25rem;text-decoration:underline}
button[disabled]{opacity:.6;cursor:default}
:focus-visible{outline:3px solid var(--rg-focus,#0b57d0);outline-offset:2px}
.msg{min-height:1.45em;color:var(--rg-error,#b3261e);font-weight:600}
.actions{display:flex;gap:1rem;flex-wrap:wrap;margin-top:.5rem}
.result{display:flex;gap:.75rem;align-items:flex-start}
.result svg{flex:none;width:2rem;height:2rem}
.ok{color:var(--rg-success,#146c2e)}
.bad{color:var(--rg-error,#b3261e)}
.result h2{color:inherit;margin:.2rem 0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

  const KNOWN_EVENTS = ['verification.created', 'verification.step', 'verification.verified', 'verification.expired',
    'verification.canceled', 'verification.failed', 'call.received', 'check.failed', 'sms.sent', 'sms.delivered',
    'sms.failed', 'call.ringing', 'call.answered', 'call.ended', 'call.placed'];

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const mmss = (s) => Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  const ICON_OK = '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M7 12.5l3.2 3.2L17.5 8.5" stroke="#fff" stroke-width="2.4" fill="none"/></svg>';
  const ICON_BAD = '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="currentColor"/><path d="M8 8l8 8M16 8l-8 8" stroke="#fff" stroke-width="2.4"/></svg>';

  // pickLang is the first wanted language with strings: the tag itself
  // ("pt-BR", "zh-TW"), else its language ("fr" for "fr-CA"; Hong Kong and
  // Macau read traditional Chinese).
  function pickLang(attr) {
    const wanted = [attr, ...(navigator.languages || [navigator.language])].filter(Boolean);
    for (const l of wanted) {
      const tag = String(l).toLowerCase();
      const exact = LANGS.find((k) => k.toLowerCase() === tag);
      if (exact) return exact;
      if (tag === 'zh-hk' || tag === 'zh-mo' || tag.startsWith('zh-hant')) return 'zh-TW';
      const base = tag.split('-')[0];
      if (LANGS.includes(base)) return base;
    }
    return 'en';
  }

  // loadLang fetches a language's strings once per page (English is
  // built in); a failure leaves English.
  const loading = {};
  function loadLang(server, lang) {
    if (T[lang]) return Promise.resolve();
    if (!loading[lang]) {
      loading[lang] = fetch(server + '/widget/strings/' + encodeURIComponent(lang) + '.json')
        .then((r) => (r.ok ? r.json() : null))
        .then((s) => { if (s) T[lang] = s; })
        .catch(() => { delete loading[lang]; });
    }
    return loading[lang];
  }

  class RingGateVerify extends HTMLElement {
    static get observedAttributes() { return ['verification-id', 'token', 'server', 'lang', 'country']; }

    constructor() {
      super();
      this.root = this.attachShadow({ mode: 'open' });
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        this.root.adoptedStyleSheets = [sheet];
      } catch (e) { // older engines: an inline style element (needs style-src 'unsafe-inline')
        const st = document.createElement('style');
        st.textContent = CSS;
        this.root.appendChild(st);
      }
      this.card = document.createElement('div');
      this.card.className = 'card';
      this.card.setAttribute('part', 'card');
      this.card.innerHTML = '<div class="sr" role="status" aria-live="polite"></div><div class="body"></div>';
      this.root.appendChild(this.card);
      this.live = this.card.firstChild;
      this.body = this.card.lastChild;
    }

    connectedCallback() { this.restart(); }
    disconnectedCallback() { this.stop(); }
    attributeChangedCallback() { if (this.isConnected) this.restart(); }

    t(key, vars) {
      const s = (T[this.lang_] || T.en)[key] || T.en[key] || key;
      return s.replace(/\{(\w+)\}/g, (_, k) => esc(vars && k in vars ? vars[k] : ''));
    }

    url(path) {
      return this.server() + '/v1/verifications/' + encodeURIComponent(this.id_) + '/' + path + '?token=' + encodeURIComponent(this.token_);
    }

    restart() {
      this.stop();
      this.id_ = this.getAttribute('verification-id') || '';
      this.token_ = this.getAttribute('token') || '';
      const lang = pickLang(this.getAttribute('lang'));
      this.status = null;
      this.done = false;
      this.shown = '';
      this.lastEvent = null;
      const gen = (this.gen_ = (this.gen_ || 0) + 1);
      this.body.innerHTML = '<p class="muted">…</p>';
      loadLang(this.server(), lang).then(() => {
        if (gen !== this.gen_ || !this.isConnected) return; // restarted or removed meanwhile
        this.lang_ = T[lang] ? lang : 'en';
        this.card.setAttribute('lang', this.lang_);
        if (this.lang_ === 'ar') this.card.setAttribute('dir', 'rtl'); else this.card.removeAttribute('dir');
        this.body.innerHTML = '<p class="muted">' + this.t('loading') + '</p>';
        this.shown = '';
        if (!this.id_ || !this.token_) return;
        this.alive = true;
        this.refresh().then(() => { if (this.alive && this.pending()) this.listen(); });
        this.ticker = setInterval(() => this.tick(), 1000);
      });
    }

    server() { return (this.getAttribute('server') || DEFAULT_SERVER).replace(/\/$/, ''); }

    stop() {
      this.alive = false;
      if (this.es) this.es.close();
      this.es = null;
      if (this.ws) this.ws.close();
      this.ws = null;
      clearInterval(this.ticker);
      clearInterval(this.poller);
      this.poller = null;
    }

    pending() { return this.status && this.status.status === 'pending'; }

    // listen follows the live stream: Server-Sent Events, else (no
    // EventSource, or a stream that keeps failing, as behind a proxy that
    // buffers it) a WebSocket, else polling; while a stream is down, it
    // polls too.
    listen() {
      if (!window.EventSource || this.sseFailures >= 2) return this.listenWS();
      this.card.dataset.live = 'sse';
      const es = new EventSource(this.url('events'));
      this.es = es;
      const wake = () => this.refresh();
      for (const type of KNOWN_EVENTS) es.addEventListener(type, wake);
      es.onmessage = wake;
      es.onopen = () => this.poll(false);
      es.onerror = () => {
        if (!this.alive) return;
        this.poll(this.pending());
        if (es.readyState === EventSource.CLOSED && this.pending()) { // not reconnecting by itself
          this.sseFailures = (this.sseFailures || 0) + 1;
          setTimeout(() => { if (this.alive && this.es === es && this.pending()) this.listen(); }, 3000);
        }
      };
    }

    // listenWS follows GET …/ws: each message is an event; it resumes after
    // the last one seen, and gives way to polling when there is no
    // WebSocket or it keeps failing.
    listenWS() {
      if (!window.WebSocket || (this.wsFailures || 0) >= 3) {
        this.card.dataset.live = 'poll';
        return this.poll(true);
      }
      this.card.dataset.live = 'ws';
      let u = this.url('ws').replace(/^http/, 'ws');
      if (this.lastEvent) u += '&last_event_id=' + encodeURIComponent(this.lastEvent);
      const ws = new WebSocket(u);
      this.ws = ws;
      ws.onopen = () => { this.wsFailures = 0; this.poll(false); };
      ws.onmessage = (m) => {
        try { this.lastEvent = JSON.parse(m.data).id; } catch (e) { /* not ours: refresh all the same */ }
        this.refresh();
      };
      ws.onclose = (ev) => {
        if (!this.alive || this.ws !== ws) return;
        this.ws = null;
        if (ev.code === 1000) return this.refresh(); // the verification ended
        this.wsFailures = (this.wsFailures || 0) + 1;
        this.poll(this.pending());
        setTimeout(() => { if (this.alive && !this.ws && this.pending()) this.listenWS(); }, 3000);
      };
    }

    poll(on) {
      if (on && !this.poller) this.poller = setInterval(() => this.refresh(), 2000);
      if (!on && this.poller) { clearInterval(this.poller); this.poller = null; }
    }

    async refresh() {
      if (this.busy) { this.again = true; return; }
      this.busy = true;
      try {
        const r = await fetch(this.url('status'), { cache: 'no-store' });
        if (r.status === 401) return this.fail('denied');
        if (!r.ok) throw new Error('status ' + r.status);
        this.apply(await r.json());
        this.offline(false);
      } catch (e) {
        this.offline(true);
      } finally {
        this.busy = false;
        if (this.again) { this.again = false; this.refresh(); }
      }
    }

    offline(on) {
      const m = this.body.querySelector('.net');
      if (m) m.textContent = on ? this.t('offline') : '';
    }

    fail(key) {
      this.stop();
      this.body.innerHTML = '<div class="result bad" data-state="error">' + ICON_BAD + '<h2>' + this.t(key) + '</h2></div>';
      this.announce(this.t(key));
    }

    apply(s) {
      if (this.done || !this.alive) return; // an answer in flight after the end (or from before a restart) changes nothing
      this.status = s;
      this.deadline = Date.now() + (s.expires_in_s || 0) * 1000;
      if (!this.total || s.channel !== (this.shownChannel || '')) this.total = Math.max(1, s.expires_in_s || 1);
      const key = s.status + '/' + s.channel + '/' + (s.dial_number || '') + '/' + (s.next_channel || '');
      if (key !== this.shown) {
        this.shown = key;
        this.shownChannel = s.channel;
        this.render();
      }
      this.tick();
      if (s.status !== 'pending') {
        this.done = true;
        this.stop();
        this.emit(s.status === 'verified' ? 'ringgate-verified' : 'ringgate-' + s.status, s);
      }
    }

    emit(name, detail) {
      this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
    }

    announce(text) {
      this.live.textContent = '';
      setTimeout(() => { this.live.textContent = text; }, 50);
    }

    left() { return Math.max(0, Math.round((this.deadline - Date.now()) / 1000)); }

    tick() {
      if (!this.pending()) return;
      const left = this.left();
      const time = this.body.querySelector('time');
      if (time) {
        time.textContent = mmss(left);
        time.setAttribute('datetime', 'PT' + left + 'S');
      }
      const bar = this.body.querySelector('progress');
      if (bar) { bar.max = this.total; bar.value = left; }
      if (left === 0 && !this.poller) this.poll(true); // the server ends it; hear about it even without a stream
    }

    timer(label) {
      return '<div class="timer"><span class="dot" aria-hidden="true"></span><span>' + label + '</span>' +
        '<time aria-live="off">' + mmss(this.left()) + '</time></div>' +
        '<progress aria-label="' + this.t('left') + '"></progress><p class="muted net" aria-live="polite"></p>';
    }

    actions(resend) {
      const s = this.status;
      let out = '';
      if (resend) out += '<button type="button" class="link" data-act="resend">' + this.t('resend') + '</button>';
      if (s.next_channel) out += '<button type="button" class="link" data-act="next">' + this.t('another') + '</button>';
      return out ? '<div class="actions">' + out + '</div>' : '';
    }

    render() {
      const s = this.status;
      const b = this.body;
      b.dataset.state = s.status;
      if (s.status === 'verified') {
        b.innerHTML = '<div class="result ok" data-state="verified">' + ICON_OK + '<div><h2 tabindex="-1">' + this.t('verified') + '</h2><p class="muted">' + esc(s.phone) + '</p></div></div>';
        this.announce(this.t('verified'));
        b.querySelector('h2').focus();
        return;
      }
      if (s.status !== 'pending') {
        const msg = this.t(s.status === 'expired' ? 'expired' : s.status === 'canceled' ? 'canceled' : 'failed');
        b.innerHTML = '<div class="result bad" data-state="' + esc(s.status) + '">' + ICON_BAD + '<div><h2 tabindex="-1">' + msg + '</h2>' +
          '<button type="button" data-act="retry">' + this.t('retry') + '</button></div></div>';
        b.querySelector('[data-act=retry]').onclick = () => this.emit('ringgate-retry', { id: this.id_, status: s.status, reason: s.reason });
        this.announce(msg);
        b.querySelector('h2').focus();
        return;
      }
      if (s.channel === 'missed_call') {
        const n = esc(s.dial_number || '');
        const shown = esc(this.readable(s));
        const qr = (this.getAttribute('server') || DEFAULT_SERVER).replace(/\/$/, '') + '/widget/qr.svg?tel=' + encodeURIComponent(s.dial_number || '');
        b.innerHTML = '<h2 id="t">' + this.t('callTitle') + '</h2>' +
          '<a class="number" href="tel:' + n + '" aria-describedby="free">' + shown + '</a>' +
          '<div class="qr"><img src="' + esc(qr) + '" alt="' + this.t('scan') + ' ' + shown + '"><p class="muted">' + this.t('scan') + '</p></div>' +
          '<p class="muted" id="free">' + this.t('free') + '</p>' + this.timer(this.t('waiting')) + this.actions(false);
        this.announce(this.t('callTitle') + ' ' + this.readable(s));
      } else if (s.channel === 'answer_call') {
        b.innerHTML = '<h2>' + this.t('answer_call', { phone: s.phone }) + '</h2>' + this.timer(this.t('left')) + this.actions(false);
      } else {
        const n = s.code_length || 6;
        b.innerHTML = '<h2>' + this.t('codeTitle') + '</h2><p id="hint">' + this.t(s.channel, { n, phone: s.phone }) + '</p>' +
          '<form novalidate><label for="code">' + this.t('codeLabel') + '</label><div class="row">' +
          '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{' + n + '}" maxlength="' + n + '" ' +
          'minlength="' + n + '" required aria-describedby="hint msg" spellcheck="false">' +
          '<button type="submit">' + this.t('verify') + '</button></div><p class="msg" id="msg" role="alert"></p></form>' +
          this.timer(this.t('left')) + this.actions(s.channel !== 'flash_call');
        const form = b.querySelector('form');
        form.onsubmit = (e) => { e.preventDefault(); this.check(n); };
        const input = b.querySelector('input');
        input.oninput = () => { input.value = input.value.replace(/\D/g, '').slice(0, n); };
        this.announce(this.t(s.channel, { n, phone: s.phone }));
      }
      for (const btn of b.querySelectorAll('[data-act=next]')) btn.onclick = () => this.next(btn);
      for (const btn of b.querySelectorAll('[data-act=resend]')) btn.onclick = () => this.emit('ringgate-retry', { id: this.id_, status: s.status, reason: 'resend' });
    }

    // readable is the number to dial as the visitor reads it: the national
    // form when the visitor is in its country (the country attribute, else
    // the region of the page's or browser's language), else international
    // with spaces.
    readable(s) {
      const tags = [this.getAttribute('lang'), ...(navigator.languages || [navigator.language])].filter(Boolean);
      let region = (this.getAttribute('country') || '').toUpperCase();
      for (const tag of tags) {
        if (region) break;
        const m = /-([a-z]{2})(?:-|$)/i.exec(String(tag));
        if (m) region = m[1].toUpperCase();
      }
      if (s.dial_country && region === s.dial_country && s.dial_number_national) return s.dial_number_national;
      return s.dial_number_international || s.dial_number || '';
    }

    async check(n) {
      const input = this.body.querySelector('input');
      const msg = this.body.querySelector('.msg');
      const btn = this.body.querySelector('button[type=submit]');
      const code = input.value.trim();
      if (!new RegExp('^[0-9]{' + n + '}$').test(code)) {
        msg.textContent = this.t('format', { n });
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      btn.disabled = true;
      msg.textContent = '';
      try {
        // No Content-Type: a body without one keeps the cross-origin call a
        // CORS "simple request" (no preflight); ringgate reads it as JSON.
        const r = await fetch(this.url('check'), { method: 'POST', body: new Blob([JSON.stringify({ code })]) });
        const body = await r.json();
        if (r.ok && body.valid) return this.apply(body);
        if (r.ok) {
          this.apply(body);
          if (body.status === 'pending') {
            msg.textContent = this.t('wrong', { n: body.attempts_remaining });
            input.setAttribute('aria-invalid', 'true');
            input.select();
          }
          return;
        }
        if (r.status === 409) return this.refresh();
        // The visitor reads this: never the API's developer wording.
        msg.textContent = body.code === 'invalid_code' ? this.t('format', { n }) : this.t('error');
      } catch (e) {
        msg.textContent = this.t('offline');
      } finally {
        if (btn.isConnected) btn.disabled = false;
      }
    }

    async next(btn) {
      btn.disabled = true;
      try {
        const r = await fetch(this.url('next'), { method: 'POST' });
        if (r.ok) return this.apply(await r.json());
        if (r.status === 429) {
          // Resends are paced (docs/abuse.md): say how long, then offer it again.
          const body = await r.json().catch(() => ({}));
          const n = Math.max(1, body.retry_after_s || 10);
          const msg = this.body.querySelector('.msg'); // role=alert: read out
          if (msg) msg.textContent = this.t('wait', { n });
          else this.announce(this.t('wait', { n }));
          setTimeout(() => { if (btn.isConnected) btn.disabled = false; }, n * 1000);
          return;
        }
        this.refresh();
      } catch (e) {
        this.offline(true);
        btn.disabled = false;
      }
    }
  }

  customElements.define('ringgate-verify', RingGateVerify);

  window.RingGate = {
    // mount puts a widget in target (an element or a selector) and returns it.
    mount(target, opts) {
      const host = typeof target === 'string' ? document.querySelector(target) : target;
      const el = document.createElement('ringgate-verify');
      if (opts.server) el.setAttribute('server', opts.server);
      if (opts.lang) el.setAttribute('lang', opts.lang);
      if (opts.country) el.setAttribute('country', opts.country);
      el.setAttribute('verification-id', opts.verificationId);
      el.setAttribute('token', opts.token);
      host.replaceChildren(el);
      return el;
    },
  };
})();
