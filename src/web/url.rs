//! What the page's address says: query parameters (`?model=test`, `?cpu`, `?hub=`,
//! `?precision=`, `?vlsbench=`), the hash of deep links (`#sample=…&text=…`), and addresses
//! relative to the page.

use crate::util::deeplink::DeepLink;

/// Hugging Face's file host.
pub const HUB: &str = "https://huggingface.co";

/// The value of `?name=…` in the page's address.
pub fn query_value(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Whether `?name` is in the page's address (e.g. `?cpu`).
pub fn query_flag(name: &str) -> bool {
    query_value(name).is_some()
}

/// The demo's deep link (`#sample=…&text=…`), read by the core's parser.
pub fn deep_link() -> DeepLink {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|hash| DeepLink::parse(&hash))
        .unwrap_or_default()
}

/// The hub to fetch from: Hugging Face, or a mirror in its URL layout named by `?hub=<origin>`.
pub fn hub_base() -> String {
    query_value("hub")
        .filter(|h| h.starts_with("https://") || h.starts_with("http://"))
        .map(|h| h.trim_end_matches('/').to_string())
        .unwrap_or_else(|| HUB.to_string())
}

/// `path` resolved against the page's address.
pub fn page_relative(path: &str) -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .and_then(|href| web_sys::Url::new_with_base(path, &href).ok())
        .map(|u| u.href())
        .unwrap_or_else(|| path.to_string())
}
