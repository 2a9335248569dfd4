//! Where a checkpoint comes from: a Hugging Face repo at a revision (on huggingface.co or any
//! mirror with the same URL layout), or a plain URL prefix the file names are appended to.
//! Parsing accepts what people paste: a repo id, `repo@revision`, a model page URL, a
//! `…/resolve/<revision>/…` file URL, or any other URL.

use super::HubError;

/// The public hub.
pub const HF_ENDPOINT: &str = "https://huggingface.co";
/// The checkpoint the page loads unless told otherwise.
pub const DEFAULT_REPO: &str = "openai/clip-vit-base-patch32";
pub const DEFAULT_REVISION: &str = "main";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// Files at `{endpoint}/{repo}/resolve/{revision}/{file}`.
    Hub {
        /// `https://huggingface.co`, or a mirror's base URL; no trailing slash.
        endpoint: String,
        /// `owner/name` (or a legacy single-segment id such as `gpt2`).
        repo: String,
        /// A branch, tag or commit; `refs/pr/1` style names are escaped in URLs.
        revision: String,
    },
    /// Files at `{prefix}{file}`; the prefix ends with `/`.
    Url { prefix: String },
}

impl Default for ModelSource {
    fn default() -> Self {
        Self::hub(DEFAULT_REPO, DEFAULT_REVISION)
    }
}

impl ModelSource {
    /// A repo on huggingface.co.
    pub fn hub(repo: &str, revision: &str) -> Self {
        Self::mirror(HF_ENDPOINT, repo, revision)
    }

    /// A repo on a server with Hugging Face's URL layout.
    pub fn mirror(endpoint: &str, repo: &str, revision: &str) -> Self {
        Self::Hub {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            repo: repo.trim_matches('/').to_string(),
            revision: if revision.trim().is_empty() {
                DEFAULT_REVISION.to_string()
            } else {
                revision.trim().to_string()
            },
        }
    }

    /// What a person typed: empty (the default checkpoint), `owner/name`, `owner/name@rev`, a
    /// model page or file URL on any hub-layout server, or any other URL (a folder of files).
    /// `revision` (when not empty) overrides a revision found in `input`.
    pub fn parse(input: &str, revision: &str) -> Result<Self, HubError> {
        let input = input.trim();
        let revision = revision.trim();
        let pick = |found: &str| {
            if revision.is_empty() {
                found.to_string()
            } else {
                revision.to_string()
            }
        };
        if input.is_empty() {
            return Ok(Self::hub(DEFAULT_REPO, &pick(DEFAULT_REVISION)));
        }
        if input.starts_with("http://") || input.starts_with("https://") {
            return Ok(parse_url(input, revision));
        }
        let (repo, found) = input.split_once('@').unwrap_or((input, DEFAULT_REVISION));
        if !is_repo_id(repo) {
            return Err(HubError::InvalidSource(input.to_string()));
        }
        Ok(Self::hub(repo, &pick(found)))
    }

    /// The URL of one file.
    pub fn file_url(&self, file: &str) -> String {
        match self {
            Self::Hub {
                endpoint,
                repo,
                revision,
            } => format!(
                "{endpoint}/{repo}/resolve/{}/{file}",
                escape_revision(revision)
            ),
            Self::Url { prefix } => format!("{prefix}{file}"),
        }
    }

    /// Hugging Face's file listing with sizes and LFS sha256s (`huggingface_hub`'s
    /// `model_info(files_metadata=True)`); mirrors may not have it, which is fine.
    pub fn listing_url(&self) -> Option<String> {
        match self {
            Self::Hub {
                endpoint,
                repo,
                revision,
            } => Some(format!(
                "{endpoint}/api/models/{repo}/revision/{}?blobs=true",
                escape_revision(revision)
            )),
            Self::Url { .. } => None,
        }
    }

    /// The cache's name for this source: one per repo and revision (or URL prefix).
    pub fn cache_scope(&self) -> String {
        match self {
            Self::Hub {
                endpoint,
                repo,
                revision,
            } if endpoint == HF_ENDPOINT => format!("{repo}@{revision}"),
            Self::Hub {
                endpoint,
                repo,
                revision,
            } => format!("{endpoint}/{repo}@{revision}"),
            Self::Url { prefix } => prefix.clone(),
        }
    }

    /// The repo's page, for "accept the conditions" messages.
    pub fn page_url(&self) -> Option<String> {
        match self {
            Self::Hub { endpoint, repo, .. } => Some(format!("{endpoint}/{repo}")),
            Self::Url { .. } => None,
        }
    }
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cache_scope())
    }
}

/// `owner/name` or `name`: letters, digits, `-`, `_`, `.`; no `..`, no leading/trailing dots.
fn is_repo_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    (1..=2).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 96
                && !p.starts_with(['.', '-'])
                && !p.ends_with('.')
                && !p.contains("..")
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

/// Revisions such as `refs/pr/1` go into one path segment, as the hub expects.
fn escape_revision(revision: &str) -> String {
    revision.replace('/', "%2F")
}

fn parse_url(input: &str, revision: &str) -> ModelSource {
    let url = input.split(['?', '#']).next().unwrap_or(input);
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let origin = format!("{scheme}://{host}");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let or_found = |found: &str| {
        if revision.is_empty() {
            found.replace("%2F", "/")
        } else {
            revision.to_string()
        }
    };
    // `…/<owner>/<name>/(resolve|blob|tree)/<revision>[/file]` on any server.
    if let Some(at) = segments
        .iter()
        .position(|s| matches!(*s, "resolve" | "blob" | "tree"))
        && at >= 1
        && at + 1 < segments.len()
    {
        let repo_start = at.saturating_sub(2);
        let repo = segments[repo_start..at].join("/");
        if is_repo_id(&repo) {
            let base = std::iter::once(origin.as_str())
                .chain(segments[..repo_start].iter().copied())
                .collect::<Vec<_>>()
                .join("/");
            return ModelSource::mirror(&base, &repo, &or_found(segments[at + 1]));
        }
    }
    // A model page on the hub itself: `https://huggingface.co/<owner>/<name>`.
    let is_hub_host = matches!(host, "huggingface.co" | "hf.co" | "www.huggingface.co");
    if is_hub_host && segments.len() == 2 && is_repo_id(&segments.join("/")) {
        return ModelSource::hub(&segments.join("/"), &or_found(DEFAULT_REVISION));
    }
    // Anything else is a folder; a URL that names one of the checkpoint's files means its folder.
    let mut prefix = url.to_string();
    if let Some(last) = segments.last()
        && super::files::is_checkpoint_file(last)
        && !url.ends_with('/')
    {
        prefix.truncate(prefix.len() - last.len());
    }
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    ModelSource::Url { prefix }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(endpoint: &str, repo: &str, revision: &str) -> ModelSource {
        ModelSource::mirror(endpoint, repo, revision)
    }

    #[test]
    fn repo_ids_revisions_and_urls_parse_to_the_right_source() {
        let default = hub(HF_ENDPOINT, DEFAULT_REPO, "main");
        assert_eq!(ModelSource::parse("", "").unwrap(), default);
        assert_eq!(
            ModelSource::parse(" openai/clip-vit-base-patch32 ", "").unwrap(),
            default
        );
        assert_eq!(
            ModelSource::parse("openai/clip-vit-base-patch32@v1.0", "").unwrap(),
            hub(HF_ENDPOINT, DEFAULT_REPO, "v1.0")
        );
        assert_eq!(
            ModelSource::parse("openai/clip-vit-base-patch32@v1.0", "abc123").unwrap(),
            hub(HF_ENDPOINT, DEFAULT_REPO, "abc123")
        );
        assert_eq!(
            ModelSource::parse("https://huggingface.co/openai/clip-vit-base-patch32", "").unwrap(),
            default
        );
        assert_eq!(
            ModelSource::parse(
                "https://huggingface.co/openai/clip-vit-base-patch32/blob/refs%2Fpr%2F3/config.json",
                ""
            )
            .unwrap(),
            hub(HF_ENDPOINT, DEFAULT_REPO, "refs/pr/3")
        );
        assert_eq!(
            ModelSource::parse("http://127.0.0.1:9000/mirror/a/b/resolve/main/", "").unwrap(),
            hub("http://127.0.0.1:9000/mirror", "a/b", "main")
        );
        assert_eq!(
            ModelSource::parse("https://example.org/models/clip/model.safetensors", "").unwrap(),
            ModelSource::Url {
                prefix: "https://example.org/models/clip/".into()
            }
        );
        assert_eq!(
            ModelSource::parse("https://example.org/models/clip", "").unwrap(),
            ModelSource::Url {
                prefix: "https://example.org/models/clip/".into()
            }
        );
        for bad in ["a/b/c", "../etc", "a b", "owner/.hidden", "/"] {
            assert!(
                matches!(ModelSource::parse(bad, ""), Err(HubError::InvalidSource(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_and_listing_urls_follow_the_hub_layout() {
        let s = hub("https://hf-mirror.example", "a/b", "refs/pr/1");
        assert_eq!(
            s.file_url("config.json"),
            "https://hf-mirror.example/a/b/resolve/refs%2Fpr%2F1/config.json"
        );
        assert_eq!(
            s.listing_url().unwrap(),
            "https://hf-mirror.example/api/models/a/b/revision/refs%2Fpr%2F1?blobs=true"
        );
        assert_eq!(s.cache_scope(), "https://hf-mirror.example/a/b@refs/pr/1");
        assert_eq!(
            ModelSource::default().cache_scope(),
            "openai/clip-vit-base-patch32@main"
        );
        let u = ModelSource::Url {
            prefix: "https://x.org/m/".into(),
        };
        assert_eq!(u.file_url("vocab.json"), "https://x.org/m/vocab.json");
        assert_eq!(u.listing_url(), None);
    }
}
