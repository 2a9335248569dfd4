//! Which files make a CLIP checkpoint, and how a set of named files becomes
//! [`CheckpointFiles`]: for downloads (after each file arrived or was missing) and for files a
//! person picked or dropped (matched by name, anything else ignored).

use std::collections::BTreeMap;

use super::HubError;
use crate::embedder::CheckpointFiles;

pub const CONFIG: &str = "config.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const VOCAB: &str = "vocab.json";
pub const MERGES: &str = "merges.txt";
/// The fast tokenizer's single file: used when `vocab.json` + `merges.txt` are missing.
pub const TOKENIZER: &str = "tokenizer.json";
/// Optional: CLIP's defaults apply when it is missing.
pub const PREPROCESSOR: &str = "preprocessor_config.json";

/// Every file the loader may fetch, in download order: the small files first, so a wrong repo,
/// revision or token shows up before hundreds of megabytes move.
pub const ALL: [&str; 6] = [CONFIG, VOCAB, MERGES, TOKENIZER, PREPROCESSOR, WEIGHTS];

/// Weights in a format the browser does not read; named in the "no safetensors" message.
const OTHER_WEIGHTS: [&str; 3] = ["pytorch_model.bin", "tf_model.h5", "flax_model.msgpack"];

pub fn is_checkpoint_file(name: &str) -> bool {
    ALL.contains(&name) || OTHER_WEIGHTS.contains(&name)
}

/// The last path component (a dropped folder gives `folder/config.json`).
pub fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The files a person picked whose bytes are needed, by base name; `None` for files to skip
/// without reading them (a dropped folder may hold gigabytes of other weights).
pub fn wanted(path: &str) -> Option<&'static str> {
    let name = base_name(path);
    ALL.iter().copied().find(|f| *f == name)
}

/// Joins files by base name into a checkpoint. `names` lists every picked file (read or not),
/// to say what was there when something is missing.
pub fn checkpoint_from_named(
    files: BTreeMap<&'static str, Vec<u8>>,
    names: &[String],
) -> Result<CheckpointFiles, HubError> {
    let mut files = files;
    let mut missing = Vec::new();
    for required in [CONFIG, WEIGHTS] {
        if !files.contains_key(required) {
            missing.push(required);
        }
    }
    let has_pair = files.contains_key(VOCAB) && files.contains_key(MERGES);
    if !has_pair && !files.contains_key(TOKENIZER) {
        missing.push("vocab.json + merges.txt (or tokenizer.json)");
    }
    if !missing.is_empty() {
        let other_weights = names
            .iter()
            .map(|n| base_name(n))
            .find(|n| OTHER_WEIGHTS.contains(n))
            .map(str::to_string);
        return Err(HubError::PickedIncomplete {
            missing: missing.join(", "),
            other_weights,
        });
    }
    let mut take = |name: &str| files.remove(name);
    Ok(CheckpointFiles {
        config_json: take(CONFIG).unwrap_or_default(),
        model_safetensors: take(WEIGHTS).unwrap_or_default(),
        vocab_json: if has_pair { take(VOCAB) } else { None },
        merges_txt: if has_pair { take(MERGES) } else { None },
        tokenizer_json: if has_pair { None } else { take(TOKENIZER) },
        preprocessor_config_json: take(PREPROCESSOR),
    })
}

/// One file of the hub's listing (`/api/models/{repo}/revision/{rev}?blobs=true`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    pub size: Option<u64>,
    /// Only LFS files (the weights) have one.
    pub sha256: Option<String>,
}

/// The checkpoint files a listing names, with sizes and LFS sha256s; `None` when the answer is
/// not a listing (mirrors without the API answer 404 or HTML, which is fine).
pub fn parse_listing(body: &[u8]) -> Option<BTreeMap<String, Listed>> {
    #[derive(serde::Deserialize)]
    struct Info {
        siblings: Vec<Sibling>,
    }
    #[derive(serde::Deserialize)]
    struct Sibling {
        rfilename: String,
        size: Option<u64>,
        lfs: Option<Lfs>,
    }
    #[derive(serde::Deserialize)]
    struct Lfs {
        sha256: Option<String>,
        size: Option<u64>,
    }
    let info: Info = serde_json::from_slice(body).ok()?;
    Some(
        info.siblings
            .into_iter()
            .filter(|s| is_checkpoint_file(&s.rfilename))
            .map(|s| {
                let lfs = s.lfs.as_ref();
                let listed = Listed {
                    size: lfs.and_then(|l| l.size).or(s.size),
                    sha256: lfs
                        .and_then(|l| l.sha256.as_deref())
                        .and_then(super::transport::as_sha256),
                };
                (s.rfilename, listed)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (*k, v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn picked_files_are_matched_by_name_and_the_pair_wins_over_tokenizer_json() {
        assert_eq!(wanted("clip/sub/model.safetensors"), Some(WEIGHTS));
        assert_eq!(wanted("C:\\m\\vocab.json"), Some(VOCAB));
        assert_eq!(wanted("pytorch_model.bin"), None);
        let files = named(&[
            (CONFIG, "c"),
            (WEIGHTS, "w"),
            (VOCAB, "v"),
            (MERGES, "m"),
            (TOKENIZER, "t"),
        ]);
        let ckpt = checkpoint_from_named(files, &[]).unwrap();
        assert_eq!(ckpt.vocab_json.as_deref(), Some(&b"v"[..]));
        assert_eq!(ckpt.tokenizer_json, None);
        assert_eq!(ckpt.preprocessor_config_json, None);
        let files = named(&[
            (CONFIG, "c"),
            (WEIGHTS, "w"),
            (VOCAB, "v"),
            (TOKENIZER, "t"),
        ]);
        let ckpt = checkpoint_from_named(files, &[]).unwrap();
        assert_eq!(ckpt.tokenizer_json.as_deref(), Some(&b"t"[..]));
        assert_eq!(ckpt.vocab_json, None);
    }

    #[test]
    fn a_folder_without_safetensors_says_what_is_missing_and_how_to_convert() {
        let names = vec![
            "m/config.json".to_string(),
            "m/pytorch_model.bin".to_string(),
        ];
        let err = checkpoint_from_named(named(&[(CONFIG, "c")]), &names).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("model.safetensors"), "{text}");
        assert!(text.contains("vocab.json + merges.txt"), "{text}");
        assert!(text.contains("leakscope convert"), "{text}");
    }

    #[test]
    fn the_listing_gives_sizes_and_lfs_sha256s() {
        let sha = "a".repeat(64);
        let body = format!(
            r#"{{"id":"a/b","sha":"0123","siblings":[
                {{"rfilename":"config.json","size":1120,"blobId":"ab"}},
                {{"rfilename":"model.safetensors","size":99,"lfs":{{"sha256":"{sha}","size":99,"pointerSize":134}}}},
                {{"rfilename":"README.md","size":5}}]}}"#
        );
        let listing = parse_listing(body.as_bytes()).unwrap();
        assert_eq!(listing.len(), 2);
        assert_eq!(listing[CONFIG].size, Some(1120));
        assert_eq!(listing[WEIGHTS].sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(parse_listing(b"<html>not found</html>"), None);
    }
}
