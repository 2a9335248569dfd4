//! Small, forgiving DOM helpers: a missing element is skipped with a console warning, never a
//! panic (the page should degrade, not die). That every id the code names is on the page is
//! checked natively (`tests/native/page_ids.rs`).
//!
//! Text only: nothing here (and nothing in `src/`, the test command checks) sets inner HTML.
//! Elements are made by [`build`] (text as `textContent`, attributes one by one) and [`svg`];
//! a dataset's text, a model's answer or a file name can never become markup.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

use crate::chart::{SVG_NS, SvgNode};

pub fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// The element `id`, or a warning on the console (a renamed id must not fail silently).
pub fn element(id: &str) -> Option<Element> {
    let found = document()?.get_element_by_id(id);
    if found.is_none() {
        web_sys::console::warn_1(&format!("leakscope: the page has no element #{id}").into());
    }
    found
}

/// The element `id` if the page has one, without a warning (optional parts of the page).
pub fn optional_element(id: &str) -> Option<Element> {
    document()?.get_element_by_id(id)
}

/// The element `id` as `T`, when it exists and is one.
pub fn typed<T: JsCast>(id: &str) -> Option<T> {
    element(id)?.dyn_into::<T>().ok()
}

pub fn set_text(id: &str, text: &str) {
    if let Some(el) = element(id) {
        el.set_text_content(Some(text));
    }
}

pub fn set_attr(id: &str, name: &str, value: &str) {
    if let Some(el) = element(id) {
        let _ = el.set_attribute(name, value);
    }
}

pub fn set_hidden(id: &str, hidden: bool) {
    if let Some(el) = element(id) {
        let _ = if hidden {
            el.set_attribute("hidden", "")
        } else {
            el.remove_attribute("hidden")
        };
    }
}

pub fn set_disabled(id: &str, disabled: bool) {
    if let Some(el) = element(id) {
        let _ = if disabled {
            el.set_attribute("disabled", "")
        } else {
            el.remove_attribute("disabled")
        };
    }
}

/// The text of a form control: inputs (checkboxes give "true" or ""), selects, text areas.
pub fn value(id: &str) -> String {
    let Some(el) = element(id) else {
        return String::new();
    };
    if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
        if input.type_() == "checkbox" {
            return if input.checked() {
                "true".into()
            } else {
                String::new()
            };
        }
        return input.value();
    }
    if let Some(select) = el.dyn_ref::<HtmlSelectElement>() {
        return select.value();
    }
    if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
        return area.value();
    }
    String::new()
}

/// Sets a form control's text (checkboxes: "true" ticks).
pub fn set_value(id: &str, text: &str) {
    let Some(el) = element(id) else { return };
    if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
        if input.type_() == "checkbox" {
            input.set_checked(text == "true");
        } else {
            input.set_value(text);
        }
    } else if let Some(select) = el.dyn_ref::<HtmlSelectElement>() {
        select.set_value(text);
    } else if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(text);
    }
}

/// Runs `handler` on every `event` of element `id`, for the life of the page.
pub fn on(id: &str, event: &str, handler: impl FnMut(web_sys::Event) + 'static) {
    if let Some(el) = element(id) {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
        let _ = el.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        // The page keeps its handlers until it unloads.
        closure.forget();
    }
}

/// A new `<tag>` element holding `text` as text (never parsed as markup), with `attributes`.
pub fn build(tag: &str, attributes: &[(&str, &str)], text: &str) -> Result<Element, String> {
    let doc = document().ok_or("no document")?;
    let el = doc
        .create_element(tag)
        .map_err(|e| format!("could not create <{tag}>: {e:?}"))?;
    for (name, value) in attributes {
        el.set_attribute(name, value)
            .map_err(|e| format!("could not set {name} on <{tag}>: {e:?}"))?;
    }
    if !text.is_empty() {
        el.set_text_content(Some(text));
    }
    Ok(el)
}

/// An SVG element tree (`chart::SvgNode`) as DOM nodes: each element made with
/// `createElementNS`, each attribute set with `setAttribute`, each text with `textContent`.
/// Nothing is parsed as markup, so a label can hold any text.
pub fn svg(node: &SvgNode) -> Result<Element, String> {
    let doc = document().ok_or("no document")?;
    let el = doc
        .create_element_ns(Some(SVG_NS), node.tag)
        .map_err(|e| format!("could not create <{}>: {e:?}", node.tag))?;
    for (name, value) in &node.attributes {
        // The namespace is the element's own; as an attribute it would be an error.
        if *name != "xmlns" {
            el.set_attribute(name, value)
                .map_err(|e| format!("could not set {name} on <{}>: {e:?}", node.tag))?;
        }
    }
    if !node.text.is_empty() {
        el.set_text_content(Some(&node.text));
    }
    for child in &node.children {
        append(&el, &svg(child)?)?;
    }
    Ok(el)
}

/// Appends `child` to `parent`.
pub fn append(parent: &Element, child: &Element) -> Result<(), String> {
    parent
        .append_child(child)
        .map(drop)
        .map_err(|e| format!("could not build the page: {e:?}"))
}

/// Replaces what element `id` holds with `children`.
pub fn replace_children(id: &str, children: &[Element]) -> Result<(), String> {
    let Some(el) = element(id) else {
        return Ok(());
    };
    el.set_text_content(None);
    children.iter().try_for_each(|child| append(&el, child))
}

/// `data-<name>` on `<body>`: the page's state for tests and styles.
pub fn set_body_data(name: &str, value: &str) {
    if let Some(body) = document().and_then(|d| d.body()) {
        let _ = body.set_attribute(&format!("data-{name}"), value);
    }
}

/// Offers `text` as a file download named `name` (an empty `text` is refused: a download must
/// never silently be an empty file).
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("{name} would be empty"));
    }
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|e| format!("could not make the file: {e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|e| format!("could not make the file: {e:?}"))?;
    let doc = document().ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not an anchor")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// localStorage, when the browser allows it.
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
