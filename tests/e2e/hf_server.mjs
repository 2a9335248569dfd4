// A local server in Hugging Face's URL layout for the page's model-loading tests (the node twin
// of tests/native/support/hf_server.rs): serves a folder at /<repo>/resolve/<revision>/<file> with
// Content-Length, ETag (the sha256 for .safetensors, as the hub's X-Linked-Etag; a 40-hex id
// for the rest) and Range (`bytes=N-` or `bytes=N-M`: 206 + Content-Range), the hub's listing at
// /api/models/<repo>/revision/<revision>, CORS for a page on another origin (preflight included,
// the headers the loader reads exposed), scripted faults, and a record of every request.
//
//   const hf = await startHfServer({ folder });
//   hf.fault('model.safetensors', { type: 'drop', after: 400_000 });   // once, then normal
//   hf.missing('vocab.json');                                           // 404 on every request
//   hf.hold('model.safetensors', at); … hf.release('model.safetensors');  // bytes from `at` on wait
//   source = `${hf.endpoint}/${hf.repo}/resolve/main/`  (or ModelSource::mirror(endpoint, repo, rev))
//
// Faults (used up one per request, in order): { type: 'drop', after, ms = 200 } sends the
// headers and `after` body bytes, then destroys the socket `ms` later; { type: 'stall', after, ms } sends `after` bytes
// and holds the connection `ms` before closing; { type: 'status', code }; { type: 'ignore_range' }
// answers 200 with the whole file; { type: 'wrong_etag' } names a wrong sha256.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const EXPOSED = [
  'Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag', 'X-Linked-Etag', 'X-Linked-Size',
  'X-Error-Message',
].join(', ');

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * Starts the server; resolves to { endpoint, repo, revision, seen(), seenFor(file), fault(file, f),
 * missing(file), hold(file, at, { requests }), release(file), reset(), close() }. `hold`: every
 * answer for `file` (or the next `requests` ones) sends its bytes before file offset `at`, then
 * nothing more until `release(file)`. `token`: require `Authorization: Bearer <token>` (none → 401,
 * another → 403). `listing`: serve the hub's listing API (default true).
 */
export async function startHfServer({
  folder, repo = 'test-org/tiny-clip', revision = 'main', listing = true, token = null,
} = {}) {
  const faults = new Map();
  const missing = new Set();
  const holds = new Map();
  let seen = [];

  const fileBytes = async (name) => {
    // Nested paths (a dataset's imgs/<k>.png) are served; no segment may be empty or hidden.
    if (name.split('/').some((seg) => seg === '' || seg.startsWith('.')) || missing.has(name)) return null;
    try { return await readFile(join(folder, name)); } catch { return null; }
  };

  const listingBody = async () => {
    const siblings = [];
    for (const name of (await readdir(folder)).sort()) {
      if (missing.has(name) || !(await stat(join(folder, name))).isFile()) continue;
      const bytes = await readFile(join(folder, name));
      const sibling = { rfilename: name, size: bytes.length };
      if (name.endsWith('.safetensors')) {
        sibling.lfs = { sha256: sha256(bytes), size: bytes.length, pointerSize: 134 };
      }
      siblings.push(sibling);
    }
    return JSON.stringify({ id: repo, sha: '0'.repeat(40), siblings });
  };

  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    const record = {
      path: `/${path}`, range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null, status: 0, sent: 0, fault: null,
    };
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': EXPOSED,
    };
    const status = (code, message) => {
      record.status = code;
      res.writeHead(code, { ...cors, 'content-type': 'text/plain', 'x-error-message': message });
      res.end(message);
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'GET, HEAD, OPTIONS',
        'access-control-allow-headers': 'Authorization, Range',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    seen.push(record);
    if (token) {
      if (!req.headers.authorization) return status(401, 'Access to this repo is restricted');
      if (req.headers.authorization !== `Bearer ${token}`) {
        return status(403, 'You have not accepted the conditions');
      }
    }
    if (path === `api/models/${repo}/revision/${revision}`) {
      if (!listing) return status(404, 'Not Found');
      record.status = 200;
      const body = await listingBody();
      res.writeHead(200, { ...cors, 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    const prefix = `${repo}/resolve/`;
    if (!path.startsWith(prefix)) return status(401, 'Repository not found');
    const rest = path.slice(prefix.length);
    if (!rest.startsWith(`${revision}/`)) return status(404, 'Revision not found');
    const name = rest.slice(revision.length + 1);
    const body = await fileBytes(name);
    if (!body) return status(404, 'Entry not found');
    const fault = faults.get(name)?.shift() ?? null;
    record.fault = fault;
    const lfs = name.endsWith('.safetensors');
    const digest = sha256(body);
    const etag = fault?.type === 'wrong_etag' ? `"${'0'.repeat(64)}"` : lfs ? `"${digest}"` : `"${digest.slice(0, 40)}"`;
    const headers = { ...cors, etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (lfs) headers['x-linked-etag'] = etag;
    if (fault?.type === 'status') return status(fault.code, 'scripted');
    const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = match && fault?.type !== 'ignore_range' ? Number(match[1]) : null;
    if (start !== null && start >= body.length) {
      record.status = 416;
      res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` });
      res.end();
      return;
    }
    let part = body;
    if (start !== null) {
      const end = match[2] ? Math.min(Number(match[2]) + 1, body.length) : body.length;
      part = body.subarray(start, end);
      headers['content-range'] = `bytes ${start}-${end - 1}/${body.length}`;
      record.status = 206;
    } else {
      record.status = 200;
      start = 0;
    }
    headers['content-length'] = String(part.length);
    res.writeHead(record.status, headers);
    if (fault?.type === 'drop' || fault?.type === 'stall') {
      const sent = part.subarray(0, fault.after);
      record.sent = sent.length;
      // A short pause before a drop lets the browser hand the bytes to the page first (a
      // connection that breaks within the same instant may surface as an error only).
      const hold = fault.type === 'stall' ? fault.ms : (fault.ms ?? 200);
      res.write(sent, () => setTimeout(() => res.socket?.destroy(), hold));
      return;
    }
    const held = holds.get(name);
    if (held && --held.requests <= 0) holds.delete(name);
    const cut = held ? Math.max(0, held.at - start) : part.length;
    if (cut < part.length) {
      record.held = true;
      res.write(part.subarray(0, cut));
      await held.released;
      record.sent = part.length;
      res.end(part.subarray(cut));
      return;
    }
    record.sent = part.length;
    res.end(part);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    repo,
    revision,
    seen: () => seen.slice(),
    seenFor: (file) => seen.filter((s) => s.path.endsWith(`/${file}`)),
    fault(file, fault) {
      if (!faults.has(file)) faults.set(file, []);
      faults.get(file).push(fault);
    },
    missing(file) { missing.add(file); },
    hold(file, at, { requests = Infinity } = {}) {
      let release;
      const released = new Promise((ok) => { release = ok; });
      holds.set(file, { at, released, release, requests });
    },
    release(file) { holds.get(file)?.release(); holds.delete(file); },
    reset() {
      for (const held of holds.values()) held.release();
      holds.clear(); faults.clear(); missing.clear(); seen = [];
    },
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(ok); }),
  };
}
