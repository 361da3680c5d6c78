// The /scan service worker: the page, its scripts and the WebAssembly
// verifier are cached at install (cache first: their URLs carry a content
// hash); the trust bundle is fetched network first and kept, status lists
// (asked for by their digest, so they never change) cache first, so a reload with the network down still verifies. A response served
// from the cache because the network failed says so in X-Suishen-Cached.
"use strict";
const VERSION = {{.Version}};
const STATIC = "suishen-scan-static-" + VERSION;
const DATA = "suishen-scan-data";
const PRECACHE = {{.Assets}};
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC);
    await cache.addAll(PRECACHE.concat(["/scan"]));
    try {
      const res = await fetch("/v1/trust", { cache: "no-cache" });
      if (res.ok) await (await caches.open(DATA)).put("/v1/trust", res);
    } catch (_) {
      // offline at install: the page stores the bundle it fetched itself
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("suishen-scan-static-") && name !== STATIC) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function networkFirst(request, cacheName, key) {
  const cache = await caches.open(cacheName);
  try {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), NETWORK_TIMEOUT_MS);
    const res = await fetch(request, { signal: ctl.signal });
    clearTimeout(timer);
    if (res.ok) await cache.put(key, res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match(key);
    if (!hit) throw err;
    const headers = new Headers(hit.headers);
    headers.set("X-Suishen-Cached", "1");
    return new Response(await hit.blob(), { status: hit.status, statusText: hit.statusText, headers });
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // uploads go to the network, always
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (PRECACHE.includes(url.pathname + url.search)) {
    event.respondWith((async () => (await caches.match(request, { cacheName: STATIC })) || fetch(request))());
  } else if (url.pathname === "/scan") {
    event.respondWith(networkFirst(request, STATIC, "/scan"));
  } else if (url.pathname.startsWith("/v1/status-lists/") && url.searchParams.has("sm3")) {
    // a list by its digest never changes
    event.respondWith((async () => (await caches.match(url.pathname + url.search, { cacheName: DATA })) ||
      networkFirst(request, DATA, url.pathname + url.search))());
  } else if (url.pathname === "/v1/trust" || url.pathname.startsWith("/v1/status-lists/") || url.pathname.startsWith("/v1/regions/")) {
    event.respondWith(networkFirst(request, DATA, url.pathname + url.search));
  }
});
