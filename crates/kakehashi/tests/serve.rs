//! `kakehashi serve`: first start, demo data, health and metrics, and several nodes on one
//! PostgreSQL database.

mod common;

use common::node::{get, start, start_node};
use common::Env;

#[tokio::test]
async fn first_start_with_demo_serves_health_and_metrics() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        let said = node.early.join("\n");
        assert!(said.contains("created the demo tenant `demo`"), "{said}");
        assert!(env.data_dir().join("master.key").exists());
        let (status, body) = get(&node.url, "/healthz");
        assert_eq!((status, body.as_str()), (200, "ok\n"), "{}", env.label());
        let (status, metrics) = get(&node.url, "/metrics");
        assert_eq!(status, 200);
        assert!(metrics.contains("kakehashi_database_up 1"), "{metrics}");
        // Group commit's counters (writes per transaction is its batch size).
        for name in [
            "kakehashi_group_commit_writes_total ",
            "kakehashi_group_commit_transactions_total ",
        ] {
            let value = metrics
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("{name} missing: {metrics}"));
            assert!(value.parse::<u64>().is_ok(), "{name}{value}");
        }
        assert!(
            metrics.contains(
                "kakehashi_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"
            ),
            "{metrics}"
        );
        drop(node);
        // The demo tenant holds the generated roster, with names outside the BMP intact.
        let listed = env.run(&["tenant", "list"]).ok();
        assert!(listed.stdout.starts_with("demo\t"), "{}", listed.stdout);
        let out = env.path("demo-export");
        env.run(&[
            "oneroster",
            "export",
            "--tenant",
            "demo",
            out.to_str().unwrap(),
        ])
        .ok();
        let users = std::fs::read_to_string(out.join("users.csv")).unwrap();
        assert!(users.contains('𠮷'), "the demo roster has a name with 𠮷");
        // A second start with --demo leaves the tenant as it is.
        let again = start(&env, &["--demo"]);
        assert!(again.early.join("\n").contains("already there"));
    }
}

#[tokio::test]
async fn two_nodes_share_one_postgresql_database() {
    let env = Env::both().await.pop().expect("postgres env");
    assert_eq!(env.label(), "postgresql");
    let url = env.db.url.clone();
    let (dir_a, dir_b) = (env.path("node-a"), env.path("node-b"));
    // Nodes sharing a database share the master key (it opens the signing keys).
    common::node::share_master_key(&[&dir_a, &dir_b, &env.data_dir()]);
    // Both start at once against an empty database: migrations and the demo tenant must not
    // race, and neither node holds state the other needs.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| start_node(&dir_a, Some(&url), &["--demo"]));
        let b = s.spawn(|| start_node(&dir_b, Some(&url), &["--demo"]));
        (a.join().expect("node a"), b.join().expect("node b"))
    });
    for node in [&a, &b] {
        let (status, body) = get(&node.url, "/healthz");
        assert_eq!((status, body.as_str()), (200, "ok\n"));
    }
    let created = [&a, &b]
        .iter()
        .filter(|n| n.early.join("\n").contains("created the demo tenant"))
        .count();
    assert_eq!(created, 1, "exactly one node creates the demo tenant");
    let listed = env.run(&["tenant", "list"]).ok();
    assert_eq!(listed.stdout.lines().count(), 1, "{}", listed.stdout);
    let verified = env.run(&["audit", "verify"]).ok();
    assert!(verified.stdout.contains("intact"), "{}", verified.stdout);
}
