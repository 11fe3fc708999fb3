//! Live updates: the server announces connection changes over server-sent events.

/// Calls `changed` whenever one of the user's connections changes anywhere, and after the
/// event stream reconnects (changes may have been missed while it was down).
#[cfg(feature = "hydrate")]
pub fn on_connection_change(changed: impl Fn() + 'static) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(source) = web_sys::EventSource::new("/api/events") else {
        return;
    };
    let changed = std::rc::Rc::new(changed);
    for event in ["connection", "open"] {
        let changed = changed.clone();
        let listener = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| changed());
        let _ = source.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
        listener.forget();
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn on_connection_change(_changed: impl Fn() + 'static) {}
