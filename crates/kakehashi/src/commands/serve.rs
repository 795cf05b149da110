use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use kakehashi_core::{demo, SystemClock};
use kakehashi_server::AppState;

use crate::cli::DataArgs;

pub async fn run(
    data: &DataArgs,
    listen: SocketAddr,
    public_url: Option<String>,
    with_demo: bool,
) -> anyhow::Result<ExitCode> {
    let (dir, store) = super::open(data).await?;
    if dir.created {
        eprintln!(
            "created the data directory {} and its master key (keep a copy of {})",
            dir.path.display(),
            dir.path
                .join(kakehashi_core::data_dir::DataDir::KEY_FILE)
                .display()
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    let public_url = public_url
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_owned();
    if with_demo {
        match demo::ensure(&store, &SystemClock).await? {
            Some(summary) => {
                let users = summary
                    .entities
                    .get(&kakehashi_oneroster::Entity::Users)
                    .map_or(0, |c| c.created);
                eprintln!("created the demo tenant `demo` with {users} users");
                match demo::register_demo_client(&store, &SystemClock, &public_url).await {
                    Ok(reg) => eprintln!(
                        "registered the demo OpenID Connect client (shown once):\n  \
                         issuer:        {}\n  client_id:     {}\n  client_secret: {}\n  \
                         redirect URIs: {}",
                        reg.issuer,
                        reg.client_id.unwrap_or_default(),
                        reg.client_secret.unwrap_or_default(),
                        demo::DEMO_RP_REDIRECT_URIS.join(", ")
                    ),
                    Err(e) => eprintln!("could not register the demo OpenID Connect client: {e}"),
                }
            }
            None => eprintln!("the demo tenant `demo` is already there"),
        }
        print_demo_help(&public_url);
    }
    // Every tenant's signing keys before the first request (Keycloak makes a realm's keys with
    // the realm): a tenant created by the command line or a rotation that used a `next` key
    // would otherwise have its RSA keys generated while its first requests wait.
    for t in kakehashi_core::tenants::list(&store).await? {
        kakehashi_core::keyring::ensure(&store, &dir.master_key, &SystemClock, &t.id)
            .await
            .with_context(|| format!("cannot prepare the signing keys of tenant {}", t.id))?;
    }
    eprintln!(
        "Kakehashi {} listening on {public_url} ({} database)",
        env!("CARGO_PKG_VERSION"),
        store.backend()
    );
    let state = AppState::new(store.clone(), public_url, dir.master_key.clone());
    kakehashi_server::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn print_demo_help(public_url: &str) {
    eprintln!(
        "\nデモ / demo:\n  \
         ログイン / sign in: {public_url}/t/demo/login\n    \
         先生 / teacher: minami.t01  password {}\n    \
         児童 / pupil:   minami.s01  password {}\n  \
         kakehashi user unlock --tenant demo --username minami.s01   # lift a pupil's lockout",
        demo::DEMO_TEACHER_PASSWORD,
        demo::DEMO_PUPIL_PASSWORD,
    );
    eprintln!(
        "  \
         kakehashi oneroster export --tenant demo demo-roster.zip   # the demo roster as OneRoster CSV\n  \
         kakehashi tenant list                                        # tenants\n  \
         curl {public_url}/healthz                                    # health\n  \
         SAML IdP metadata (give it to an SP): {public_url}/t/demo/saml/metadata\n"
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
