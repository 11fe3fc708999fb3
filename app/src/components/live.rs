//! Live updates: the server announces changes over server-sent events.

/// Calls `changed` whenever one of the named server-sent events arrives (`connection`: one of
/// the user's connections changed anywhere; `audit`: new audit events, for administrators),
/// after the stream (re)connects, and when the browser comes back online: changes may have been
/// missed meanwhile. One stream at a time: the page that asks last replaces the previous one.
#[cfg(feature = "hydrate")]
pub fn on_change(events: &'static [&'static str], changed: impl Fn() + 'static) {
    use std::cell::RefCell;
    use wasm_bindgen::{closure::Closure, JsCast};
    type Listener = Closure<dyn Fn(web_sys::Event)>;
    thread_local! {
        static CURRENT: RefCell<Option<(web_sys::EventSource, Listener)>> =
            const { RefCell::new(None) };
    }
    let (Some(window), Ok(source)) = (web_sys::window(), web_sys::EventSource::new("/api/events"))
    else {
        return;
    };
    let changed = std::rc::Rc::new(changed);
    let listener = |changed: std::rc::Rc<dyn Fn()>| Listener::new(move |_| changed());
    for event in events.iter().copied().chain(["open"]) {
        let on_event = listener(changed.clone());
        let _ = source.add_event_listener_with_callback(event, on_event.as_ref().unchecked_ref());
        // Lives as long as the page: the stream is closed when the next page takes over.
        on_event.forget();
    }
    let on_online = listener(changed);
    let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    let previous = CURRENT.with(|current| current.replace(Some((source, on_online))));
    if let Some((source, on_online)) = previous {
        source.close();
        let callback = on_online.as_ref().unchecked_ref();
        let _ = window.remove_event_listener_with_callback("online", callback);
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn on_change(_events: &'static [&'static str], _changed: impl Fn() + 'static) {}
