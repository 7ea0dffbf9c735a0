//! The `ff-board` binary: parse options, start the engine supervisor (and
//! the demo workload when asked), serve the board.
use std::time::Duration;

use ff_board::cli;
use ff_board_engine::{demo, BackendSpec, Engine};
use leptos::config::get_configuration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
    let app = ff_board::app(engine, leptos_options);
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
    tracing::info!("ff-board listening on http://{addr}");
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("server");
}
