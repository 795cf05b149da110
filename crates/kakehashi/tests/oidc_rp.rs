//! npm `openid-client` 6.x, a strict and widely used relying party, against the OpenID
//! Provider of a real `kakehashi serve --demo` (`tests/js/oidc_rp.mjs`; the browser parts are
//! Debian Chromium). The script reports what the RP saw as JSON lines; these tests judge it.
//!
//! Run one alone: `cargo test -p kakehashi --test oidc_rp -- NAME`.

mod common;
mod js_support;

use std::time::Duration;

use common::Env;
use js_support::{run_script, ScriptRun};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(180);

/// A registered OIDC client of tenant `demo`.
struct Client {
    id: String,
    secret: String,
}

/// Registers a confidential OIDC client through the command line, as an operator does.
fn register(env: &Env, extra: &[&str]) -> Client {
    let mut args = vec![
        "app",
        "add",
        "--tenant",
        "demo",
        "--name",
        "openid-client RP",
        "--protocol",
        "oidc",
        "--security-class",
        "learning",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = env.run(&args).ok();
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("app add --format json: {e}\n{}", out.stdout));
    Client {
        id: v["client_id"].as_str().expect("client_id").to_owned(),
        secret: v["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned(),
    }
}

fn rp(scenario: &str, issuer: &str, client: &Client, args: &[&str]) -> ScriptRun {
    let mut all = vec![scenario, issuer, client.id.as_str(), client.secret.as_str()];
    all.extend_from_slice(args);
    run_script("oidc_rp.mjs", &all, LIMIT).succeeded()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn openid_client_accepts_discovery_and_every_key_of_the_jwks() {
    for env in Env::both().await {
        let label = env.label();
        let node = common::node::start(&env, &["--demo"]);
        let client = register(&env, &["--redirect-uri", "http://127.0.0.1:9/cb"]);
        let issuer = format!("{}/t/demo", node.url);
        let run = rp("discovery", &issuer, &client, &[]);

        // OIDC Discovery 1.0 §3 (required members) and §4.3 (issuer equals the URL's).
        let md = &run.one("metadata")["metadata"];
        assert_eq!(md["issuer"], issuer.as_str(), "{label}");
        assert_eq!(md["jwks_uri"], format!("{issuer}/jwks").as_str());
        for required in [
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
        ] {
            assert!(!md[required].is_null(), "{label}: {required} missing: {md}");
        }
        assert!(md["authorization_endpoint"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&issuer));
        assert!(strings(&md["response_types_supported"]).contains(&"code"));
        assert!(strings(&md["code_challenge_methods_supported"]).contains(&"S256"));
        assert!(!strings(&md["code_challenge_methods_supported"]).contains(&"plain"));
        let algs = strings(&md["id_token_signing_alg_values_supported"]);
        assert!(
            algs.contains(&"RS256") && algs.contains(&"ES256"),
            "{algs:?}"
        );
        assert!(!algs.contains(&"none"));

        // Every published key imports into WebCrypto for its algorithm, is a public signing
        // key with a unique kid, and both algorithms are there.
        let keys = run.one("jwks")["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(keys.len() >= 2, "{label}: {keys:?}");
        for k in &keys {
            assert_eq!(k["imported"], true, "{label}: {k}");
            assert_eq!(k["private"], false, "{label}: private material: {k}");
            assert_eq!(k["use"], "sig", "{k}");
        }
        let mut kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
        kids.sort_unstable();
        kids.dedup();
        assert_eq!(kids.len(), keys.len(), "kids are unique");
        for alg in ["RS256", "ES256"] {
            assert!(
                keys.iter().any(|k| k["alg"] == alg),
                "{label}: no {alg} key"
            );
        }

        // A tenant that does not exist is not an issuer openid-client will accept.
        let wrong = run.one("unknown-issuer");
        assert_eq!(wrong["ok"], false, "{wrong}");
    }
}
