//! Command line and environment: `--backend URL` / `FF_BOARD_BACKEND`,
//! `--migrate`, `--demo` / `--no-demo`, `FF_BOARD_ADDR`.
use ff_board_engine::BackendSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub backend: BackendSpec,
    /// The listen address (`FF_BOARD_ADDR`).
    pub addr: Option<String>,
    pub migrate: bool,
    /// Run the demo workload (default: only for the embedded demo; implies `migrate`).
    pub demo: bool,
    /// Users file (`FF_BOARD_USERS`); the embedded demo uses demo accounts.
    pub users: Option<String>,
    /// Let visitors read without signing in (on for the embedded demo).
    pub anonymous_read: bool,
    /// Mark session cookies `Secure`.
    pub behind_tls_proxy: bool,
    pub embedded_demo: bool,
}

/// Parse arguments (without the program name) and the environment values.
pub fn parse(args: &[String], env_backend: Option<String>, env_addr: Option<String>) -> Result<Options, String> {
    let mut backend = env_backend;
    let mut migrate = false;
    let mut demo: Option<bool> = None;
    let mut anonymous: Option<bool> = None;
    let mut behind_tls_proxy = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--backend" => backend = Some(it.next().ok_or("--backend needs a URL")?.clone()),
            s if s.starts_with("--backend=") => backend = Some(s["--backend=".len()..].to_owned()),
            "--migrate" => migrate = true,
            "--demo" => demo = Some(true),
            "--no-demo" => demo = Some(false),
            "--anonymous-read" => anonymous = Some(true),
            "--no-anonymous-read" => anonymous = Some(false),
            "--behind-tls-proxy" => behind_tls_proxy = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let backend = BackendSpec::parse(backend.as_deref())?;
    let embedded = matches!(backend, BackendSpec::Sqlite { embedded_demo: true, .. });
    let demo = demo.unwrap_or(embedded);
    Ok(Options {
        // The embedded demo store is the board's own: create its schema. The
        // demo workload needs the engine's schema / Valkey function library
        // loaded, as ff-server does at boot: `--demo` implies `--migrate`.
        migrate: migrate || embedded || demo,
        demo,
        backend,
        addr: env_addr.filter(|a| !a.is_empty()),
        users: std::env::var("FF_BOARD_USERS").ok().filter(|u| !u.is_empty()),
        anonymous_read: anonymous.unwrap_or(embedded),
        behind_tls_proxy,
        embedded_demo: embedded,
    })
}

pub const USAGE: &str = "usage: ff-board [--backend URL] [--migrate] [--demo|--no-demo] [--anonymous-read|--no-anonymous-read] [--behind-tls-proxy]
       ff-board hash-password   (reads a password on stdin, prints its argon2 hash)
  URL: sqlite:PATH | postgres://… | valkey://host:port | valkeys://host:port (TLS)
       | valkey://host:port,host:port?cluster=true (cluster seeds) (default: embedded demo on ./ff-board-demo.db)
       Valkey live updates in milliseconds need notify-keyspace-events to include K and t on every
       primary (CONFIG SET notify-keyspace-events Kt); otherwise the lease stream polls while a browser watches
  env: FF_BOARD_BACKEND (same as --backend), FF_BOARD_ADDR (listen address, default 127.0.0.1:3000),
       FF_BOARD_USERS (users TOML; required outside the embedded demo to act), FF_BOARD_SECRET (session signing key, >= 32 bytes)";

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_to_embedded_demo() {
        let o = parse(&[], None, None).unwrap();
        assert!(o.demo && o.migrate);
        assert!(matches!(o.backend, BackendSpec::Sqlite { embedded_demo: true, .. }));
    }

    #[test]
    fn flags_and_env() {
        let o = parse(&s(&["--backend", "valkey://h:1", "--demo"]), Some("sqlite:x".into()), Some("0.0.0.0:1".into())).unwrap();
        assert_eq!(o.backend, BackendSpec::Valkey { seeds: vec![("h".into(), 1)], tls: false, cluster: false });
        assert!(o.demo && o.migrate, "--demo loads the engine's library");
        assert!(!parse(&s(&["--backend", "valkey://h:1"]), None, None).unwrap().migrate);
        assert_eq!(o.addr.as_deref(), Some("0.0.0.0:1"));
        assert!(!parse(&[], Some("sqlite:x".into()), None).unwrap().demo);
        assert!(parse(&s(&["--bogus"]), None, None).is_err());
        assert!(parse(&[], Some("mysql://x".into()), None).is_err());
    }
}
