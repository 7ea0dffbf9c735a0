//! The `ff-board` binary: parse options, start the engine supervisor (and
//! the demo workload when asked), serve the board.
use std::time::Duration;

use ff_board::cli;
use ff_board_engine::{demo, BackendSpec, Engine};
use leptos::config::get_configuration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("hash-password") {
        std::process::exit(ff_board::auth::hash_password_cli());
    }
    let opts = match cli::parse(&args, std::env::var("FF_BOARD_BACKEND").ok(), std::env::var("FF_BOARD_ADDR").ok()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if matches!(opts.backend, BackendSpec::Sqlite { .. }) {
        // The SQLite backend refuses to start without its dev-mode guard;
        // the board says "dev backend" in its header. Set before any thread starts.
        std::env::set_var("FF_DEV_MODE", "1");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(serve(opts));
}

async fn serve(opts: cli::Options) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let conf = get_configuration(None).expect("leptos configuration");
    let mut leptos_options = conf.leptos_options;
    if let Some(addr) = &opts.addr {
        leptos_options.site_addr = addr.parse().unwrap_or_else(|e| {
            eprintln!("invalid FF_BOARD_ADDR {addr:?}: {e}");
            std::process::exit(2)
        });
    }
    let addr = leptos_options.site_addr;
    let engine = Engine::new(opts.backend.clone(), opts.migrate);
    tokio::spawn(engine.clone().supervise());
    if opts.demo {
        let engine = engine.clone();
        tokio::spawn(async move {
            // The demo starts once the backend is dialed.
            loop {
                if let Ok(c) = engine.connected() {
                    tracing::info!("demo workload starting");
                    let _ = demo::spawn(c).await;
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }
    if let Ok(raw) = std::env::var(ff_board_app::proxy::TRUSTED_PROXIES_ENV) {
        if let Err(e) = ff_board_app::proxy::parse_list(&raw) {
            eprintln!("{e}");
            std::process::exit(2)
        }
    }
    let trusted = ff_board::trusted::TrustedHeaders::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let sso = ff_board::oidc::OidcConfig::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let auth = match board_auth(&opts, trusted, sso) {
        Ok(a) => {
            a.clone().watch();
            a
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2)
        }
    };
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
    // The bound address: with port 0 the system chose it (scripts/e2e.sh reads this line).
    let bound = listener.local_addr().map_or_else(|_| addr.to_string(), |a| a.to_string());
    tracing::info!("ff-board listening on http://{bound}");
    let auth = auth as std::sync::Arc<dyn ff_board_app::auth::Authenticator>;
    if let Err(e) = ff_board::serve(listener, engine, leptos_options, auth, shutdown_signal()).await {
        eprintln!("server: {e}");
        std::process::exit(1)
    }
}

/// Ctrl-C or SIGTERM (systemd, Kubernetes): stop accepting, let requests
/// in flight (an action and its audit outcome) finish.
async fn shutdown_signal() {
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
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Users and sessions: the users file when given, the demo accounts in the
/// embedded demo; anything else can only be a read-only board.
fn board_auth(
    opts: &cli::Options,
    trusted: Option<ff_board::trusted::TrustedHeaders>,
    sso: Option<ff_board::oidc::OidcConfig>,
) -> Result<std::sync::Arc<ff_board::authn::BoardAuth>, ff_board::auth::ConfigError> {
    use ff_board::auth::{ConfigError, SessionKey, Users, DEFAULT_SECRET_FILE};
    use ff_board::authn::BoardAuth;
    let key = SessionKey::from_env_or_file(DEFAULT_SECRET_FILE)?;
    let auth = match (&opts.users, opts.embedded_demo) {
        (Some(path), _) => {
            BoardAuth::new(Users::load(path)?, key, opts.behind_tls_proxy, opts.anonymous_read, vec![]).with_users_file(path)
        }
        (None, true) => {
            let (users, listed) = ff_board::auth::demo_users()?;
            BoardAuth::new(users, key, opts.behind_tls_proxy, opts.anonymous_read, listed)
        }
        // Users named by an authenticating proxy or an identity provider only.
        (None, false) if trusted.is_some() || sso.is_some() => BoardAuth::new(Users::none(), key, opts.behind_tls_proxy, opts.anonymous_read, vec![]),
        (None, false) if opts.anonymous_read => {
            tracing::warn!("no FF_BOARD_USERS: read-only board, nobody can sign in");
            BoardAuth::new(Users::none(), key, opts.behind_tls_proxy, true, vec![])
        }
        (None, false) => return Err(ConfigError::Unconfigured),
    };
    let auth = auth.with_trusted_headers(trusted).with_sso(sso).map_err(ConfigError::Sso)?;
    Ok(std::sync::Arc::new(auth))
}

#[cfg(test)]
mod tests {
    /// `--anonymous-read` without `FF_BOARD_USERS` is a read-only board, not an exit.
    #[test]
    fn anonymous_read_without_users_starts() {
        let dir = std::env::temp_dir().join(format!("ffb-anon-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::env::set_current_dir(&dir).unwrap();
        let args: Vec<String> = ["--backend", "valkey://127.0.0.1:1", "--anonymous-read"].iter().map(|s| s.to_string()).collect();
        let opts = crate::cli::parse(&args, None, None).unwrap();
        assert!(opts.users.is_none() && opts.anonymous_read);
        assert!(super::board_auth(&opts, None, None).is_ok(), "a read-only board starts");
        let args: Vec<String> = ["--backend", "valkey://127.0.0.1:1"].iter().map(|s| s.to_string()).collect();
        let opts = crate::cli::parse(&args, None, None).unwrap();
        let refused = super::board_auth(&opts, None, None).err().expect("no users and no read-only flag is refused").to_string();
        assert!(refused.contains("--anonymous-read"), "it says what to do: {refused}");
    }
}
