// The holder page /me (and its 长者专版, /me?elder=1): everything it shows
// comes from the /v1/me API with the cookie session.
'use strict';

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var el = suishen.el;
  var elder = suishen.elderWanted();
  var me = null;
  var timer = null;
  var codeURL = null;
  var certNames = {}; // certificate id → type name, for the usage records

  var STATUS = { valid: '有效', suspended: '已暂扣', revoked: '已吊销', cancelled: '已注销', expired: '已过期', superseded: '已换发' };
  var COPY_STATUS = { valid: '有效', withdrawn: '已撤回', expired: '已过期', certificate_not_valid: '证照已失效' };
  var CHANNEL = { copy: '加注件', verify: '在线核验', use_code: '用证码', grant: '授权调用', 'case': '政务办件', online: '场所扫码', offline: '离线扫码', batch: '离线扫码', benefit: '免申即享' };
  var RESULT = { success: '成功', valid: '有效', invalid: '无效', unknown: '无法确认', refused: '已拒绝', eligible: '符合条件', not_eligible: '不符合条件', withdrawn: '已撤回', identity_disclosed: '已提供身份信息' };
  // 免申即享: an entitlement's status, and the word for its date.
  var BENEFIT_STATUS = { offered: '可享受', declined: '已放弃', withdrawn: '已停止' };
  var BENEFIT_SINCE = { offered: '已为您办理，无需申请 · ', declined: '放弃于 ', withdrawn: '您已不再符合条件 · 停止于 ' };

  function notice(text) {
    var n = $('notice');
    n.textContent = text;
    n.hidden = !text;
  }

  function signedOut(text) {
    stopTimer();
    ['code', 'actions', 'help', 'elder-benefits', 'certs', 'benefits', 'copies', 'present', 'usage', 'checkins', 'grants', 'foot'].forEach(function (id) { $(id).hidden = true; });
    $('name').textContent = '未登录';
    notice(text);
  }

  // confirmButton is a button for an action that cannot be undone: the
  // first tap turns it into 确认<verb> (its label says what cannot be
  // undone), the second runs act.
  function confirmButton(verb, what, warning, act) {
    var b = el('button', 'small danger', verb);
    b.type = 'button';
    b.setAttribute('aria-label', verb + '：' + what);
    b.addEventListener('click', async function () {
      if (!b.dataset.confirm) {
        b.dataset.confirm = '1';
        b.textContent = '确认' + verb;
        b.setAttribute('aria-label', '确认' + verb + '：' + what + '（' + warning + '）');
        return;
      }
      b.disabled = true;
      try {
        await act();
      } catch (err) {
        b.disabled = false;
        failed(err);
      }
    });
    return b;
  }

  function failed(err) {
    if (err instanceof suishen.ApiError && err.status === 401) {
      signedOut('登录已失效，请从随申办应用重新进入。');
      return true;
    }
    notice('暂时无法连接服务，请稍后再试。');
    return false;
  }

  // --- the code ---

  function stopTimer() {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  async function refreshCode() {
    stopTimer();
    var path = me.kind === 'enterprise' ? '/v1/me/codes/enterprise' : '/v1/me/codes/personal';
    var img;
    try {
      img = await suishen.image(path);
    } catch (err) {
      if (!failed(err)) timer = setTimeout(refreshCode, 5000);
      return;
    }
    notice('');
    var q = $('qr');
    q.src = img.url;
    q.dataset.code = img.code;
    if (codeURL) URL.revokeObjectURL(codeURL);
    codeURL = img.url;
    $('code').hidden = false;
    if (isNaN(img.expiresAt)) return;
    // Count down on the server's clock: the phone's may be wrong.
    var lifetime = img.expiresAt - img.serverNow;
    var deadline = performance.now() + lifetime;
    // Ask for the next code well before this one expires.
    var lead = Math.min(5000, lifetime / 3);
    var tick = function () {
      var left = deadline - performance.now();
      if (left <= lead) { refreshCode(); return; }
      if (!elder) $('countdown').textContent = Math.ceil(left / 1000) + ' 秒后自动刷新';
      timer = setTimeout(tick, Math.min(1000, left - lead));
    };
    if (me.kind === 'enterprise' && lifetime > 86400000) {
      $('countdown').textContent = '企业码长期有效';
      return;
    }
    tick();
  }

  // --- lists ---

  function fill(listId, emptyId, items, render) {
    var ul = $(listId);
    ul.replaceChildren();
    items.forEach(function (it) { ul.appendChild(render(it)); });
    $(emptyId).hidden = items.length > 0;
  }

  function row(title, lines, badge) {
    var li = el('li', 'item');
    var head = el('div', 'item-head');
    head.appendChild(el('span', 'item-title', title));
    if (badge) head.appendChild(badge);
    li.appendChild(head);
    lines.forEach(function (l) { if (l) li.appendChild(el('p', 'item-line', l)); });
    return li;
  }

  function statusBadge(status) {
    return el('span', 'badge badge-' + (status === 'valid' ? 'ok' : 'bad'), STATUS[status] || status);
  }

  async function loadCerts() {
    var list = await suishen.json('GET', '/v1/me/certificates?limit=100');
    list.items.forEach(function (c) { certNames[c.id] = c.type_name || c.type_code; });
    fill('cert-list', 'cert-empty', list.items, function (c) {
      // The certificate number is not shown: for some types it is the
      // holder's identity number.
      var li = row(c.type_name || c.type_code, [
        c.valid_until ? '有效期至 ' + suishen.day(c.valid_until) : '长期有效',
        '签发 ' + suishen.day(c.issued_at)
      ], statusBadge(c.status));
      if (c.status === 'valid') {
        var b = el('button', 'small', '亮证');
        b.type = 'button';
        b.setAttribute('aria-label', '亮证：' + (c.type_name || c.type_code));
        b.addEventListener('click', function () { present(c); });
        li.appendChild(b);
      }
      return li;
    });
    $('certs').hidden = false;
  }

  async function present(c) {
    var img;
    try {
      img = await suishen.image('/v1/me/certificates/' + encodeURIComponent(c.id) + '/presentations', { purpose: '亮证' });
    } catch (err) {
      failed(err);
      return;
    }
    $('present-what').textContent = c.type_name || c.type_code;
    var q = $('present-qr');
    q.src = img.url;
    q.dataset.code = img.code;
    $('use-code').textContent = img.useCode;
    $('present-expiry').textContent = isNaN(img.expiresAt) ? '' :
      '有效至 ' + suishen.when(new Date(Date.now() + img.expiresAt - img.serverNow)) + '，用证码仅可使用一次';
    $('present').hidden = false;
    $('present').scrollIntoView({ block: 'start' });
    $('present-close').focus();
  }

  // The holder's annotated copies (加注件): for whom, what for, until when,
  // and whether each still verifies; a valid one links to its printable
  // page (on this site) and can be withdrawn, after a second tap to confirm.
  async function loadCopies() {
    var list = await suishen.json('GET', '/v1/me/copies?limit=100');
    var items = list.items.slice().reverse(); // newest first
    fill('copy-list', 'copy-empty', items, function (c) {
      var li = row(c.annotation, [
        (certNames[c.certificate_id] || '证照') + ' · 交给 ' + c.recipient_org,
        '用途 ' + c.purpose,
        c.status === 'withdrawn' && c.withdrawn_at ? '撤回于 ' + suishen.when(c.withdrawn_at) : '有效期至 ' + suishen.when(c.expires_at)
      ], el('span', 'badge ' + (c.status === 'valid' ? 'badge-ok' : 'badge-bad'), COPY_STATUS[c.status] || c.status));
      li.dataset.copy = c.id;
      var acts = el('div', 'item-actions');
      if (c.status === 'valid') {
        var a = el('a', 'button small', '打开打印页');
        var u = new URL(c.url, location.href);
        a.href = u.pathname + u.search; // the page of this site, whatever its public URL says
        a.setAttribute('aria-label', '打开打印页：' + c.annotation);
        acts.appendChild(a);
      }
      if (c.withdrawable) {
        acts.appendChild(confirmButton('撤回', c.annotation, '撤回后不可恢复', async function () {
          await suishen.json('DELETE', '/v1/me/copies/' + encodeURIComponent(c.id));
          await Promise.all([loadCopies(), loadUsage()]);
        }));
      }
      if (acts.childNodes.length) li.appendChild(acts);
      return li;
    });
    $('copies').hidden = false;
  }

  // A 免申即享 record is either an evaluation (the policy read the holder's
  // certificates) or the department reading the payee's identity to pay.
  function channel(u) {
    if (u.channel === 'benefit') return u.result === 'identity_disclosed' ? '免申即享 发放核对身份' : '免申即享 评估';
    return CHANNEL[u.channel] || u.channel;
  }

  // 免申即享: what the holder gets without applying. An offered one can be
  // declined, after a second tap to confirm (a later match does not offer
  // it again); its policy's public description (依据 and 条件) opens in place.
  function benefitLine(p) {
    return p.name + (p.benefit && p.benefit.amount ? '（' + p.benefit.amount + '）' : '');
  }

  async function entitlements() {
    var list = await suishen.json('GET', '/v1/me/entitlements?limit=100');
    return list.items.slice().reverse(); // newest first
  }

  function policyDetails(code, name) {
    var d = el('details', 'policy');
    var s = el('summary', null, '政策依据与条件');
    s.setAttribute('aria-label', '政策依据与条件：' + name);
    d.appendChild(s);
    var body = el('div', 'policy-body');
    d.appendChild(body);
    d.addEventListener('toggle', async function () {
      if (!d.open || d.dataset.loaded) return;
      d.dataset.loaded = '1';
      try {
        var p = await suishen.json('GET', '/v1/policies/' + encodeURIComponent(code));
        body.appendChild(el('p', 'item-line', '依据：' + p.legal_basis));
        (p.criteria_in_words || []).forEach(function (w) { body.appendChild(el('p', 'item-line', '条件：' + w)); });
        if (p.example) body.appendChild(el('p', 'item-line', '示例政策：金额与口径以正式文件为准。'));
      } catch (err) {
        delete d.dataset.loaded;
        body.appendChild(el('p', 'item-line', '暂时无法获取政策说明，请稍后再试。'));
      }
    });
    return d;
  }

  async function loadBenefits() {
    var items = await entitlements();
    fill('benefit-list', 'benefit-empty', items, function (e) {
      var p = e.policy;
      var evidence = (e.evidence || []).map(function (v) { return certNames[v.certificate_id]; }).filter(Boolean);
      var li = row(p.name, [
        p.benefit ? [p.benefit.description, p.benefit.amount].filter(Boolean).join(' · ') : '',
        (BENEFIT_SINCE[e.status] || '') + suishen.day(e.at),
        evidence.length ? '依据证照 ' + evidence.join('、') : ''
      ], el('span', 'badge ' + (e.status === 'offered' ? 'badge-ok' : 'badge-bad'), BENEFIT_STATUS[e.status] || e.status));
      li.dataset.entitlement = e.id;
      li.dataset.status = e.status;
      li.appendChild(policyDetails(p.code, p.name));
      if (e.status === 'offered') {
        var acts = el('div', 'item-actions');
        acts.appendChild(confirmButton('放弃', p.name, '放弃后不再为您发放，不可恢复', async function () {
          await suishen.json('POST', '/v1/me/entitlements/' + encodeURIComponent(e.id) + '/decline');
          await loadBenefits();
        }));
        li.appendChild(acts);
      }
      return li;
    });
    $('benefits').hidden = false;
  }

  // 长者专版: one large line per offered entitlement, nothing to decide;
  // no section at all when there is none.
  async function loadElderBenefits() {
    var items = (await entitlements()).filter(function (e) { return e.status === 'offered'; });
    var ul = $('elder-benefit-list');
    ul.replaceChildren();
    items.forEach(function (e) { ul.appendChild(el('li', 'item', '您已自动享受：' + benefitLine(e.policy))); });
    $('elder-benefits').hidden = items.length === 0;
    $('elder-benefits').dataset.loaded = '1';
  }

  async function loadUsage() {
    var list = await suishen.json('GET', '/v1/me/usage-records?limit=50');
    fill('usage-list', 'usage-empty', list.items, function (u) {
      var what = [u.item_name, u.purpose].filter(Boolean).join(' · ');
      return row(u.org || '未知单位', [
        suishen.when(u.at) + ' · ' + channel(u),
        what,
        u.certificate_id ? '证照 ' + (certNames[u.certificate_id] || u.certificate_id) : (u.code_kind ? '随申码' : '')
      ], el('span', 'badge ' + (u.result === 'success' || u.result === 'valid' || u.result === 'eligible' ? 'badge-ok' : 'badge-bad'), RESULT[u.result] || u.result));
    });
    $('usage').hidden = false;
  }

  async function loadCheckins() {
    var list = await suishen.json('GET', '/v1/me/checkins?limit=50');
    fill('checkin-list', 'checkin-empty', list.items, function (ci) {
      return row((ci.venue && ci.venue.name) || '场所', [suishen.when(ci.at), ci.venue && ci.venue.address]);
    });
    $('checkins').hidden = false;
  }

  async function loadGrants() {
    var list = await suishen.json('GET', '/v1/me/authorizations?limit=100');
    var live = list.items.filter(function (g) { return !g.revoked_at && Date.parse(g.expires_at) > Date.now(); });
    fill('grant-list', 'grant-empty', live, function (g) {
      var li = row(g.app_name || g.app_id, [g.purpose, '到期 ' + suishen.day(g.expires_at), g.certificate_types.length + ' 类证照']);
      var b = el('button', 'small danger', '撤销');
      b.type = 'button';
      b.setAttribute('aria-label', '撤销对 ' + (g.app_name || g.app_id) + ' 的授权');
      b.addEventListener('click', async function () {
        b.disabled = true;
        try {
          await suishen.json('DELETE', '/v1/me/authorizations/' + encodeURIComponent(g.id));
          await loadGrants();
        } catch (err) {
          b.disabled = false;
          failed(err);
        }
      });
      li.appendChild(b);
      return li;
    });
    $('grants').hidden = false;
  }

  // --- page ---

  function wire() {
    $('show-code').addEventListener('click', function () {
      refreshCode();
      $('code').scrollIntoView({ block: 'start' });
    });
    $('help-toggle').addEventListener('click', function () {
      var open = $('help').hidden;
      $('help').hidden = !open;
      $('help-toggle').setAttribute('aria-expanded', String(open));
    });
    $('present-close').addEventListener('click', function () {
      $('present').hidden = true;
      loadUsage().catch(failed);
    });
    $('elder-switch').checked = elder;
    $('elder-switch').addEventListener('change', function () {
      location.search = this.checked ? '?elder=1' : '?elder=0';
    });
    $('sign-out').addEventListener('click', async function () {
      try { await suishen.json('DELETE', '/v1/me/session'); } catch (err) { /* ended already */ }
      signedOut('您已退出登录。');
    });
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden && me) refreshCode();
    });
  }

  async function start() {
    document.body.classList.toggle('elder', elder);
    if (elder) {
      $('print-link').href = '/print/offline?elder=1';
      document.title = '我的随申码（长者模式）';
    }
    wire();
    if (new URLSearchParams(location.search).get('login') === 'invalid') {
      signedOut('登录链接无效或已过期，请从随申办应用重新进入。');
      return;
    }
    try {
      me = await suishen.json('GET', '/v1/me');
    } catch (err) {
      if (!failed(err)) return;
      if (err.status === 401) signedOut('请从随申办应用进入本页面。');
      return;
    }
    $('name').textContent = me.masked_name;
    $('kind').textContent = me.kind === 'enterprise' ? '企业' : '个人';
    $('code-title').textContent = me.kind === 'enterprise' ? '企业码' : '我的随申码';
    $('foot').hidden = false;
    if (elder) $('actions').hidden = false;
    await refreshCode();
    if (elder) {
      await loadElderBenefits().catch(failed);
      return;
    }
    // Certificates first: the usage records and entitlements name them.
    await loadCerts().then(function () { return Promise.all([loadBenefits(), loadCopies(), loadUsage(), loadCheckins(), loadGrants()]); }).catch(failed);
  }

  start();
})();
