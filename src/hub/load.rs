//! A whole checkpoint from a source: the cache first (a complete earlier load needs no request
//! at all), then the hub's file listing when there is one (sizes for an exact total, the
//! weights' sha256), then each file in turn through [`download`], kept in the cache as it
//! completes. Without a listing, missing files are found by their 404: `vocab.json` or
//! `merges.txt` missing means `tokenizer.json`; `preprocessor_config.json` missing means CLIP's
//! defaults.
//!
//! [`load_checkpoint_text_first`] fetches the weights text tower first ([`super::towers`]) and
//! hands over the small files with the text part as soon as it is in, so a caller can score
//! text while the vision tower downloads. The weights are the last file either way.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::cache::{CacheEntry, CacheErrorKind, CachedFile, MANIFEST, ModelCache};
use super::download::{
    Failure, Fetched, FileEvent, FileStats, Partial, RetryPolicy, Target, download,
};
use super::files::{self, CONFIG, MERGES, PREPROCESSOR, TOKENIZER, VOCAB, WEIGHTS};
use super::progress::{LoadProgress, RateMeter};
use super::towers::{TextFirst, download_text_first};
use super::transport::GetRequest;
use super::{HubError, HubWarning, ModelSource};
use crate::embedder::CheckpointFiles;
use crate::platform::clock::Clock;
use crate::platform::http::HttpClient;
use crate::util::hash::{hex, sha256};

/// The listing is a few kB; anything past this is not a listing.
pub const MAX_LISTING: usize = 4 << 20;

#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// A Hugging Face access token, sent as `Authorization: Bearer …` (gated and private repos).
    pub token: Option<String>,
    /// sha256 (hex) the caller knows, by file name; checked before anything else says.
    pub sha256: BTreeMap<String, String>,
    pub retry: RetryPolicy,
    /// The shortest time between two progress calls; file boundaries and retries always report.
    pub progress_every: Duration,
    /// Ask the hub for its listing (one small request) before downloading.
    pub use_listing: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            token: None,
            sha256: BTreeMap::new(),
            retry: RetryPolicy::default(),
            progress_every: Duration::from_millis(100),
            use_listing: true,
        }
    }
}

/// The platform services a load uses.
#[derive(Clone, Copy)]
pub struct Platform<'a> {
    pub net: &'a dyn HttpClient,
    /// `None`: nothing is read from or written to storage.
    pub cache: Option<&'a dyn ModelCache>,
    pub clock: &'a dyn Clock,
}

/// How one file was obtained.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub from_cache: bool,
    /// Who named the sha256 the download was checked against (`None`: lengths only).
    pub verified_by: Option<String>,
    pub requests: u32,
    /// The `Range` start of each resumed request.
    pub resumed_at: Vec<u64>,
    pub restarts: u32,
    /// Body bytes that came over the network (restarts included).
    pub network_bytes: u64,
}

#[derive(Debug)]
pub struct Loaded {
    pub files: CheckpointFiles,
    /// Every file used, in download order.
    pub report: Vec<FileReport>,
    /// Files that were asked for and answered 404 (fallbacks taken).
    pub missing: Vec<String>,
    pub warnings: Vec<HubWarning>,
    /// How the text part of a text-first load went (default: none was handed over).
    pub text_first: TextFirst,
}

/// What a text-first load hands over before the whole checkpoint is in: every small file, and
/// as `model_safetensors` a safetensors file of the text tower's tensors (and `logit_scale`),
/// not checked yet: nothing about it is certain until the load returns.
#[derive(Debug)]
pub struct TextPart {
    pub files: CheckpointFiles,
    /// The sha256 the whole weights file must have, when someone named it (the caller's, the
    /// hub's listing or the server's `X-Linked-Etag`): checked when the load returns.
    pub weights_sha256: Option<String>,
}

/// The manifest entry's contents.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    files: Vec<ManifestFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ManifestFile {
    file: String,
    size: u64,
    sha256: String,
}

/// Downloads (or reads from the cache) every file of the checkpoint at `source`.
pub async fn load_checkpoint(
    source: &ModelSource,
    options: &LoadOptions,
    platform: Platform<'_>,
    on_progress: &mut dyn FnMut(&LoadProgress),
) -> Result<Loaded, HubError> {
    Load::new(source, options, platform, on_progress, None)
        .run()
        .await
}

/// [`load_checkpoint`] with the weights' text tower first: `on_text` receives the
/// [`TextPart`] as soon as its bytes are in (before the vision tower's), at most once; not at
/// all when the weights come from the cache whole. The load then goes on to the whole,
/// checked checkpoint, as [`load_checkpoint`]'s.
pub async fn load_checkpoint_text_first(
    source: &ModelSource,
    options: &LoadOptions,
    platform: Platform<'_>,
    on_progress: &mut dyn FnMut(&LoadProgress),
    on_text: &mut dyn FnMut(TextPart),
) -> Result<Loaded, HubError> {
    Load::new(source, options, platform, on_progress, Some(on_text))
        .run()
        .await
}

struct Load<'a, 'p> {
    source: &'a ModelSource,
    options: &'a LoadOptions,
    platform: Platform<'p>,
    scope: String,
    tracker: Tracker<'p>,
    on_progress: &'a mut dyn FnMut(&LoadProgress),
    report: Vec<FileReport>,
    missing: Vec<String>,
    warnings: Vec<HubWarning>,
    /// False after the first failed `put`: a full storage stays full for this load.
    caching: bool,
    /// Some request of this load got an HTTP answer.
    answered: bool,
    /// The hub's listing: file → (size, LFS sha256).
    listing: Option<BTreeMap<String, files::Listed>>,
    /// The cache had this source's manifest.
    had_manifest: bool,
    /// Text first: where the text part goes, the small files it goes with, and how it went.
    on_text: Option<&'a mut dyn FnMut(TextPart)>,
    small: BTreeMap<&'static str, Vec<u8>>,
    text_first: TextFirst,
}

impl<'a, 'p> Load<'a, 'p> {
    fn new(
        source: &'a ModelSource,
        options: &'a LoadOptions,
        platform: Platform<'p>,
        on_progress: &'a mut dyn FnMut(&LoadProgress),
        on_text: Option<&'a mut dyn FnMut(TextPart)>,
    ) -> Self {
        Self {
            source,
            options,
            platform,
            scope: source.cache_scope(),
            tracker: Tracker::new(platform.clock, options.progress_every),
            on_progress,
            report: Vec::new(),
            missing: Vec::new(),
            warnings: Vec::new(),
            caching: platform.cache.is_some(),
            answered: false,
            listing: None,
            had_manifest: false,
            on_text,
            small: BTreeMap::new(),
            text_first: TextFirst::default(),
        }
    }
}

/// What is known up front about which files exist.
enum Known {
    /// The cache's manifest or the hub's listing names the files.
    Names(BTreeSet<String>),
    /// Find out by asking for each (404 = absent).
    Probe,
}

impl Load<'_, '_> {
    async fn run(&mut self) -> Result<Loaded, HubError> {
        let known = match self.cached_manifest().await {
            Some(manifest) => {
                self.had_manifest = true;
                for f in &manifest.files {
                    self.tracker.plan(&f.file, Some(f.size));
                }
                Known::Names(manifest.files.into_iter().map(|f| f.file).collect())
            }
            None => {
                self.listing = self.fetch_listing().await;
                match &self.listing {
                    Some(listing) => Known::Names(listing.keys().cloned().collect()),
                    None => Known::Probe,
                }
            }
        };
        let mut plan = vec![CONFIG];
        match &known {
            Known::Names(names) => {
                for required in [CONFIG, WEIGHTS] {
                    if !names.contains(required) {
                        return Err(HubError::NotFound {
                            file: required.into(),
                            url: self.source.file_url(required),
                        });
                    }
                }
                if names.contains(VOCAB) && names.contains(MERGES) {
                    plan.extend([VOCAB, MERGES]);
                } else if names.contains(TOKENIZER) {
                    plan.push(TOKENIZER);
                } else {
                    return Err(HubError::NoTokenizer {
                        url: self.source.file_url(CONFIG),
                    });
                }
                if names.contains(PREPROCESSOR) {
                    plan.push(PREPROCESSOR);
                }
            }
            Known::Probe => plan.extend([VOCAB, MERGES, PREPROCESSOR]),
        }
        plan.push(WEIGHTS);
        for file in &plan {
            let size = self
                .listing
                .as_ref()
                .and_then(|l| l.get(*file))
                .and_then(|l| l.size);
            self.tracker.plan(file, size);
        }
        self.emit(true);

        let mut got: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
        let mut use_tokenizer_json = false;
        for file in plan {
            if use_tokenizer_json && (file == VOCAB || file == MERGES) {
                continue;
            }
            if file == WEIGHTS && self.on_text.is_some() {
                // The small files are in: they go with the text part.
                self.small = got.clone();
            }
            match self.obtain(file).await? {
                Some(bytes) => {
                    got.insert(file, bytes);
                }
                None => match file {
                    VOCAB | MERGES => {
                        use_tokenizer_json = true;
                        got.remove(VOCAB);
                        self.report.retain(|r| r.file != VOCAB);
                        self.tracker.unplan(VOCAB);
                        self.tracker.unplan(MERGES);
                        self.tracker.plan(TOKENIZER, None);
                        match self.obtain(TOKENIZER).await? {
                            Some(bytes) => {
                                got.insert(TOKENIZER, bytes);
                            }
                            None => {
                                return Err(HubError::NoTokenizer {
                                    url: self.source.file_url(CONFIG),
                                });
                            }
                        }
                    }
                    PREPROCESSOR => self.tracker.unplan(PREPROCESSOR),
                    _ => {
                        return Err(HubError::NotFound {
                            file: file.into(),
                            url: self.source.file_url(file),
                        });
                    }
                },
            }
        }
        self.write_manifest().await;
        self.tracker.progress.done = true;
        self.emit(true);
        let checkpoint = files::checkpoint_from_named(got, &[])?;
        Ok(Loaded {
            files: checkpoint,
            report: std::mem::take(&mut self.report),
            missing: std::mem::take(&mut self.missing),
            warnings: std::mem::take(&mut self.warnings),
            text_first: self.text_first,
        })
    }

    fn emit(&mut self, force: bool) {
        if let Some(progress) = self.tracker.due(force) {
            (self.on_progress)(progress);
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        self.options
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| vec![("Authorization".to_string(), format!("Bearer {t}"))])
            .unwrap_or_default()
    }

    /// The manifest of a complete earlier load, if every file it names is still cached.
    async fn cached_manifest(&mut self) -> Option<Manifest> {
        let cache = self.platform.cache?;
        let cached = cache.get(&self.scope, MANIFEST).await.ok().flatten()?;
        let manifest: Manifest = serde_json::from_slice(&cached.bytes).ok()?;
        let has = |f: &str| manifest.files.iter().any(|m| m.file == f);
        let tokenizer = (has(VOCAB) && has(MERGES)) || has(TOKENIZER);
        (has(CONFIG) && has(WEIGHTS) && tokenizer).then_some(manifest)
    }

    /// The hub's listing; any failure just means "probe".
    async fn fetch_listing(&mut self) -> Option<BTreeMap<String, files::Listed>> {
        if !self.options.use_listing {
            return None;
        }
        let url = self.source.listing_url()?;
        let mut request = GetRequest::new(url);
        request.headers = self.headers();
        let response = self.platform.net.fetch(request.into_http()).await.ok()?;
        self.answered = true;
        if response.status != 200 {
            return None;
        }
        let mut body = Vec::new();
        let mut stream = response.body;
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.ok()?);
            if body.len() > MAX_LISTING {
                return None;
            }
        }
        files::parse_listing(&body)
    }

    /// The expected sha256 of `file` and who named it.
    fn expected_sha(&self, file: &str) -> Option<(String, String)> {
        if let Some(sha) = self.options.sha256.get(file) {
            return Some((sha.trim().to_ascii_lowercase(), "you".into()));
        }
        let listed = self.listing.as_ref()?.get(file)?.sha256.clone()?;
        Some((listed, "the hub's listing".into()))
    }

    /// One file's bytes: from the cache, else downloaded (and then cached); `None` on 404.
    async fn obtain(&mut self, file: &'static str) -> Result<Option<Vec<u8>>, HubError> {
        let expected = self.expected_sha(file);
        let mut resume = None;
        if let Some(cache) = self.platform.cache
            && let Ok(Some(CachedFile { entry, bytes })) = cache.get(&self.scope, file).await
        {
            let fits_expected = expected
                .as_ref()
                .is_none_or(|(sha, _)| entry.complete && *sha == entry.sha256);
            if entry.complete && bytes.len() as u64 == entry.size && fits_expected {
                self.tracker.set_size(file, Some(entry.size));
                self.tracker.start_file(file);
                self.tracker.finish_file(file, entry.size, true);
                self.emit(true);
                self.report.push(FileReport {
                    file: file.into(),
                    size: entry.size,
                    sha256: entry.sha256,
                    from_cache: true,
                    ..FileReport::default()
                });
                return Ok(Some(bytes));
            }
            if !entry.complete && bytes.len() as u64 == entry.size {
                resume = Some(Partial {
                    bytes,
                    etag: entry.etag,
                    total: entry.total,
                });
            }
        }
        let listed_size = self
            .listing
            .as_ref()
            .and_then(|l| l.get(file))
            .and_then(|l| l.size);
        let target = Target {
            file: file.into(),
            url: self.source.file_url(file),
            headers: self.headers(),
            sha256: expected,
            size: listed_size,
            limit: None,
            page: self.source.page_url(),
            quick_fail: !self.answered,
        };
        self.tracker.start_file(file);
        self.emit(true);
        let platform = self.platform;
        let outcome = {
            let tracker = &mut self.tracker;
            let on_progress = &mut self.on_progress;
            let mut on_event = |event: FileEvent| {
                let force = tracker.observe(file, &event);
                if let Some(progress) = tracker.due(force) {
                    on_progress(progress);
                }
            };
            match self.on_text.as_mut().filter(|_| file == WEIGHTS) {
                Some(on_text) => {
                    let small = &self.small;
                    let weights_sha256 = target.sha256.as_ref().map(|(sha, _)| sha.clone());
                    let mut hand_over = |part: Vec<u8>| {
                        let mut named = small.clone();
                        named.insert(WEIGHTS, part);
                        if let Ok(files) = files::checkpoint_from_named(named, &[]) {
                            on_text(TextPart {
                                files,
                                weights_sha256: weights_sha256.clone(),
                            });
                        }
                    };
                    download_text_first(
                        platform.net,
                        platform.clock,
                        &self.options.retry,
                        &target,
                        resume,
                        &mut on_event,
                        &mut hand_over,
                    )
                    .await
                    .map(|(fetched, text_first)| {
                        self.text_first = text_first;
                        fetched
                    })
                }
                None => {
                    download(
                        platform.net,
                        platform.clock,
                        &self.options.retry,
                        &target,
                        resume,
                        &mut on_event,
                    )
                    .await
                }
            }
        };
        match outcome {
            Ok(Fetched::Done(done)) => {
                self.answered = true;
                self.tracker.finish_file(file, done.total, false);
                self.emit(true);
                let entry = CacheEntry {
                    scope: self.scope.clone(),
                    file: file.into(),
                    size: done.total,
                    sha256: done.sha256.clone(),
                    etag: done.etag.clone(),
                    complete: true,
                    total: Some(done.total),
                };
                self.store(&entry, &done.bytes).await;
                self.report.push(report(
                    file,
                    &done.sha256,
                    done.verified_by,
                    &done.stats,
                    done.total,
                ));
                Ok(Some(done.bytes))
            }
            Ok(Fetched::Missing(stats)) => {
                self.answered |= stats.answered;
                self.missing.push(file.into());
                Ok(None)
            }
            Err(Failure {
                mut error,
                partial,
                stats,
            }) => {
                self.answered |= stats.answered;
                if let (Some(partial), HubError::Interrupted { kept, .. }) = (partial, &mut error) {
                    let entry = CacheEntry {
                        scope: self.scope.clone(),
                        file: file.into(),
                        size: partial.bytes.len() as u64,
                        // The key's hash: a partial is named by its server validator instead
                        // (hashing hundreds of MB again only to name a fragment is not worth it).
                        sha256: String::new(),
                        etag: partial.etag.clone(),
                        complete: false,
                        total: partial.total,
                    };
                    *kept = self.store(&entry, &partial.bytes).await;
                }
                Err(error)
            }
        }
    }

    /// Puts an entry; false (and one warning) when the cache refused.
    async fn store(&mut self, entry: &CacheEntry, bytes: &[u8]) -> bool {
        let Some(cache) = self.platform.cache.filter(|_| self.caching) else {
            return false;
        };
        match cache.put(entry, bytes).await {
            Ok(()) => true,
            Err(error) => {
                self.caching = false;
                let estimate = if error.kind == CacheErrorKind::Quota {
                    cache.estimate().await.ok().flatten()
                } else {
                    None
                };
                self.warnings
                    .push(HubWarning::NotCached { error, estimate });
                false
            }
        }
    }

    async fn write_manifest(&mut self) {
        // Everything came from the cache under the manifest that is already there.
        if self.had_manifest && self.report.iter().all(|r| r.from_cache) {
            return;
        }
        let manifest = Manifest {
            files: self
                .report
                .iter()
                .map(|r| ManifestFile {
                    file: r.file.clone(),
                    size: r.size,
                    sha256: r.sha256.clone(),
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        let entry = CacheEntry {
            scope: self.scope.clone(),
            file: MANIFEST.into(),
            size: bytes.len() as u64,
            sha256: hex(&sha256(&bytes)),
            etag: None,
            complete: true,
            total: Some(bytes.len() as u64),
        };
        self.store(&entry, &bytes).await;
    }
}

fn report(
    file: &str,
    sha: &str,
    verified_by: Option<String>,
    stats: &FileStats,
    size: u64,
) -> FileReport {
    FileReport {
        file: file.into(),
        size,
        sha256: sha.into(),
        from_cache: false,
        verified_by,
        requests: stats.requests,
        resumed_at: stats.resumed_at.clone(),
        restarts: stats.restarts,
        network_bytes: stats.network_bytes,
    }
}

/// Folds file events into the one [`LoadProgress`] and decides when it is worth reporting.
struct Tracker<'c> {
    clock: &'c dyn Clock,
    every: Duration,
    last_emit: Option<Duration>,
    meter: RateMeter,
    /// Network bytes so far in this load.
    network: u64,
    /// Planned files and their sizes, in order.
    sizes: Vec<(String, Option<u64>)>,
    /// Bytes of finished files.
    finished: u64,
    /// Bytes of the file in progress.
    current: u64,
    progress: LoadProgress,
}

impl<'c> Tracker<'c> {
    fn new(clock: &'c dyn Clock, every: Duration) -> Self {
        Self {
            clock,
            every,
            last_emit: None,
            meter: RateMeter::default(),
            network: 0,
            sizes: Vec::new(),
            finished: 0,
            current: 0,
            progress: LoadProgress::default(),
        }
    }

    fn plan(&mut self, file: &str, size: Option<u64>) {
        match self.sizes.iter_mut().find(|(f, _)| f == file) {
            Some((_, known)) => *known = size.or(*known),
            None => self.sizes.push((file.to_string(), size)),
        }
    }

    fn unplan(&mut self, file: &str) {
        self.sizes.retain(|(f, _)| f != file);
    }

    fn set_size(&mut self, file: &str, size: Option<u64>) {
        if let Some((_, known)) = self.sizes.iter_mut().find(|(f, _)| f == file) {
            *known = size;
        }
    }

    fn start_file(&mut self, file: &str) {
        self.progress.file = file.to_string();
        self.progress.note = None;
        self.current = 0;
        self.meter.sample(self.clock.now(), self.network);
    }

    fn finish_file(&mut self, file: &str, size: u64, cached: bool) {
        self.set_size(file, Some(size));
        self.finished += size;
        self.current = 0;
        if cached {
            self.progress.bytes_cached += size;
        }
    }

    /// Takes in one download event; true when it must be reported at once.
    fn observe(&mut self, file: &str, event: &FileEvent) -> bool {
        match event {
            FileEvent::Size(size) => {
                self.set_size(file, *size);
                false
            }
            FileEvent::Bytes { received, network } => {
                self.current = *received;
                self.network += network;
                self.meter.sample(self.clock.now(), self.network);
                false
            }
            FileEvent::Retry(note) => {
                self.progress.retries += 1;
                self.progress.note = Some(note.clone());
                true
            }
            FileEvent::Towers(towers) => {
                // The text tower's last byte is worth reporting at once.
                let newly_ready =
                    towers.text_ready() && self.progress.towers.is_none_or(|t| !t.text_ready());
                self.progress.towers = Some(*towers);
                newly_ready
            }
        }
    }

    /// The progress to report now, if any.
    fn due(&mut self, force: bool) -> Option<&LoadProgress> {
        let now = self.clock.now();
        if !force
            && self
                .last_emit
                .is_some_and(|last| now.saturating_sub(last) < self.every)
        {
            return None;
        }
        self.last_emit = Some(now);
        let p = &mut self.progress;
        p.bytes_done = self.finished + self.current;
        p.bytes_total = self.sizes.iter().filter_map(|(_, s)| *s).sum();
        p.total_known = self.sizes.iter().all(|(_, s)| s.is_some());
        p.rate = self.meter.rate();
        p.eta = if p.total_known && !p.done {
            self.meter.eta(p.bytes_total.saturating_sub(p.bytes_done))
        } else {
            None
        };
        if let Some(t) = &mut p.towers {
            t.text_eta = if t.text_ready() || p.done {
                None
            } else {
                self.meter.eta(t.text_total.saturating_sub(t.text_done))
            };
        }
        if p.done {
            p.rate = None;
        }
        Some(&self.progress)
    }
}
