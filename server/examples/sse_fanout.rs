//! The live-update fan-out's client for scripts/bench-ui.sh: holds STREAMS open event streams
//! of one signed-in user on HUB, makes one change (a disconnect through the backend API, on
//! CHANGE_URL), and prints as JSON how long until each stream heard of it. A Rust client on
//! its own thread, so that the times are the hub's and not a Node client's turn through a
//! thousand sockets on the same two cores.
//!
//! `SSE_COOKIE=… SSE_API_KEY=… sse_fanout HUB STREAMS CHANGE_URL HUB_PID` (the secrets in
//! the environment, not in the process's arguments). Loopback only; bounded: STREAMS connections, one change, at most 30 s.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [hub, streams, change_url, hub_pid] = args.as_slice() else {
        eprintln!("usage: SSE_COOKIE=… SSE_API_KEY=… sse_fanout HUB STREAMS CHANGE_URL HUB_PID");
        std::process::exit(2);
    };
    let cookie = std::env::var("SSE_COOKIE").expect("SSE_COOKIE: the session cookie");
    let key = std::env::var("SSE_API_KEY").expect("SSE_API_KEY: a connections:write key");
    let streams: usize = streams.parse().expect("STREAMS is a number");
    let address = hub.trim_start_matches("http://").to_string();
    let request = format!(
        "GET /api/events HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\
         Accept: text/event-stream\r\n\r\n"
    );
    let changed_at: Arc<OnceLock<Instant>> = Arc::default();
    let heard: Arc<Mutex<Vec<f64>>> = Arc::default();
    let rss_before = rss(hub_pid);
    let mut sockets = Vec::with_capacity(streams);
    for _ in 0..streams {
        let mut socket = TcpStream::connect(&address).await.expect("connect");
        socket.set_nodelay(true).expect("nodelay");
        socket.write_all(request.as_bytes()).await.expect("request");
        sockets.push(socket);
    }
    for mut socket in sockets {
        let (changed_at, heard) = (changed_at.clone(), heard.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut buffer = [0u8; 4096];
            let mut started = false;
            loop {
                let Ok(n) = socket.read(&mut buffer).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                seen.extend_from_slice(&buffer[..n]);
                if !started {
                    if !seen.starts_with(b"HTTP/1.1 200") {
                        eprintln!("a stream was refused: {}", String::from_utf8_lossy(&seen));
                        std::process::exit(1);
                    }
                    started = true;
                }
                if let Some(at) = changed_at.get() {
                    if contains(&seen, b"event: connection") {
                        let ms = at.elapsed().as_secs_f64() * 1000.0;
                        heard.lock().unwrap().push(ms);
                        return;
                    }
                }
                // Before the change only headers and keep-alive comments arrive.
                if changed_at.get().is_none() {
                    seen.clear();
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // every stream subscribed
    let rss_open = rss(hub_pid);
    let client = reqwest::Client::new();
    let start = Instant::now();
    changed_at.set(start).expect("once");
    let gone = client
        .delete(change_url)
        .bearer_auth(&key)
        .send()
        .await
        .expect("the change");
    let answered = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(gone.status().as_u16(), 200, "the change was made");
    let deadline = Instant::now() + Duration::from_secs(30);
    while heard.lock().unwrap().len() < streams && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut heard = heard.lock().unwrap().clone();
    heard.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let i = ((p / 100.0) * heard.len() as f64).ceil() as usize;
        heard.get(i.saturating_sub(1)).copied().unwrap_or(f64::NAN)
    };
    println!(
        "{}",
        serde_json::json!({
            "streams": streams,
            "heard": heard.len(),
            "answered_ms": answered.round(),
            "first_ms": pct(0.0).round(),
            "p50_ms": pct(50.0).round(),
            "p99_ms": pct(99.0).round(),
            "max_ms": pct(100.0).round(),
            "p99_after_answer_ms": (pct(99.0) - answered).max(0.0).round(),
            "rss_before_mib": format!("{:.1}", rss_before),
            "rss_open_mib": format!("{:.1}", rss_open),
        })
    );
    std::process::exit(0);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The hub's resident memory, MiB.
fn rss(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}
