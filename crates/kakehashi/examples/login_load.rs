//! Load driver for `bench/oidc/run.sh`: complete OpenID Connect logins (authorization code +
//! PKCE S256) against any provider whose login page is a plain HTML form, as fast as N
//! threads can, and report throughput and latency percentiles.
//!
//! One login = GET the authorization endpoint with a fresh cookie jar → follow redirects to the
//! login form → POST username/password with the form's hidden fields → follow redirects until
//! the provider sends the browser to the client's redirect URI with a code → POST the code and
//! the PKCE verifier to the token endpoint (client_secret_basic) → an ID token must come back.
//!
//! ```text
//! login_load --authorize URL --token URL --client-id ID --client-secret S \
//!            --redirect-uri URI --username U --password P [--threads 8] [--seconds 10]
//! ```
//!
//! HTTP/1.1 over keep-alive loopback connections, written here on `std` so that the driver
//! costs little beside the servers it measures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;

#[path = "support/http.rs"]
mod http;
#[path = "support/stats.rs"]
mod stats;
use http::Conn;

#[derive(Clone)]
struct Config {
    authorize: String,
    token: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    username: String,
    password: String,
    threads: usize,
    seconds: u64,
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("login_load: {e}");
            std::process::exit(2);
        }
    };
    // One login first, so that a misconfiguration fails loudly instead of measuring errors.
    if let Err(e) = Conn::new(&cfg.authorize).and_then(|mut c| login(&mut c, &cfg, 0)) {
        eprintln!("login_load: the first login failed: {e}");
        std::process::exit(1);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..cfg.threads)
        .map(|t| {
            let cfg = cfg.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut conn = None;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let t0 = Instant::now();
                    let c = match conn.take() {
                        Some(c) => Ok(c),
                        None => Conn::new(&cfg.authorize),
                    };
                    match c.and_then(|mut c| login(&mut c, &cfg, (t as u64) << 32 | n).map(|_| c)) {
                        Ok(c) => {
                            lat.push(t0.elapsed());
                            conn = Some(c);
                        }
                        Err(e) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("login_load: {e}");
                            }
                        }
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(cfg.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (lat, e) = w.join().unwrap_or_default();
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| stats::percentile_ms(&all, p);
    println!(
        "{{\"logins\":{},\"errors\":{},\"seconds\":{:.2},\"per_second\":{:.1},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"threads\":{}}}",
        all.len(),
        errors,
        elapsed,
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        cfg.threads
    );
    if errors > 0 {
        std::process::exit(1);
    }
}

fn parse_args() -> Result<Config, String> {
    let mut m = BTreeMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(k) = args.next() {
        let Some(name) = k.strip_prefix("--") else {
            return Err(format!("unexpected argument {k}"));
        };
        let v = args.next().ok_or(format!("--{name} needs a value"))?;
        m.insert(name.to_owned(), v);
    }
    let mut get = |k: &str| m.remove(k).ok_or(format!("--{k} is required"));
    Ok(Config {
        authorize: get("authorize")?,
        token: get("token")?,
        client_id: get("client-id")?,
        client_secret: get("client-secret")?,
        redirect_uri: get("redirect-uri")?,
        username: get("username")?,
        password: get("password")?,
        threads: get("threads")
            .unwrap_or_else(|_| "8".into())
            .parse()
            .map_err(|_| "--threads")?,
        seconds: get("seconds")
            .unwrap_or_else(|_| "10".into())
            .parse()
            .map_err(|_| "--seconds")?,
    })
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in one tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape_html(&tag[start..end]))
}

/// The first form of a page: its action and its hidden fields.
fn form_of(page: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = page.find("<form")?;
    let end = page[start..].find("</form>")? + start;
    let form = &page[start..end];
    let action = attr(&form[..form.find('>')?], "action").unwrap_or_default();
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|t| {
            let tag = &t[..t.find('>')?];
            (attr(tag, "type").as_deref() == Some("hidden"))
                .then(|| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
                .flatten()
        })
        .collect();
    Some((action, fields))
}

/// A fresh, not cryptographic, 43-character PKCE verifier (RFC 7636 4.1 allows 43–128).
fn verifier(seed: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = seed ^ nanos ^ 0x9e37_79b9_7f4a_7c15;
    let mut out = String::with_capacity(43);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    for _ in 0..43 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(ALPHABET[(x % ALPHABET.len() as u64) as usize] as char);
    }
    out
}

fn login(conn: &mut Conn, cfg: &Config, seed: u64) -> Result<(), String> {
    let verifier = verifier(seed);
    let challenge = kakehashi_oidc::pkce::s256(&verifier);
    let state = &verifier[..16];
    let sep = if cfg.authorize.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut url = format!(
        "{}{sep}response_type=code&client_id={}&redirect_uri={}&scope=openid&state={state}&nonce={state}&code_challenge={challenge}&code_challenge_method=S256",
        cfg.authorize,
        enc(&cfg.client_id),
        enc(&cfg.redirect_uri),
    );
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    let mut post: Option<String> = None;
    let code = 'flow: {
        for _ in 0..10 {
            let cookie = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let headers = if cookie.is_empty() {
                vec![]
            } else {
                vec![("Cookie", cookie)]
            };
            let r = match post.take() {
                Some(body) => conn.send("POST", &url, &headers, &body)?,
                None => conn.send("GET", &url, &headers, "")?,
            };
            for c in &r.set_cookies {
                if let Some((k, v)) = c.split(';').next().and_then(|kv| kv.split_once('=')) {
                    jar.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
            match (r.status, r.location) {
                (301..=303 | 307 | 308, Some(loc)) => {
                    if let Some(q) = loc.strip_prefix(&cfg.redirect_uri) {
                        let code = q
                            .trim_start_matches('?')
                            .split('&')
                            .find_map(|kv| kv.strip_prefix("code="))
                            .ok_or(format!("redirected without a code: {loc}"))?;
                        break 'flow code.to_owned();
                    }
                    url = if loc.starts_with("http") {
                        loc
                    } else {
                        format!("{}{loc}", conn.origin)
                    };
                }
                (200, _) => {
                    let (action, hidden) =
                        form_of(&r.body).ok_or(format!("no form at {url}: {}", r.body))?;
                    let mut body: Vec<String> = hidden
                        .iter()
                        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                        .collect();
                    body.push(format!("username={}", enc(&cfg.username)));
                    body.push(format!("password={}", enc(&cfg.password)));
                    post = Some(body.join("&"));
                    url = if action.is_empty() {
                        url
                    } else if action.starts_with("http") {
                        action
                    } else if action.starts_with('/') {
                        format!("{}{action}", conn.origin)
                    } else {
                        return Err(format!("relative form action {action}"));
                    };
                }
                (s, _) => {
                    return Err(format!(
                        "{s} at {url}: {}",
                        r.body.chars().take(300).collect::<String>()
                    ))
                }
            }
        }
        return Err("too many redirects".into());
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        enc(&cfg.client_id),
        enc(&cfg.client_secret)
    ));
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={verifier}",
        enc(&code),
        enc(&cfg.redirect_uri)
    );
    let r = conn.send(
        "POST",
        &cfg.token,
        &[("Authorization", format!("Basic {basic}"))],
        &body,
    )?;
    if r.status != 200 || !r.body.contains("\"id_token\"") {
        return Err(format!("token endpoint: {} {}", r.status, r.body));
    }
    Ok(())
}
