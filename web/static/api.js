// The pages' access to the /v1 API with the browser's cookie session: reads
// need nothing more; a request that changes state sends the session's CSRF
// token (from the script-readable cookie) in X-CSRF-Token.
'use strict';

var suishen = (function () {
  function cookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split('=');
      if (kv[0] === name) return decodeURIComponent(kv.slice(1).join('='));
    }
    return '';
  }

  function ApiError(status, problem) {
    this.status = status;
    this.problem = problem || {};
    this.message = (problem && (problem.detail || problem.title)) || ('HTTP ' + status);
  }

  async function call(method, path, opts) {
    opts = opts || {};
    var headers = { 'Accept': opts.accept || 'application/json' };
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = cookie('suishen_csrf');
    var body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    var res = await fetch(path, { method: method, headers: headers, body: body, credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) {
      var p = null;
      try { p = await res.json(); } catch (e) { /* not a problem document */ }
      throw new ApiError(res.status, p);
    }
    return res;
  }

  async function json(method, path, body) {
    var res = await call(method, path, { json: body });
    return res.status === 204 ? null : res.json();
  }

  // image asks for a code as an SVG image and returns its object URL with the
  // code's text, expiry and the server's clock (to count down without
  // trusting the phone's clock).
  async function image(path, body) {
    var res = await call('POST', path, { accept: 'image/svg+xml', json: body });
    var blob = await res.blob();
    var date = Date.parse(res.headers.get('Date') || '');
    return {
      url: URL.createObjectURL(blob),
      code: res.headers.get('Suishen-Code') || '',
      useCode: res.headers.get('Suishen-Use-Code') || '',
      generation: res.headers.get('Suishen-Code-Generation') || '',
      expiresAt: Date.parse(res.headers.get('Suishen-Code-Expires-At') || ''),
      serverNow: isNaN(date) ? Date.now() : date
    };
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  var fmt = new Intl.DateTimeFormat('zh-CN', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Shanghai' });
  var fmtDate = new Intl.DateTimeFormat('zh-CN', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Shanghai' });
  function when(s) { var d = new Date(s); return isNaN(d) ? '' : fmt.format(d); }
  function day(s) { var d = new Date(s); return isNaN(d) ? '' : fmtDate.format(d); }

  function elderWanted() {
    var q = new URLSearchParams(location.search).get('elder');
    try {
      if (q === '1') localStorage.setItem('suishen.elder', '1');
      if (q === '0') localStorage.removeItem('suishen.elder');
      return q === '1' || (q !== '0' && localStorage.getItem('suishen.elder') === '1');
    } catch (e) {
      return q === '1';
    }
  }

  return { call: call, json: json, image: image, el: el, when: when, day: day, elderWanted: elderWanted, ApiError: ApiError };
})();
