//! Live updates: the server announces changes over server-sent events.

/// Calls `changed` whenever one of the named server-sent events arrives (`connection`: one of
/// the user's connections changed anywhere; `audit`: new audit events, for administrators),
/// and after the stream reconnects (changes may have been missed while it was down).
/// One stream at a time: the page that asks last replaces the previous page's stream.
#[cfg(feature = "hydrate")]
pub fn on_change(events: &'static [&'static str], changed: impl Fn() + 'static) {
    use std::cell::RefCell;
    use wasm_bindgen::{closure::Closure, JsCast};
    thread_local! {
        static CURRENT: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
    }
    let Ok(source) = web_sys::EventSource::new("/api/events") else {
        return;
    };
    let changed = std::rc::Rc::new(changed);
    for event in events.iter().copied().chain(["open"]) {
        let changed = changed.clone();
        let listener = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| changed());
        let _ = source.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
        listener.forget();
    }
    if let Some(previous) = CURRENT.with(|current| current.replace(Some(source))) {
        previous.close();
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn on_change(_events: &'static [&'static str], _changed: impl Fn() + 'static) {}
