//! Load driver for `bench/lti/run.sh`: LTI 1.3 launches against a running Kakehashi, timing
//! the platform's part only — from the launcher's request (login initiation) to the
//! form_post page carrying the `id_token` — with N threads, and reporting throughput and
//! latency percentiles.
//!
//! One launch = `GET /t/{tenant}/launch/{tool}` with the portal session → 303 to the tool's
//! login URL (read here, not fetched: the tool's own time is not the platform's) → the
//! authentication request a tool sends (`scope=openid`, `response_type=id_token`,
//! `response_mode=form_post`, `prompt=none`, the hints, a fresh nonce and state) →
//! `GET /t/{tenant}/lti/auth` → 200 with an `id_token` field. Each thread signs in once
//! through the portal's login form first.
//!
//! ```text
//! lti_launch_load --base http://127.0.0.1:18090 --tenant demo --tool CLIENT_ID \
//!                 --username U --password P [--threads 1] [--seconds 10]
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/http.rs"]
mod http;
#[path = "support/stats.rs"]
mod stats;
use http::Conn;

#[derive(Clone)]
struct Config {
    base: String,
    tenant: String,
    tool: String,
    username: String,
    password: String,
    threads: usize,
    seconds: u64,
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lti_launch_load: {e}");
            std::process::exit(2);
        }
    };
    // Every thread signs in first (not measured); a failure stops before measuring.
    let mut sessions = Vec::new();
    for _ in 0..cfg.threads {
        match Conn::new(&cfg.base).and_then(|mut c| sign_in(&mut c, &cfg).map(|s| (c, s))) {
            Ok(s) => sessions.push(s),
            Err(e) => {
                eprintln!("lti_launch_load: signing in failed: {e}");
                std::process::exit(1);
            }
        }
    }
    if let Some((c, s)) = sessions.first_mut() {
        if let Err(e) = launch(c, &cfg, s, 0) {
            eprintln!("lti_launch_load: the first launch failed: {e}");
            std::process::exit(1);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(t, (conn, session))| {
            let cfg = cfg.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut conn = Some(conn);
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let t0 = Instant::now();
                    let c = match conn.take() {
                        Some(c) => Ok(c),
                        None => Conn::new(&cfg.base),
                    };
                    match c.and_then(|mut c| {
                        launch(&mut c, &cfg, &session, (t as u64) << 32 | n).map(|_| c)
                    }) {
                        Ok(c) => {
                            lat.push(t0.elapsed());
                            conn = Some(c);
                        }
                        Err(e) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("lti_launch_load: {e}");
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
        "{{\"launches\":{},\"errors\":{},\"seconds\":{:.2},\"per_second\":{:.1},\"p50_ms\":{:.2},\"p95_ms\":{:.2},\"p99_ms\":{:.2},\"threads\":{}}}",
        all.len(),
        errors,
        elapsed,
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.95),
        pct(0.99),
        cfg.threads
    );
    if errors > 0 || all.is_empty() {
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
        base: get("base")?.trim_end_matches('/').to_owned(),
        tenant: get("tenant")?,
        tool: get("tool")?,
        username: get("username")?,
        password: get("password")?,
        threads: get("threads")
            .unwrap_or_else(|_| "1".into())
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

fn dec(s: &str) -> String {
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
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url.split_once('?')?.1.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| dec(v))
    })
}

fn hidden(page: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = page.find(&needle)? + needle.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].replace("&amp;", "&"))
}

/// The cookie pair of the portal session, after signing in through the login form.
fn sign_in(conn: &mut Conn, cfg: &Config) -> Result<String, String> {
    let login = format!("{}/t/{}/login", cfg.base, cfg.tenant);
    let page = conn.send("GET", &login, &[], "")?;
    let csrf = hidden(&page.body, "csrf").ok_or("no csrf field on the login page")?;
    let cookie = page
        .set_cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let body = format!(
        "csrf={}&username={}&password={}",
        enc(&csrf),
        enc(&cfg.username),
        enc(&cfg.password)
    );
    let r = conn.send("POST", &login, &[("Cookie", cookie)], &body)?;
    r.set_cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .find(|c| c.starts_with("kakehashi_session="))
        .map(str::to_owned)
        .ok_or(format!("sign-in failed: {} {}", r.status, r.body))
}

fn launch(conn: &mut Conn, cfg: &Config, session: &str, seed: u64) -> Result<(), String> {
    let start = format!("{}/t/{}/launch/{}", cfg.base, cfg.tenant, enc(&cfg.tool));
    let r = conn.send("GET", &start, &[("Cookie", session.to_owned())], "")?;
    let login_url = match (r.status, r.location) {
        (303, Some(l)) => l,
        (s, _) => return Err(format!("launch: {s} {}", r.body)),
    };
    let get = |k: &str| query_param(&login_url, k).ok_or(format!("{k} missing in {login_url}"));
    let nonce = format!("n{seed:x}{:x}", now_nanos());
    let redirect = get("target_link_uri")?;
    let auth = format!(
        "{}/t/{}/lti/auth?scope=openid&response_type=id_token&response_mode=form_post&prompt=none&client_id={}&redirect_uri={}&login_hint={}&lti_message_hint={}&state=s{seed:x}&nonce={nonce}",
        cfg.base,
        cfg.tenant,
        enc(&get("client_id")?),
        enc(&redirect),
        enc(&get("login_hint")?),
        enc(&get("lti_message_hint")?),
    );
    let r = conn.send("GET", &auth, &[("Cookie", session.to_owned())], "")?;
    if r.status != 200 || hidden(&r.body, "id_token").is_none() {
        return Err(format!("auth: {} {}", r.status, r.body));
    }
    Ok(())
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
