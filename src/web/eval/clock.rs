//! [`Clock`] on `performance.now()` and `setTimeout`, read from the global scope so the same
//! code works in a page and in a worker.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::platform::clock::Clock;
use crate::web::time::now_ms;

pub struct BrowserClock {
    origin_ms: f64,
}

impl Default for BrowserClock {
    fn default() -> Self {
        Self {
            origin_ms: now_ms(),
        }
    }
}

impl Clock for BrowserClock {
    fn now(&self) -> Duration {
        Duration::from_secs_f64(((now_ms() - self.origin_ms) / 1000.0).max(0.0))
    }

    fn sleep(&self, duration: Duration) -> LocalBoxFuture<'static, ()> {
        // setTimeout takes at most 2^31 - 1 ms; longer waits are not needed by the engine.
        let ms = duration.as_millis().min(i32::MAX as u128) as i32;
        let promise = Promise::new(&mut |resolve, _reject| {
            let global = js_sys::global();
            let set_timeout = Reflect::get(&global, &JsValue::from_str("setTimeout"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok());
            match set_timeout {
                Some(f) => {
                    let _ = f.call2(&global, &resolve, &JsValue::from(ms));
                }
                // No timers (never seen in a browser): do not hang the run.
                None => {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
        });
        Box::pin(async move {
            let _ = JsFuture::from(promise).await;
        })
    }
}
