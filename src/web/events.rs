//! What one part of the page tells the others, without holding them: a model's text tower or
//! the whole model became ready, a benchmark folder was picked, a sample should be shown in the demo. A panel subscribes once
//! when it starts; whoever emits knows no subscriber. Single-threaded (the page's thread).

use std::cell::RefCell;
use std::rc::Rc;

use crate::leakage::run::RunIdentity;

use super::files::PickedDataset;

/// A loaded model, as the worker described it.
#[derive(Clone, Debug)]
pub struct ModelReady {
    /// What dataset scores from this model, head and precision are filed under.
    pub identity: RunIdentity,
}

/// A text-first model load has its text tower: text can be scored, images not yet (a
/// [`ModelReady`] follows when the image tower is in).
#[derive(Clone, Debug)]
pub struct TextReady;

/// A benchmark pair to open in the demo: its text, and its image's encoded bytes.
#[derive(Clone, Debug)]
pub struct ShowSample {
    pub text: String,
    pub image: Option<Vec<u8>>,
}

type Handler<T> = Rc<dyn Fn(&T)>;
type Handlers<T> = RefCell<Vec<Handler<T>>>;

thread_local! {
    static MODEL_READY: Handlers<ModelReady> = RefCell::default();
    static TEXT_READY: Handlers<TextReady> = RefCell::default();
    static DATASET_PICKED: Handlers<Rc<PickedDataset>> = RefCell::default();
    static SHOW_SAMPLE: Handlers<ShowSample> = RefCell::default();
}

fn emit<T>(handlers: &'static std::thread::LocalKey<Handlers<T>>, event: &T) {
    // Cloned first: a handler may subscribe or emit in turn.
    let all: Vec<Handler<T>> = handlers.with_borrow(|h| h.clone());
    for handler in all {
        handler(event);
    }
}

pub fn on_model_ready(handler: impl Fn(&ModelReady) + 'static) {
    MODEL_READY.with_borrow_mut(|h| h.push(Rc::new(handler)));
}

pub fn model_ready(event: &ModelReady) {
    emit(&MODEL_READY, event);
}

pub fn on_text_ready(handler: impl Fn(&TextReady) + 'static) {
    TEXT_READY.with_borrow_mut(|h| h.push(Rc::new(handler)));
}

pub fn text_ready(event: &TextReady) {
    emit(&TEXT_READY, event);
}

/// A benchmark folder (or data file and archive) picked in any panel: every panel that reads
/// benchmarks takes it, so the person picks VLSBench once.
pub fn on_dataset_picked(handler: impl Fn(&Rc<PickedDataset>) + 'static) {
    DATASET_PICKED.with_borrow_mut(|h| h.push(Rc::new(handler)));
}

pub fn dataset_picked(dataset: &Rc<PickedDataset>) {
    emit(&DATASET_PICKED, dataset);
}

pub fn on_show_sample(handler: impl Fn(&ShowSample) + 'static) {
    SHOW_SAMPLE.with_borrow_mut(|h| h.push(Rc::new(handler)));
}

pub fn show_sample(event: &ShowSample) {
    emit(&SHOW_SAMPLE, event);
}
