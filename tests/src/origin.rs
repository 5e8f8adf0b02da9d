//! A tiny static origin server (the demo store's, locally and in tests): serves a folder with
//! pretty URLs (`/products/C100` -> `products/C100.html`), content types by extension, `HEAD`,
//! plain 404s, and redirects (`old.redirect` holding `/new` answers `/old` with a 302 to its own
//! absolute address, as many origins do), and extra response headers from `<file>.headers`
//! beside a file (`Name: value` lines, e.g. the `Vitrine-Identity` of a login page; a
//! `Cache-Control` there replaces the default). One thread per connection, `Connection: close`:
//! simple, not fast. It keeps what it was asked, the last [`ASKED_KEPT`] requests
//! ([`Origin::asked`]): what reached the origin through the worker, and how.
//!
//! With a [`Login`] key it is also the demo store's backend for signing in: `POST
//! /account/login` (form `customer=<id>`) answers `303 /` with `Vitrine-Identity: <token>`
//! (HS256, signed with the key as a store's backend would), `POST /account/logout` with
//! `Vitrine-Identity: logout`; both `Cache-Control: no-store`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

pub struct Origin {
    pub addr: SocketAddr,
    asked: Arc<Mutex<VecDeque<Asked>>>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

/// One request the origin was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    pub host: String,
    pub forwarded_host: Option<String>,
    pub forwarded_proto: Option<String>,
}

/// How many requests [`Origin::asked`] keeps (the demo's origin runs for hours).
pub const ASKED_KEPT: usize = 1000;

/// The key the demo's backend signs identity tokens with (`IDENTITY_SECRET`'s `<kid>:<secret>`).
#[derive(Clone, Debug)]
pub struct Login {
    pub kid: String,
    pub secret: String,
}

impl Login {
    pub fn parse(var: &str) -> Option<Login> {
        let (kid, secret) = var.trim().split_once(':')?;
        Some(Login { kid: kid.into(), secret: secret.into() })
    }
}

impl Origin {
    /// Serves `root` on `127.0.0.1:port` (0: any free port) in background threads.
    pub fn start(root: &Path, port: u16) -> std::io::Result<Origin> {
        Origin::start_with(root, port, None)
    }

    /// The same, signing customers in with `login`.
    pub fn start_with(root: &Path, port: u16, login: Option<Login>) -> std::io::Result<Origin> {
        Origin::start_slow(root, port, login, std::time::Duration::ZERO)
    }

    /// The same, each answer `delay` late: an origin as far from the edge as a store's usually
    /// is (the edge bench's `ORIGIN_DELAY_MS`).
    pub fn start_slow(root: &Path, port: u16, login: Option<Login>, delay: std::time::Duration) -> std::io::Result<Origin> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let asked = Arc::new(Mutex::new(VecDeque::new()));
        let (root, flag, log) = (root.to_path_buf(), stop.clone(), asked.clone());
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let (root, login, log) = (root.clone(), login.clone(), log.clone());
                    thread::spawn(move || {
                        thread::sleep(delay);
                        let _ = serve(conn, &root, login.as_ref(), &log);
                    });
                }
            }
        });
        Ok(Origin { addr, asked, stop, thread: Mutex::new(Some(thread)) })
    }

    /// The requests it was asked, oldest first (the last [`ASKED_KEPT`]).
    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().map(|a| a.iter().cloned().collect()).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections (the port is closed when this returns).
    pub fn stop(&self) {
        let handle = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(t) = handle {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(self.addr); // wakes the accept loop
            let _ = t.join();
        }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file for a URL path: exact, `.html` added, or `index.html` inside; never outside root.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path.split(['?', '#']).next().unwrap_or("/"));
    let rel = Path::new(decoded.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let base = root.join(rel);
    let candidates = [base.clone(), base.with_extension("html"), base.join("index.html")];
    candidates.into_iter().find(|p| p.is_file() && (p != &base || !url_path.ends_with('/')))
}

/// `<path>.redirect`, exactly, for a URL path.
fn redirect_file(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path.split(['?', '#']).next().unwrap_or("/"));
    let rel = decoded.trim_matches('/');
    if rel.is_empty() || Path::new(rel).components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(format!("{rel}.redirect"))).filter(|p| p.is_file())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(conn: TcpStream, root: &Path, login: Option<&Login>, asked: &Mutex<VecDeque<Asked>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Only Host matters (and the forwarded ones, kept), and Content-Length for the login form.
    let mut host = String::from("localhost");
    let (mut forwarded_host, mut forwarded_proto) = (None, None);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("host") {
                host = v.trim().to_string();
            } else if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("x-forwarded-host") {
                forwarded_host = Some(v.trim().to_string());
            } else if k.eq_ignore_ascii_case("x-forwarded-proto") {
                forwarded_proto = Some(v.trim().to_string());
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    if let Ok(mut asked) = asked.lock() {
        if asked.len() == ASKED_KEPT {
            asked.pop_front();
        }
        asked.push_back(Asked { method: method.into(), target: target.into(), host: host.clone(), forwarded_host, forwarded_proto });
    }
    let mut conn = conn;
    if let (Some(login), "POST", "/account/login" | "/account/logout") = (login, method, target) {
        let mut body = vec![0; length.min(4096)];
        std::io::Read::read_exact(&mut reader, &mut body)?;
        let form = String::from_utf8_lossy(&body);
        let customer = form.split('&').find_map(|p| p.strip_prefix("customer=")).map(|v| percent_decode(&v.replace('+', " ")));
        let identity = match (target, customer) {
            ("/account/login", Some(c)) if !c.is_empty() => crate::identity::token_with(&login.kid, &login.secret, &c, None, crate::identity::now() + 600),
            ("/account/login", _) => return conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            _ => "logout".into(),
        };
        let head = format!("HTTP/1.1 303 See Other\r\nLocation: http://{host}/\r\nVitrine-Identity: {identity}\r\nCache-Control: no-store\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        conn.set_nodelay(true)?;
        return conn.write_all(head.as_bytes());
    }
    let redirect = redirect_file(root, target);
    if let Some(file) = redirect.filter(|_| method == "GET" || method == "HEAD") {
        let to = std::fs::read_to_string(file)?;
        let head = format!("HTTP/1.1 302 Found\r\nLocation: http://{host}{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", to.trim());
        conn.set_nodelay(true)?;
        return conn.write_all(head.as_bytes());
    }
    let mut extra = String::new();
    let (status, ctype, body) = match (method, resolve(root, target)) {
        ("GET" | "HEAD", Some(file)) => {
            let body = std::fs::read(&file)?;
            // The demo's placeholder images are SVG whatever the catalog calls them.
            let ctype = if body.starts_with(b"<svg") { "image/svg+xml" } else { content_type(&file) };
            let mut headers_file = file.into_os_string();
            headers_file.push(".headers");
            extra = std::fs::read_to_string(headers_file).unwrap_or_default();
            ("200 OK", ctype, body)
        }
        ("GET" | "HEAD", None) => ("404 Not Found", "text/html; charset=utf-8", b"<!doctype html><title>Not found</title><h1>Not found</h1>".to_vec()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", b"static site: GET only".to_vec()),
    };
    let extra: String = extra.lines().map(str::trim).filter(|l| l.contains(':')).map(|l| format!("{l}\r\n")).collect();
    let cache = if extra.to_ascii_lowercase().contains("cache-control:") { "" } else { "Cache-Control: public, max-age=60\r\n" };
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{cache}{extra}Connection: close\r\n\r\n", body.len());
    // One write, no Nagle: split small writes meet delayed ACKs and cost ~40 ms each.
    conn.set_nodelay(true)?;
    let mut out = head.into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(&body);
    }
    conn.write_all(&out)?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_pretty_urls_and_refuses_escapes() {
        let dir = std::env::temp_dir().join(format!("vitrine-origin-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("products")).unwrap();
        std::fs::write(dir.join("index.html"), "home").unwrap();
        std::fs::write(dir.join("products/C100.html"), "candle").unwrap();
        assert_eq!(resolve(&dir, "/"), Some(dir.join("index.html")));
        assert_eq!(resolve(&dir, "/products/C100?x=1"), Some(dir.join("products/C100.html")));
        assert_eq!(resolve(&dir, "/products/%43100"), Some(dir.join("products/C100.html")));
        assert_eq!(resolve(&dir, "/../etc/passwd"), None);
        assert_eq!(resolve(&dir, "/nope"), None);

        let origin = Origin::start(&dir, 0).unwrap();
        let r = crate::http::get(&origin.url(), "/products/C100", &[]);
        assert_eq!((r.status, r.text().as_str(), r.header("content-type")), (200, "candle", Some("text/html; charset=utf-8")));
        assert_eq!(crate::http::get(&origin.url(), "/missing", &[]).status, 404);
        let asked: Vec<_> = origin.asked().into_iter().map(|a| (a.method, a.target, a.forwarded_host)).collect();
        assert_eq!(asked, [("GET".into(), "/products/C100".into(), None), ("GET".into(), "/missing".into(), None)]);
        drop(origin);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
