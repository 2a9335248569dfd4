//! Milliseconds from `performance.now()` of the global scope (page or worker), else the wall
//! clock.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

pub fn now_ms() -> f64 {
    Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}
