//! Load driver for `bench/lrs/run.sh`: xAPI statement writes and queries against any LRS, with
//! HTTP Basic credentials, over keep-alive loopback connections.
//!
//! ```text
//! xapi_load --endpoint URL --key K --secret S MODE [--threads 8] [--seconds 10]
//!   MODE: post --batch N              POST batches of N generated statements for --seconds
//!         load --total N --batch N    store N statements as fast as possible (ids known)
//!         get --query id|agent|verb-since [--stored N]
//!                                     GET statements chosen among the N already loaded
//! ```
//!
//! Statements are what a Japanese drill sends: an `account` actor (`homePage` + a UUID
//! `name`, no personal names), an ADL verb, an activity with `ja`/`en` names, a score, a
//! registration. Statement `i` has the id `00000000-0000-4000-8000-{i:012x}`, so `load` and
//! `get --query id` agree on ids without talking to each other. Prints one JSON line.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;

#[path = "support/http.rs"]
mod http;
#[path = "support/stats.rs"]
mod stats;
use http::Conn;

const LEARNERS: u64 = 5_000;
const ACTIVITIES: u64 = 2_000;
const VERBS: [&str; 5] = [
    "completed",
    "attempted",
    "answered",
    "passed",
    "experienced",
];
const HOME: &str = "https://portal.example.jp/t/city-a";

#[derive(Clone)]
struct Config {
    endpoint: String,
    auth: String,
    mode: String,
    batch: u64,
    total: u64,
    query: String,
    stored: u64,
    threads: usize,
    seconds: u64,
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("xapi_load: {e}");
            std::process::exit(2);
        }
    };
    let result = match cfg.mode.as_str() {
        "post" => timed(&cfg, |conn, t, n| {
            // Fresh ids per thread and request, far above `load`'s 0..total.
            let first =
                (1u64 << 44) | ((t as u64 & 0xff) << 36) | ((n * cfg.batch) & ((1 << 36) - 1));
            post_batch(conn, &cfg, first, cfg.batch).map(|_| cfg.batch)
        }),
        "load" => load(&cfg),
        "get" => timed(&cfg, |conn, t, n| {
            get_one(conn, &cfg, mix(t as u64 * 1_000_003 + n))
        }),
        other => Err(format!("unknown mode {other}")),
    };
    match result {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("xapi_load: {e}");
            std::process::exit(1);
        }
    }
}

fn parse_args() -> Result<Config, String> {
    let mut m = BTreeMap::new();
    let mut mode = None;
    let mut args = std::env::args().skip(1);
    while let Some(k) = args.next() {
        match k.strip_prefix("--") {
            Some(name) => {
                let v = args.next().ok_or(format!("--{name} needs a value"))?;
                m.insert(name.to_owned(), v);
            }
            None if mode.is_none() => mode = Some(k),
            None => return Err(format!("unexpected argument {k}")),
        }
    }
    let mut get = |k: &str, default: Option<&str>| {
        m.remove(k)
            .or(default.map(str::to_owned))
            .ok_or(format!("--{k} is required"))
    };
    let num = |s: String, k: &str| s.parse::<u64>().map_err(|_| format!("--{k} is a number"));
    let key = get("key", None)?;
    let secret = get("secret", None)?;
    Ok(Config {
        endpoint: get("endpoint", None)?.trim_end_matches('/').to_owned(),
        auth: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
        ),
        mode: mode.ok_or("give a mode: post, load or get")?,
        batch: num(get("batch", Some("1"))?, "batch")?.max(1),
        total: num(get("total", Some("0"))?, "total")?,
        query: get("query", Some("id"))?,
        stored: num(get("stored", Some("0"))?, "stored")?,
        threads: num(get("threads", Some("8"))?, "threads")? as usize,
        seconds: num(get("seconds", Some("10"))?, "seconds")?,
    })
}

/// A cheap deterministic mixer (splitmix64) to pick learners, activities and verbs.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn statement_id(i: u64) -> String {
    format!("00000000-0000-4000-8000-{:012x}", i & 0xffff_ffff_ffff)
}

fn learner(i: u64) -> String {
    let h = mix(i % LEARNERS);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        mix(h) & 0xffff_ffff_ffff
    )
}

fn statement(i: u64) -> String {
    let h = mix(i);
    let verb = VERBS[(h % VERBS.len() as u64) as usize];
    let activity = (h >> 8) % ACTIVITIES;
    let score = (h >> 24) % 101;
    let registration = format!(
        "{:08x}-0000-4000-9000-{:012x}",
        (h >> 32) & 0xffff_ffff,
        i / 20
    );
    format!(
        concat!(
            r#"{{"id":"{id}","actor":{{"objectType":"Agent","account":{{"homePage":"{home}","name":"{learner}"}}}},"#,
            r#""verb":{{"id":"http://adlnet.gov/expapi/verbs/{verb}","display":{{"ja":"{verb}","en-US":"{verb}"}}}},"#,
            r#""object":{{"objectType":"Activity","id":"https://drill.example.jp/activities/sansu/{activity}","#,
            r#""definition":{{"name":{{"ja":"算数ドリル 第{activity}問 𠮷","en":"Arithmetic drill {activity}"}},"#,
            r#""type":"http://adlnet.gov/expapi/activities/cmi.interaction"}}}},"#,
            r#""result":{{"score":{{"scaled":{scaled},"raw":{score},"min":0,"max":100}},"success":{success},"completion":true,"duration":"PT{secs}S"}},"#,
            r#""context":{{"registration":"{registration}","platform":"かけはしドリル","language":"ja-JP"}},"#,
            r#""timestamp":"2026-11-23T09:{mm:02}:{ss:02}.000+09:00"}}"#
        ),
        id = statement_id(i),
        home = HOME,
        learner = learner(i),
        verb = verb,
        activity = activity,
        scaled = score as f64 / 100.0,
        score = score,
        success = score >= 60,
        secs = 10 + score,
        registration = registration,
        mm = (i / 60) % 60,
        ss = i % 60,
    )
}

fn headers(cfg: &Config) -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", cfg.auth.clone()),
        ("X-Experience-API-Version", "1.0.3".to_owned()),
        ("Content-Type", "application/json".to_owned()),
    ]
}

fn post_batch(conn: &mut Conn, cfg: &Config, first: u64, n: u64) -> Result<(), String> {
    let body = if n == 1 {
        statement(first)
    } else {
        let items: Vec<String> = (first..first + n).map(statement).collect();
        format!("[{}]", items.join(","))
    };
    let r = conn.send(
        "POST",
        &format!("{}/statements", cfg.endpoint),
        &headers(cfg),
        &body,
    )?;
    if r.status != 200 {
        return Err(format!("POST statements: {} {}", r.status, r.body));
    }
    Ok(())
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

fn get_one(conn: &mut Conn, cfg: &Config, pick: u64) -> Result<u64, String> {
    if cfg.stored == 0 {
        return Err("--stored N (how many statements `load` stored) is required".into());
    }
    let i = pick % cfg.stored;
    let query = match cfg.query.as_str() {
        "id" => format!("statementId={}", statement_id(i)),
        "agent" => format!(
            "agent={}&limit=25",
            enc(&format!(
                r#"{{"account":{{"homePage":"{HOME}","name":"{}"}}}}"#,
                learner(i)
            ))
        ),
        "verb-since" => format!(
            "verb={}&since={}&limit=25",
            enc(&format!(
                "http://adlnet.gov/expapi/verbs/{}",
                VERBS[(i % 5) as usize]
            )),
            enc("2026-01-01T00:00:00Z")
        ),
        other => return Err(format!("unknown query {other}")),
    };
    let r = conn.send(
        "GET",
        &format!("{}/statements?{query}", cfg.endpoint),
        &headers(cfg),
        "",
    )?;
    if r.status != 200 {
        return Err(format!("GET statements?{query}: {} {}", r.status, r.body));
    }
    if cfg.query == "id" && !r.body.contains(&statement_id(i)) {
        return Err(format!(
            "GET statementId={} did not return it",
            statement_id(i)
        ));
    }
    Ok(1)
}

/// Runs `op` on every thread for `--seconds`; reports operations' latency and items per second.
fn timed(
    cfg: &Config,
    op: impl Fn(&mut Conn, usize, u64) -> Result<u64, String> + Sync,
) -> Result<String, String> {
    // One operation first, so that a misconfiguration fails loudly instead of measuring errors.
    op(&mut Conn::new(&cfg.endpoint)?, usize::MAX, u64::MAX / 3)?;
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (mut lat, items, errors) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..cfg.threads)
            .map(|t| {
                let (stop, op) = (&stop, &op);
                s.spawn(move || {
                    let (mut lat, mut items, mut errors, mut n) = (Vec::new(), 0u64, 0u64, 0u64);
                    let mut conn: Option<Conn> = None;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let t0 = Instant::now();
                        let c = match conn.take() {
                            Some(c) => Ok(c),
                            None => Conn::new(&cfg.endpoint),
                        };
                        match c.and_then(|mut c| op(&mut c, t, n).map(|k| (c, k))) {
                            Ok((c, k)) => {
                                lat.push(t0.elapsed());
                                items += k;
                                conn = Some(c);
                            }
                            Err(e) => {
                                errors += 1;
                                if errors <= 3 {
                                    eprintln!("xapi_load: {e}");
                                }
                            }
                        }
                    }
                    (lat, items, errors)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(cfg.seconds));
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .fold((Vec::new(), 0, 0), |(mut l, i, e), w| {
                let (wl, wi, we) = w.join().unwrap_or_default();
                l.extend(wl);
                (l, i + wi, e + we)
            })
    });
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| stats::percentile_ms(&lat, p);
    if errors > 0 {
        return Err(format!("{errors} requests failed"));
    }
    Ok(format!(
        "{{\"mode\":\"{}\",\"query\":\"{}\",\"batch\":{},\"requests\":{},\"items\":{},\"seconds\":{secs:.2},\"items_per_second\":{:.1},\"p50_ms\":{:.2},\"p95_ms\":{:.2},\"p99_ms\":{:.2},\"threads\":{}}}",
        cfg.mode,
        if cfg.mode == "get" { cfg.query.as_str() } else { "" },
        cfg.batch,
        lat.len(),
        items,
        items as f64 / secs,
        pct(0.50),
        pct(0.95),
        pct(0.99),
        cfg.threads
    ))
}

/// Stores statements 0..total in batches, all threads taking the next batch.
fn load(cfg: &Config) -> Result<String, String> {
    let next = AtomicU64::new(0);
    let started = Instant::now();
    let failed = std::thread::scope(|s| {
        let workers: Vec<_> = (0..cfg.threads)
            .map(|_| {
                let next = &next;
                s.spawn(move || -> Result<(), String> {
                    let mut conn = Conn::new(&cfg.endpoint)?;
                    loop {
                        let first = next.fetch_add(cfg.batch, Ordering::Relaxed);
                        if first >= cfg.total {
                            return Ok(());
                        }
                        let n = cfg.batch.min(cfg.total - first);
                        post_batch(&mut conn, cfg, first, n)?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().unwrap_or(Err("a worker panicked".into())).err())
            .next()
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(format!(
        "{{\"mode\":\"load\",\"items\":{},\"batch\":{},\"seconds\":{secs:.2},\"items_per_second\":{:.1},\"threads\":{}}}",
        cfg.total,
        cfg.batch,
        cfg.total as f64 / secs,
        cfg.threads
    ))
}
