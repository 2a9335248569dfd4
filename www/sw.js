// Cross-origin isolation on a static host that cannot send headers (GitHub Pages): this
// service worker answers the site's own requests with the network's response plus
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
// which is what makes `crossOriginIsolated` true, and with it SharedArrayBuffer, shared wasm
// memory and the threaded CPU build (www/boot.js registers it and reloads once).
//
// require-corp, not credentialless: Safari has no credentialless, and the page loads nothing
// cross-origin without CORS (Hugging Face's files, the dataset's images, model APIs: all
// `fetch` in cors mode, which COEP lets through whatever the value), so the stricter value costs
// nothing and works in every browser that isolates.
//
// Requests to other origins are not touched (no respondWith): the browser sends them as the page
// asked. Nothing is cached here; the HTTP cache works as without a service worker.
const ISOLATION = [
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Embedder-Policy', 'require-corp'],
];

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return;
  // Chromium refuses to fetch 'only-if-cached' outside 'same-origin' mode (devtools sends it).
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(withIsolation(request));
});

async function withIsolation(request) {
  const response = await fetch(request);
  // Opaque answers (a redirect of a navigation) cannot be rebuilt; the browser follows them.
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of ISOLATION) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
