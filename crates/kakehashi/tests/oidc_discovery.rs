//! OIDC Discovery and JWKS per tenant, judged by an independent relying party (the
//! `openidconnect` crate), on SQLite and PostgreSQL; signing keys shared by nodes and rotated
//! with the next key published before use.

mod common;

use common::node::{get, share_master_key, start, start_node};
use common::Env;
use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{IssuerUrl, JsonWebKey};

fn discover(issuer: &str) -> CoreProviderMetadata {
    let http = openidconnect::ureq::builder().redirects(0).build();
    CoreProviderMetadata::discover(&IssuerUrl::new(issuer.to_owned()).unwrap(), &http)
        .unwrap_or_else(|e| panic!("discovery of {issuer} failed: {e:?}"))
}

fn kids(jwks: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(jwks).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["kty"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_independent_relying_party_accepts_discovery_and_jwks() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let issuer = format!("{}/t/demo", node.url);
        // OIDC Discovery 1.0 §4.3: the issuer in the document equals the one discovered.
        let md = discover(&issuer);
        assert_eq!(md.issuer().as_str(), issuer);
        assert_eq!(md.jwks_uri().url().as_str(), format!("{issuer}/jwks"));
        let algs: Vec<String> = md
            .id_token_signing_alg_values_supported()
            .iter()
            .map(|a| {
                serde_json::to_value(a)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(
            algs.contains(&"RS256".to_owned()) && algs.contains(&"ES256".to_owned()),
            "{algs:?}"
        );
        // The JWKS parses as a key set and publishes a current and a next key per algorithm.
        let (status, body) = get(&node.url, "/t/demo/jwks");
        assert_eq!(status, 200);
        let set: CoreJsonWebKeySet = serde_json::from_str(&body).expect("a JWK set");
        assert_eq!(set.keys().len(), 4, "{body}");
        assert!(set.keys().iter().all(|k| k.key_id().is_some()));
        let kinds = kids(&body);
        assert_eq!(kinds.iter().filter(|(_, kty)| kty == "RSA").count(), 2);
        assert_eq!(kinds.iter().filter(|(_, kty)| kty == "EC").count(), 2);
        assert!(
            !body.contains("\"d\""),
            "no private key material in the JWKS"
        );
        // A tenant that does not exist has no issuer.
        let (status, body) = get(&node.url, "/t/nobody/.well-known/openid-configuration");
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("\"error\""));
        // The same keys after a restart: they live in the database, sealed.
        drop(node);
        let again = start(&env, &[]);
        assert_eq!(
            get(&again.url, "/t/demo/jwks").1,
            body_of(&again.url),
            "stable"
        );
        assert_eq!(
            kids(&get(&again.url, "/t/demo/jwks").1),
            kinds,
            "{}",
            env.label()
        );
    }
}

fn body_of(url: &str) -> String {
    get(url, "/t/demo/jwks").1
}

#[tokio::test]
async fn rotation_publishes_the_next_key_before_it_signs() {
    for env in Env::both().await {
        env.run(&["tenant", "add", "--id", "city-a", "--name", "A"])
            .ok();
        let before = env
            .run(&["keys", "list", "--tenant", "city-a", "--format", "json"])
            .ok();
        let keys: serde_json::Value = serde_json::from_str(&before.stdout).unwrap();
        let next_rs = keys
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["alg"] == "RS256" && k["state"] == "next")
            .expect("a published next RS256 key")["kid"]
            .as_str()
            .unwrap()
            .to_owned();
        // Refused while the next key is younger than relying parties' JWKS caches.
        let early = env.run(&["keys", "rotate", "--tenant", "city-a"]).code(1);
        assert!(
            early.stderr.to_lowercase().contains("next"),
            "{}",
            early.stderr
        );
        let rotated = env
            .run(&[
                "keys",
                "rotate",
                "--tenant",
                "city-a",
                "--min-published-seconds",
                "0",
            ])
            .ok();
        assert!(rotated.stdout.contains(&next_rs), "{}", rotated.stdout);
        let after = env
            .run(&["keys", "list", "--tenant", "city-a", "--format", "json"])
            .ok();
        let keys: serde_json::Value = serde_json::from_str(&after.stdout).unwrap();
        let states: Vec<(String, String)> = keys
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "RS256")
            .map(|k| {
                (
                    k["kid"].as_str().unwrap().to_owned(),
                    k["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            states.contains(&(next_rs.clone(), "current".to_owned())),
            "{states:?}"
        );
        assert_eq!(
            states.iter().filter(|(_, s)| s == "retired").count(),
            1,
            "{states:?}"
        );
        assert_eq!(
            states.iter().filter(|(_, s)| s == "next").count(),
            1,
            "{states:?}"
        );
        // The retired key is still published (tokens it signed remain verifiable).
        let node = start(&env, &[]);
        let published = kids(&get(&node.url, "/t/city-a/jwks").1);
        assert_eq!(published.len(), 5, "{published:?}");
        env.run(&["audit", "verify"]).ok();
    }
}

#[tokio::test]
async fn nodes_share_keys_and_refuse_a_different_master_key() {
    let env = Env::both().await.pop().expect("postgres");
    let url = env.db.url.clone();
    let (a, b, stranger) = (env.path("a"), env.path("b"), env.path("stranger"));
    share_master_key(&[&a, &b]);
    let node_a = start_node(&a, Some(&url), &["--demo"]);
    let node_b = start_node(&b, Some(&url), &[]);
    assert_eq!(
        get(&node_a.url, "/t/demo/jwks").1,
        get(&node_b.url, "/t/demo/jwks").1
    );
    // A node with a master key of its own cannot open the keys: it refuses to start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["tenant", "list"])
        .env("KAKEHASHI_DATA_DIR", &stranger)
        .env("KAKEHASHI_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("different master key"), "{said}");
}
