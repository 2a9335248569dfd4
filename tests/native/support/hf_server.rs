//! A local server in Hugging Face's URL layout for the model-loading tests: std only, one thread
//! per connection, HTTP/1.1 keep-alive, on 127.0.0.1 with a free port.
//!
//! `/<repo>/resolve/<revision>/<file>` serves a fixture folder with `Content-Length`, `ETag`
//! (the sha256 for `.safetensors`, as the hub's `X-Linked-Etag`; a 40-hex id for the rest) and
//! `Range: bytes=N-` or `bytes=N-M` (206 + `Content-Range`; none with `no_ranges`).
//! `/api/models/<repo>/revision/<rev>` gives the listing with sizes and the LFS sha256. An
//! unknown repo answers 401 as the hub does. `hold` keeps one file's bytes from an offset on
//! until [`HfServer::release`] (the vision tower held back, for the text-first tests).
//!
//! Faults are scripted per file and used up one per request, in order; missing files answer
//! 404 on every request. Every request is recorded.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leakscope::util::hash::sha256_hex;

pub const REPO: &str = "test-org/tiny-clip";
pub const REVISION: &str = "main";

#[derive(Clone, Debug, PartialEq)]
pub enum HfFault {
    /// Send the headers (full length) and this many body bytes, then close the connection.
    DropAfter(usize),
    /// Send this many body bytes, then nothing for a while (the connection stays open), then
    /// close.
    StallAfter(usize, std::time::Duration),
    /// Answer this status with a short body.
    Status(u16),
    /// Answer 200 with the whole file although a Range was asked.
    IgnoreRange,
    /// Name a wrong sha256 in `ETag`/`X-Linked-Etag`.
    WrongEtag,
    /// Answer normally (to script the request after this one).
    Pass,
}

#[derive(Default)]
pub struct HfScript {
    pub faults: HashMap<String, VecDeque<HfFault>>,
    /// Answer 404 for these files on every request.
    pub missing: BTreeSet<String>,
    /// Require `Authorization: Bearer <token>`: none → 401, another → 403.
    pub token: Option<String>,
    /// Serve `/api/models/...` (the hub does; most mirrors do not).
    pub listing: bool,
    /// Answer `.safetensors` requests with a 302 to `/cdn/<file>`, as the hub sends LFS files
    /// to its CDN.
    pub redirect_lfs: bool,
    /// Ignore every `Range` (200 with the whole file), as some servers do.
    pub no_ranges: bool,
    /// Send this file's bytes before this offset, then nothing more (on any request) until
    /// [`HfServer::release`] (or 20 s).
    pub hold: Option<(String, usize)>,
}

impl HfScript {
    pub fn fault(&mut self, file: &str, fault: HfFault) -> &mut Self {
        self.faults
            .entry(file.to_string())
            .or_default()
            .push_back(fault);
        self
    }

    pub fn missing(&mut self, file: &str) -> &mut Self {
        self.missing.insert(file.to_string());
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct HfSeen {
    pub path: String,
    /// The `Range` header, verbatim.
    pub range: Option<String>,
    pub authorization: Option<String>,
    pub status: u16,
    /// Body bytes written.
    pub sent: usize,
    pub fault: Option<HfFault>,
}

struct State {
    folder: PathBuf,
    script: Mutex<HfScript>,
    seen: Mutex<Vec<HfSeen>>,
    stop: AtomicBool,
    released: AtomicBool,
    /// A hold ran out before [`HfServer::release`].
    timed_out: AtomicBool,
}

pub struct HfServer {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl HfServer {
    pub fn start(folder: &Path, script: HfScript) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            folder: folder.to_path_buf(),
            script: Mutex::new(script),
            seen: Mutex::default(),
            stop: AtomicBool::new(false),
            released: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
        });
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:<port>`: the endpoint of a hub mirror.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<HfSeen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Requests for one file (by the path's last segment; the listing is `listing`).
    pub fn seen_for(&self, file: &str) -> Vec<HfSeen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.rsplit('/').next() == Some(file))
            .collect()
    }

    pub fn script(&self) -> std::sync::MutexGuard<'_, HfScript> {
        self.state.script.lock().unwrap()
    }

    /// Lets the held bytes go (see `HfScript::hold`).
    pub fn release(&self) {
        self.state.released.store(true, Ordering::SeqCst);
    }

    pub fn released(&self) -> bool {
        self.state.released.load(Ordering::SeqCst)
    }

    /// A hold gave up waiting for [`Self::release`].
    pub fn timed_out(&self) -> bool {
        self.state.timed_out.load(Ordering::SeqCst)
    }
}

impl Drop for HfServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // unblock accept
    }
}

struct Request {
    path: String,
    range: Option<String>,
    authorization: Option<String>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let _method = parts.next()?;
    let target = parts.next()?.to_string();
    let mut request = Request {
        path: target.split('?').next().unwrap_or("").to_string(),
        range: None,
        authorization: None,
    };
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Some(request);
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim().to_string();
            if k.eq_ignore_ascii_case("range") {
                request.range = Some(v);
            } else if k.eq_ignore_ascii_case("authorization") {
                request.authorization = Some(v);
            }
        }
    }
}

fn serve(stream: TcpStream, state: &State) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        if !answer(&mut writer, &request, state) {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close after this many body bytes.
    cut: Option<usize>,
    /// Before closing, hold the connection this long.
    stall: Option<std::time::Duration>,
    /// Body bytes sent before waiting for [`HfServer::release`].
    hold: Option<usize>,
}

impl Reply {
    fn status(status: u16, message: &str) -> Self {
        Self {
            status,
            headers: vec![("x-error-message".into(), message.into())],
            body: message.as_bytes().to_vec(),
            cut: None,
            stall: None,
            hold: None,
        }
    }
}

/// Writes the answer; false when the connection must close.
fn answer(w: &mut TcpStream, request: &Request, state: &State) -> bool {
    let (reply, fault) = route(request, state);
    let sent = reply.cut.unwrap_or(reply.body.len()).min(reply.body.len());
    state.seen.lock().unwrap().push(HfSeen {
        path: request.path.clone(),
        range: request.range.clone(),
        authorization: request.authorization.clone(),
        status: reply.status,
        sent,
        fault,
    });
    let reason = match reply.status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-length: {}\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let held = reply.hold.unwrap_or(sent).min(sent);
    let mut ok = w
        .write_all(head.as_bytes())
        .and_then(|()| w.write_all(&reply.body[..held]))
        .and_then(|()| w.flush())
        .is_ok();
    if held < sent {
        let until = Instant::now() + Duration::from_secs(20);
        while !state.released.load(Ordering::SeqCst) {
            if Instant::now() > until {
                state.timed_out.store(true, Ordering::SeqCst);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        ok &= w
            .write_all(&reply.body[held..sent])
            .and_then(|()| w.flush())
            .is_ok();
    }
    if let Some(pause) = reply.stall {
        std::thread::sleep(pause);
    }
    ok && reply.cut.is_none()
}

fn route(request: &Request, state: &State) -> (Reply, Option<HfFault>) {
    let path = request.path.trim_start_matches('/');
    let mut script = state.script.lock().unwrap();
    if let Some(token) = &script.token {
        match &request.authorization {
            None => {
                return (
                    Reply::status(401, "Access to this repo is restricted"),
                    None,
                );
            }
            Some(a) if *a != format!("Bearer {token}") => {
                return (
                    Reply::status(403, "You have not accepted the conditions"),
                    None,
                );
            }
            Some(_) => {}
        }
    }
    let listing_prefix = format!("api/models/{REPO}/revision/{REVISION}");
    if path == listing_prefix {
        if !script.listing {
            return (Reply::status(404, "Not Found"), None);
        }
        return (json_reply(listing(&state.folder, &script)), None);
    }
    let (file, from_cdn) = if let Some(file) = path.strip_prefix("cdn/") {
        (file.to_string(), true)
    } else {
        let Some(rest) = path.strip_prefix(&format!("{REPO}/resolve/")) else {
            return (Reply::status(401, "Repository not found"), None);
        };
        let Some(file) = rest.strip_prefix(&format!("{REVISION}/")) else {
            return (Reply::status(404, "Revision not found"), None);
        };
        (file.to_string(), false)
    };
    if script.missing.contains(&file) || file.contains('/') || file.starts_with('.') {
        return (Reply::status(404, "Entry not found"), None);
    }
    let Ok(body) = std::fs::read(state.folder.join(&file)) else {
        return (Reply::status(404, "Entry not found"), None);
    };
    let lfs = file.ends_with(".safetensors");
    let sha = sha256_hex(&body);
    if lfs && script.redirect_lfs && !from_cdn {
        let reply = Reply {
            status: 302,
            headers: vec![
                ("location".into(), format!("/cdn/{file}")),
                ("x-linked-etag".into(), format!("\"{sha}\"")),
                ("x-linked-size".into(), body.len().to_string()),
            ],
            body: Vec::new(),
            cut: None,
            stall: None,
            hold: None,
        };
        return (reply, None);
    }
    let fault = script.faults.get_mut(&file).and_then(VecDeque::pop_front);
    let script_no_ranges = script.no_ranges;
    let script_hold = script.hold.clone();
    drop(script);
    let etag = match (&fault, lfs) {
        (Some(HfFault::WrongEtag), _) => format!("\"{}\"", "0".repeat(64)),
        (_, true) => format!("\"{sha}\""),
        (_, false) => format!("\"{}\"", &sha[..40]),
    };
    let mut headers = vec![
        ("etag".to_string(), etag.clone()),
        ("accept-ranges".to_string(), "bytes".to_string()),
    ];
    if lfs {
        headers.push(("x-linked-etag".into(), etag));
    }
    if let Some(HfFault::Status(code)) = fault {
        return (Reply::status(code, "scripted"), fault);
    }
    // `bytes=N-` or `bytes=N-M` (M included).
    let range = request
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| {
            let start = a.parse::<usize>().ok()?;
            let end = match b {
                "" => None,
                b => Some(b.parse::<usize>().ok()? + 1),
            };
            Some((start, end))
        })
        .filter(|_| fault != Some(HfFault::IgnoreRange) && !script_no_ranges);
    let len = body.len();
    let hold = script_hold
        .filter(|(held, _)| *held == file)
        .map(|(_, at)| at);
    let mut reply = match range {
        Some((start, _)) if start >= len => {
            headers.push(("content-range".into(), format!("bytes */{len}")));
            Reply {
                status: 416,
                headers,
                body: Vec::new(),
                cut: None,
                stall: None,
                hold: None,
            }
        }
        Some((start, end)) => {
            let end = end.unwrap_or(len).min(len);
            headers.push((
                "content-range".into(),
                format!("bytes {start}-{}/{len}", end - 1),
            ));
            Reply {
                status: 206,
                headers,
                body: body[start..end].to_vec(),
                cut: None,
                stall: None,
                hold: hold.map(|at| at.saturating_sub(start)),
            }
        }
        None => Reply {
            status: 200,
            headers,
            body,
            cut: None,
            stall: None,
            hold,
        },
    };
    match fault {
        Some(HfFault::DropAfter(n)) => reply.cut = Some(n),
        Some(HfFault::StallAfter(n, pause)) => {
            reply.cut = Some(n);
            reply.stall = Some(pause);
        }
        _ => {}
    }
    (reply, fault)
}

fn json_reply(body: String) -> Reply {
    Reply {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into_bytes(),
        cut: None,
        stall: None,
        hold: None,
    }
}

/// What `/api/models/<repo>/revision/<rev>?blobs=true` answers, for the folder's files.
fn listing(folder: &Path, script: &HfScript) -> String {
    let mut siblings = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        if script.missing.contains(&name) {
            continue;
        }
        let bytes = std::fs::read(folder.join(&name)).unwrap();
        let mut sibling = serde_json::json!({"rfilename": name, "size": bytes.len()});
        if name.ends_with(".safetensors") {
            sibling["lfs"] = serde_json::json!({
                "sha256": sha256_hex(&bytes), "size": bytes.len(), "pointerSize": 134
            });
        }
        siblings.push(sibling);
    }
    serde_json::json!({"id": REPO, "sha": "0".repeat(40), "siblings": siblings}).to_string()
}
