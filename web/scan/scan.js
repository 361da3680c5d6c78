// /scan: a scanner for venues and verifiers. Codes are verified in the page
// by package verifier compiled to WebAssembly (suishenVerifier, see
// web/wasm), against the trust bundle fetched from /v1/trust — network first,
// the cached copy when the network is down — so scanning keeps working
// offline. A venue that signs in with its API key records its scans: they are
// queued in localStorage with a stable id each and uploaded through
// POST /v1/venue/scans/batch, so uploading the same scan twice records it once.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  // Reasons in words (verifier's Reason... codes; TestScanReasonsInChinese
  // keeps this list complete).
  const REASONS = {
    malformed: "不是有效的随申码或电子证照",
    oversized: "内容过长，不是有效的码",
    unsupported_algorithm: "签名算法不受支持",
    unsupported_version: "码的版本较新，请刷新本页面后再试",
    unknown_kind: "未知的码类型，请刷新本页面后再试",
    bad_signature: "签名不正确：伪造或被篡改的码",
    unknown_key: "签发密钥不在信任数据中，请联网更新后再试",
    key_compromised: "签发密钥已被报告泄露",
    wrong_role: "签发密钥的用途不符",
    key_not_trusted_for_type: "发证机构无权签发此类证照",
    key_not_trusted_for_region: "互认地区的密钥无权为该地区签发证照",
    key_retired: "签发密钥已退役",
    key_not_yet_valid: "签发时签发密钥尚未生效",
    expired: "已过期",
    not_yet_valid: "尚未生效（请检查本机时间）",
    wrong_kind: "此处不接受这类码",
    suspended: "已暂扣",
    revoked: "已吊销或注销",
    superseded: "已作废：已有更新的版本（例如重新打印了离线码）",
    withdrawn: "持证人已撤回此加注件",
    status_list_missing: "缺少状态数据，无法确认是否已作废",
    status_list_expired: "状态数据已过期，无法确认是否已作废",
    status_unknown: "状态数据中没有此项",
    bundle_expired: "信任数据已过期，请联网更新",
    bundle_outdated: "证照比信任数据新，请联网更新后再试",
    bundle_unavailable: "没有可用的信任数据，请联网后重试",
    unverifiable: "出现意外错误，无法核验",
  };
  const KINDS = {
    personal: "个人随申码",
    offline: "离线码",
    enterprise: "企业码",
    venue: "场所码",
    presentation: "亮证码",
    copy: "加注件（证照复印件）",
    certificate: "电子证照",
  };
  const VERDICTS = { valid: "有效", invalid: "无效", unknown: "无法核验" };
  const PERSON_KINDS = ["personal", "offline"];

  const DATA_CACHE = "suishen-scan-data"; // shared with the service worker
  const VENUE_KEY = "suishen.scan.venue";
  const QUEUE_PREFIX = "suishen.scan.queue.";
  const UPLOAD_EVERY_MS = 5000;
  const BATCH = 500;

  const anchorPEM = document.querySelector('meta[name="suishen-anchor"]').content;
  const assets = document.querySelector('meta[name="suishen-assets"]').dataset;

  let verifierReady = false;
  let bundle = null; // {issued_at, next_update, expires_at, fresh}
  let homeRegion = ""; // the home bundle's region code (区域互认)
  let refreshTimer = 0;

  // --- status lines ---
  function trustStatus(text, level) {
    const el = $("trust-status");
    el.textContent = text;
    el.className = level || "";
  }
  function clock(iso) {
    return new Date(iso).toLocaleString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
  }
  function showTrust() {
    if (!bundle) return;
    if (Date.now() >= Date.parse(bundle.expires_at)) {
      trustStatus("信任数据已过期（" + clock(bundle.expires_at) + "），请联网更新", "error");
    } else if (bundle.fresh) {
      trustStatus("信任数据已更新（" + clock(bundle.issued_at) + " 签发）；断网后仍可核验", "");
    } else {
      trustStatus("离线：使用本机保存的信任数据（" + clock(bundle.issued_at) + " 签发）", "warn");
    }
  }

  // --- trust data: network first, the cache when the network is down ---
  // (a status list asked for by its digest never changes: cache first)
  async function fetchData(path, immutable) {
    let cache = null;
    try {
      cache = await caches.open(DATA_CACHE);
    } catch (_) {
      cache = null; // no Cache API (not a secure context): network only
    }
    if (immutable && cache) {
      const hit = await cache.match(path);
      if (hit) return { text: await hit.text(), fresh: true };
    }
    try {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 5000);
      const res = await fetch(path, { cache: "no-cache", signal: ctl.signal });
      clearTimeout(timer);
      if (!res.ok) throw new Error("HTTP " + res.status);
      const text = await res.text();
      const fresh = res.headers.get("X-Suishen-Cached") !== "1"; // the service worker's fallback
      if (cache && fresh) {
        await cache.put(path, new Response(text, { headers: { "Content-Type": "application/jose" } }));
      }
      return { text, fresh };
    } catch (err) {
      const hit = cache && (await cache.match(path));
      if (hit) return { text: await hit.text(), fresh: false };
      throw err;
    }
  }

  function listPath(ref) {
    const base = ref.region ? "/v1/regions/" + encodeURIComponent(ref.region) + "/status-lists/" : "/v1/status-lists/";
    return base + encodeURIComponent(ref.id) + "?sm3=" + encodeURIComponent(ref.sm3);
  }

  // fetchLists hands the verifier the status lists refs name (a peer
  // region's when ref.region is set); a list that cannot be had leaves
  // codes that need it unknown.
  async function fetchLists(refs) {
    await Promise.all(refs.map(async (ref) => {
      try {
        const data = await fetchData(listPath(ref), true);
        if (ref.region) globalThis.suishenVerifier.addPeerList(ref.region, ref.id, data.text);
        else globalThis.suishenVerifier.addList(ref.id, data.text);
      } catch (_) {
        // offline and never fetched: unknown until the network returns
      }
    }));
  }

  // loadPeers loads the bundles of the peer regions the home bundle
  // endorses (区域互认), as this node relays them, and their lists.
  async function loadPeers(peers) {
    await Promise.all((peers || []).map(async (p) => {
      try {
        const data = await fetchData("/v1/regions/" + encodeURIComponent(p.code) + "/trust");
        const info = JSON.parse(globalThis.suishenVerifier.loadPeer(p.code, data.text));
        if (info.ok) await fetchLists(info.status_lists.filter((ref) => !ref.held).map((ref) => ({ ...ref, region: p.code })));
      } catch (_) {
        // a peer that cannot be had: its codes stay unknown
      }
    }));
  }

  // pruneLists drops cached lists the current bundle no longer references.
  async function pruneLists(refs) {
    try {
      const keep = new Set(refs.map((ref) => new URL(listPath(ref), location.href).href));
      const cache = await caches.open(DATA_CACHE);
      for (const req of await cache.keys()) {
        if (new URL(req.url).pathname.startsWith("/v1/status-lists/") && !keep.has(req.url)) await cache.delete(req);
      }
    } catch (_) {
      // nothing to prune without the Cache API
    }
  }

  async function loadTrust() {
    clearTimeout(refreshTimer);
    let wait = 60000;
    try {
      const data = await fetchData("/v1/trust");
      const info = JSON.parse(globalThis.suishenVerifier.load(data.text, anchorPEM));
      if (info.ok) {
        // Every list now, not when a code needs it: the network may be gone by then.
        await fetchLists(info.status_lists.filter((ref) => !ref.held));
        homeRegion = (info.region && info.region.code) || "";
        await loadPeers(info.peers);
        if (data.fresh) pruneLists(info.status_lists);
        bundle = { issued_at: info.issued_at, next_update: info.next_update, expires_at: info.expires_at, fresh: data.fresh };
        wait = Math.min(Math.max(Date.parse(info.next_update) - Date.now(), 30000), 300000);
        if (!data.fresh) wait = 30000;
      } else if (!bundle) {
        trustStatus("信任数据无法通过验证，无法核验", "error");
      }
    } catch (_) {
      if (!bundle) trustStatus("无法获取信任数据，请联网后刷新本页面", "error");
      else bundle.fresh = false;
      wait = 30000;
    }
    showTrust();
    refreshTimer = setTimeout(loadTrust, wait);
  }

  async function startVerifier() {
    const go = new Go();
    let inst;
    try {
      inst = await WebAssembly.instantiateStreaming(fetch(assets.wasm), go.importObject);
    } catch (_) {
      const buf = await (await fetch(assets.wasm)).arrayBuffer();
      inst = await WebAssembly.instantiate(buf, go.importObject);
    }
    go.run(inst.instance); // sets globalThis.suishenVerifier, then waits
    verifierReady = true;
  }

  // --- showing a result ---
  function show(r) {
    const box = $("result");
    box.className = "result " + r.result;
    $("verdict").textContent = (r.result === "valid" ? "✓ " : r.result === "invalid" ? "✗ " : "? ") + VERDICTS[r.result];
    $("subject").textContent = (r.subject && r.subject.masked) || "";
    $("kind").textContent = (KINDS[r.kind] || "") +
      (r.region && r.region.code !== homeRegion ? "（互认地区：" + (r.region.name || r.region.code) + "）" : "");
    // A copy (加注件) says whom it was made for and why.
    const copy = r.copy;
    $("copy").hidden = !copy;
    $("copy-annotation").textContent = copy ? copy.annotation : "";
    $("copy-recipient").textContent = copy ? copy.recipient_org + "（统一社会信用代码 " + copy.recipient_uscc + "）" : "";
    $("copy-purpose").textContent = copy ? copy.purpose : "";
    $("copy-expires").textContent = copy && r.expires_at ? new Date(r.expires_at).toLocaleString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }) : "";
    const list = $("reasons");
    list.replaceChildren();
    for (const reason of r.reasons || []) {
      const li = document.createElement("li");
      // A copy's own entry is revoked also when its holder withdrew it.
      li.textContent = r.kind === "copy" && reason.code === "revoked" ? "已失效：加注件已被撤回，或证照已吊销、注销" :
        REASONS[reason.code] || "无法核验（" + reason.code + "）";
      li.dataset.code = reason.code;
      list.append(li);
    }
    $("checked-at").textContent = "本机核验于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
    box.dataset.result = r.result;
  }

  let lastReload = 0;
  function newerThanBundle(r) {
    return r.result === "unknown" && (r.reasons || []).some((x) => x.code === "status_list_missing" || x.code === "unknown_key" || x.code === "bundle_outdated");
  }

  async function verifyText(text) {
    if (!verifierReady) {
      show({ result: "unknown", reasons: [{ code: "bundle_unavailable" }] });
      return null;
    }
    const v = venue();
    const kinds = v ? PERSON_KINDS.join(",") : "";
    let r = JSON.parse(globalThis.suishenVerifier.verify(text, kinds));
    const missing = JSON.parse(globalThis.suishenVerifier.wanted());
    if (missing.length) { // a list the bundle references and the page did not have yet
      await fetchLists(missing);
      r = JSON.parse(globalThis.suishenVerifier.verify(text, kinds));
    }
    if (newerThanBundle(r) && navigator.onLine && Date.now() - lastReload > 10000) {
      // A key or a status list newer than the page's bundle: fetch it and look again.
      lastReload = Date.now();
      await loadTrust();
      r = JSON.parse(globalThis.suishenVerifier.verify(text, kinds));
    }
    show(r);
    if (v && r.result !== "invalid" && PERSON_KINDS.includes(r.kind)) enqueue(v, text);
    return r;
  }

  // --- camera ---
  let lastText = "";
  let lastSeen = 0;
  async function startCamera() {
    const status = $("camera-status");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = "此浏览器无法使用摄像头，请在下方输入码";
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    } catch (err) {
      status.textContent = err && err.name === "NotAllowedError"
        ? "未获得摄像头权限：请在浏览器设置中允许，或在下方输入码"
        : "无法打开摄像头，请在下方输入码";
      return;
    }
    const video = $("video");
    video.srcObject = stream;
    await video.play();
    $("camera-start").hidden = true;
    $("preview").hidden = false;
    status.textContent = "正在扫码：请将二维码对准摄像头";
    scanFrame();
  }

  function scanFrame() {
    const video = $("video");
    const canvas = $("preview");
    if (video.readyState >= 2 && video.videoWidth > 0) {
      const scale = Math.min(1, 640 / video.videoWidth);
      const w = Math.round(video.videoWidth * scale);
      const h = Math.round(video.videoHeight * scale);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, w, h);
      const qr = globalThis.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "attemptBoth" });
      if (qr && qr.data) {
        const now = Date.now();
        // The same code held in front of the camera is one scan.
        if (qr.data !== lastText || now - lastSeen > 3000) verifyText(qr.data);
        lastText = qr.data;
        lastSeen = now;
      }
    }
    setTimeout(scanFrame, 150);
  }

  // --- venue sign-in and the upload queue ---
  function venue() {
    try {
      return JSON.parse(localStorage.getItem(VENUE_KEY) || "null");
    } catch (_) {
      return null;
    }
  }
  function queueKey(v) {
    return QUEUE_PREFIX + v.key_id; // scans stay with the venue whose key recorded them
  }
  function readQueue(v) {
    try {
      return JSON.parse(localStorage.getItem(queueKey(v)) || "[]");
    } catch (_) {
      return [];
    }
  }
  function writeQueue(v, q) {
    if (q.length) localStorage.setItem(queueKey(v), JSON.stringify(q));
    else localStorage.removeItem(queueKey(v));
    $("queue-count").textContent = String(q.length);
  }
  function enqueue(v, text) {
    const q = readQueue(v);
    q.push({ id: crypto.randomUUID(), code: text, scanned_at: new Date().toISOString() });
    writeQueue(v, q);
    upload();
  }
  function uploadStatus(text) {
    $("upload-status").textContent = text;
  }

  let uploading = false;
  async function upload() {
    const v = venue();
    if (!v || uploading) return;
    const pending = readQueue(v);
    if (!pending.length) return;
    uploading = true;
    let more = false;
    try {
      const batch = pending.slice(0, BATCH);
      const res = await fetch("/v1/venue/scans/batch", {
        method: "POST",
        headers: { Authorization: "Bearer " + v.key, "Content-Type": "application/json" },
        body: JSON.stringify({ items: batch }),
      });
      let done = new Set();
      if (res.status === 401) {
        uploadStatus("场所密钥已失效：请重新登录（记录仍保存在本机）");
      } else if (res.status === 422) {
        // Items the server can never take (e.g. this device's clock is far
        // ahead) are dropped so they cannot block the rest.
        const p = await res.json();
        for (const e of p.errors || []) {
          const m = /^items\[(\d+)\]/.exec(e.field || "");
          if (m && batch[Number(m[1])]) done.add(batch[Number(m[1])].id);
        }
        uploadStatus("有 " + done.size + " 条记录无法上传，已丢弃");
      } else if (!res.ok) {
        uploadStatus("上传失败，稍后自动重试");
      } else {
        const body = await res.json();
        done = new Set((body.items || []).map((it) => it.id));
        uploadStatus("已上传");
      }
      if (done.size) {
        const rest = readQueue(v).filter((it) => !done.has(it.id));
        writeQueue(v, rest);
        more = rest.length > 0;
      }
    } catch (_) {
      uploadStatus("离线：记录已保存在本机，联网后自动上传");
    } finally {
      uploading = false;
    }
    if (more) setTimeout(upload, 0);
  }

  function showVenue() {
    const v = venue();
    $("venue-section").hidden = !!v;
    $("venue-info").hidden = !v;
    if (v) {
      $("venue-name").textContent = v.name;
      $("queue-count").textContent = String(readQueue(v).length);
    }
  }

  async function login(key) {
    const err = $("venue-error");
    err.textContent = "";
    const m = /^ssk_ven_([A-Za-z0-9]{16})\./.exec(key);
    if (!m) {
      err.textContent = "这不是场所密钥（应以 ssk_ven_ 开头）";
      return;
    }
    let res;
    try {
      res = await fetch("/v1/venue/code", { headers: { Authorization: "Bearer " + key, Accept: "application/json" } });
    } catch (_) {
      err.textContent = "无法连接服务器：登录需要联网";
      return;
    }
    if (res.status === 401 || res.status === 403) {
      err.textContent = "密钥不正确或已失效";
      return;
    }
    if (!res.ok) {
      err.textContent = "登录失败，请稍后再试";
      return;
    }
    // The venue's own code, verified here, names the venue.
    // (A venue code issued just now may be newer than the page's status
    // data — unknown, not invalid; its signed name is still the venue's.)
    const code = (await res.json()).code;
    const r = verifierReady ? JSON.parse(globalThis.suishenVerifier.verify(code, "venue")) : null;
    const name = r && r.result !== "invalid" && r.subject && r.subject.masked ? r.subject.masked : "场所 " + m[1];
    localStorage.setItem(VENUE_KEY, JSON.stringify({ key, key_id: m[1], name }));
    $("venue-key").value = "";
    showVenue();
    upload();
  }

  // --- wiring ---
  document.addEventListener("DOMContentLoaded", async () => {
    $("camera-start").addEventListener("click", startCamera);
    $("manual-form").addEventListener("submit", (e) => {
      e.preventDefault();
      // Line breaks of a paste go; spaces stay (Base45 has a space).
      const text = $("code-input").value.replace(/^[\r\n\t]+|[\r\n\t]+$/g, "");
      if (text) verifyText(text);
    });
    $("venue-login").addEventListener("submit", (e) => {
      e.preventDefault();
      login($("venue-key").value.trim());
    });
    $("venue-logout").addEventListener("click", () => {
      localStorage.removeItem(VENUE_KEY); // queued scans stay, keyed by the venue's key
      showVenue();
    });
    window.addEventListener("online", () => { upload(); loadTrust(); });
    window.addEventListener("offline", () => {
      if (bundle) bundle.fresh = false;
      showTrust();
    });
    setInterval(upload, UPLOAD_EVERY_MS);
    showVenue();

    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(assets.sw, { scope: "/scan" }).catch(() => {});
    }
    try {
      await startVerifier();
    } catch (_) {
      trustStatus("核验程序无法启动：请使用较新的浏览器", "error");
      return;
    }
    await loadTrust();
    document.body.dataset.ready = "1";
    upload();
  });
})();
