//! VLSBench samples fetched at run time from the dataset's Hugging Face repository, so the
//! page can show real benchmark pairs without the project redistributing a single image.
//!
//! The repository holds `data.json` (the metadata [`super::load`] reads) and the images both as
//! `imgs.tar` and as an `imgs/` folder; one sample costs one small image request from the
//! folder, `{endpoint}/datasets/{repo}/resolve/{revision}/imgs/<k>.png`, the URL layout
//! huggingface.co and its mirrors serve. This module only builds URLs and picks rows; fetching
//! is the page's (`src/web/`).

use super::Sample;
use crate::util::url::encode_path_segment as encode_segment;

/// VLSBench's dataset repository on Hugging Face.
pub const VLSBENCH_REPO: &str = "Foreshhh/vlsbench";
/// Its metadata file, at the repository's root.
pub const VLSBENCH_DATA: &str = "data.json";

/// A dataset repository on a server in Hugging Face's URL layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetRepo {
    /// `https://huggingface.co` or a mirror; no trailing slash.
    pub endpoint: String,
    /// `owner/name`.
    pub repo: String,
    pub revision: String,
}

impl DatasetRepo {
    /// `repo` at `revision` on `endpoint` (empty revision: `main`).
    pub fn new(endpoint: &str, repo: &str, revision: &str) -> Self {
        let revision = revision.trim();
        Self {
            endpoint: endpoint.trim().trim_end_matches('/').to_string(),
            repo: repo.trim().trim_matches('/').to_string(),
            revision: if revision.is_empty() {
                "main".to_string()
            } else {
                revision.to_string()
            },
        }
    }

    /// The URL of `path` (relative to the repository's root, `/`-separated). Each segment is
    /// percent-encoded, so a file name with spaces or `#` stays one path.
    pub fn file_url(&self, path: &str) -> String {
        let encoded: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(encode_segment)
            .collect();
        format!(
            "{}/datasets/{}/resolve/{}/{}",
            self.endpoint,
            self.repo,
            encode_segment(&self.revision),
            encoded.join("/")
        )
    }

    /// The repository's page, for "accept its conditions" messages.
    pub fn page_url(&self) -> String {
        format!("{}/datasets/{}", self.endpoint, self.repo)
    }
}

/// What to tell a person when a file of the repository answered `status`.
pub fn status_message(repo: &DatasetRepo, path: &str, status: u16) -> String {
    let page = repo.page_url();
    match status {
        401 | 403 => format!(
            "{path}: the server refused access ({status}). If the dataset asks you to accept its \
             conditions, do so at {page} while signed in, or open your own download of VLSBench \
             under “Measure a whole benchmark”."
        ),
        404 => format!(
            "{path} is not in {page} at revision {}: check the repository name, or open your own \
             download under “Measure a whole benchmark”.",
            repo.revision
        ),
        429 => format!("{path}: the server asks to slow down (429); try again in a minute."),
        _ => format!("{path}: the server answered {status}; try again later."),
    }
}

/// The samples that have an image and belong to `category` (all with `None`), in file order.
pub fn candidates<'a>(samples: &'a [Sample], category: Option<&str>) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| s.image.is_some())
        .filter(|s| category.is_none_or(|c| s.category.as_deref() == Some(c)))
        .collect()
}

/// The `draw`-th pick from `candidates`, a fixed shuffle of them (a linear-congruential walk
/// with a step co-prime to their count), so "another sample" never repeats one before all have
/// been shown and the same `draw` always names the same sample.
pub fn pick<'a>(candidates: &[&'a Sample], draw: u64) -> Option<&'a Sample> {
    let n = candidates.len() as u64;
    if n == 0 {
        return None;
    }
    let step = (1..n)
        .map(|k| (n / 2 + 2 * k + 1) % n)
        .find(|&s| s != 0 && gcd(s, n) == 1)
        .unwrap_or(1);
    Some(candidates[((draw % n) * step % n) as usize])
}

/// Categories and how many samples with an image each has, in first-seen order.
pub fn categories(samples: &[Sample]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for s in samples.iter().filter(|s| s.image.is_some()) {
        let Some(c) = &s.category else { continue };
        match out.iter_mut().find(|(name, _)| name == c) {
            Some((_, count)) => *count += 1,
            None => out.push((c.clone(), 1)),
        }
    }
    out
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{Strictness, load};
    use std::collections::HashSet;

    fn mini() -> Vec<Sample> {
        let bytes = include_bytes!("../../tests/fixtures/eval/vlsbench-mini/data.json");
        load(None, "data.json", bytes, Strictness::Strict)
            .unwrap()
            .samples
    }

    #[test]
    fn urls_follow_the_hub_layout_and_escape_segments() {
        let repo = DatasetRepo::new("https://huggingface.co/", VLSBENCH_REPO, "");
        assert_eq!(
            repo.file_url("imgs/12.png"),
            "https://huggingface.co/datasets/Foreshhh/vlsbench/resolve/main/imgs/12.png"
        );
        let pr = DatasetRepo::new("http://127.0.0.1:9/", "a/b", "refs/pr/3");
        assert_eq!(
            pr.file_url("my imgs/#1.png"),
            "http://127.0.0.1:9/datasets/a/b/resolve/refs%2Fpr%2F3/my%20imgs/%231.png"
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        let repo = DatasetRepo::new("https://huggingface.co", VLSBENCH_REPO, "main");
        let gated = status_message(&repo, "data.json", 401);
        assert!(gated.contains("accept its conditions"), "{gated}");
        assert!(gated.contains("https://huggingface.co/datasets/Foreshhh/vlsbench"));
        assert!(status_message(&repo, "imgs/1.png", 404).contains("revision main"));
    }

    #[test]
    fn picks_walk_every_candidate_once_per_round() {
        let samples = mini();
        let all = candidates(&samples, None);
        assert!(!all.is_empty());
        for n in 1..=all.len() {
            let some = &all[..n];
            let seen: HashSet<&str> = (0..n as u64)
                .map(|d| pick(some, d).unwrap().id.as_str())
                .collect();
            assert_eq!(seen.len(), n, "{n} candidates");
            assert_eq!(
                pick(some, 3).unwrap().id,
                pick(some, 3 + n as u64).unwrap().id
            );
        }
        assert!(pick(&[], 0).is_none());
    }

    #[test]
    fn categories_filter_and_count() {
        let samples = mini();
        let cats = categories(&samples);
        let total: usize = cats.iter().map(|(_, n)| n).sum();
        assert_eq!(total, candidates(&samples, None).len());
        let (first, count) = &cats[0];
        let only = candidates(&samples, Some(first));
        assert_eq!(only.len(), *count);
        assert!(
            only.iter()
                .all(|s| s.category.as_deref() == Some(first.as_str()))
        );
    }
}
