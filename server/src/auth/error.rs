//! Why the board's auth configuration could not be used: a users file, a
//! session secret (`FF_BOARD_SECRET` or its file), a password hash. Each
//! error's text is what the operator reads on the console at start (or in
//! the log on a reload), naming the file and the line.
use std::path::PathBuf;

use argon2::password_hash;

use super::{MIN_SECRET_LEN, SECRET_ENV};

/// A password could not be hashed (or a hash's parameters reused).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The random salt could not be encoded.
    #[error("salt: {0}")]
    Salt(password_hash::Error),
    /// Argon2 refused the password (over 4 GiB) or the parameters.
    #[error("cannot hash password: {0}")]
    Hash(password_hash::Error),
    /// A stored hash whose parameters cannot be read back.
    #[error("{0}")]
    Parse(password_hash::Error),
    /// Parameters argon2 does not accept.
    #[error("{0}")]
    Params(argon2::Error),
}

/// Why a `password_hash` is not a usable argon2id PHC string.
#[derive(Debug, thiserror::Error)]
pub enum PhcError {
    #[error("not an argon2id PHC string like $argon2id$v=19$… from `ff-board hash-password` ({0})")]
    NotPhc(password_hash::Error),
    #[error("algorithm is {0}, expected argon2id")]
    Algorithm(String),
    #[error("bad argon2 parameters ({0})")]
    Params(password_hash::Error),
    #[error("missing salt or hash")]
    MissingSaltOrHash,
}

/// The users file, the session secret or the choice between them is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read users file {}: {source}", path.display())]
    ReadUsers { path: PathBuf, source: std::io::Error },
    /// A users file that was read but is wrong (`source` names the line).
    #[error("users file {}: {source}", path.display())]
    UsersFile { path: PathBuf, source: Box<ConfigError> },
    /// Not TOML, an unknown role or field, a missing one (the parser's words, with the line).
    #[error("{}", .0.to_string().trim_end())]
    Toml(toml::de::Error),
    #[error("no users: expected at least one [[user]] table with name, role and password_hash")]
    NoUsers,
    #[error("line {line}: invalid user name {name:?}")]
    InvalidName { line: usize, name: String },
    #[error("line {line}: duplicate user {name:?} (first defined on line {first})")]
    DuplicateUser { line: usize, name: String, first: usize },
    #[error("line {line}: bad password_hash for {name:?}: {source}")]
    BadHash { line: usize, name: String, source: PhcError },
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Neither a users file nor a read-only board outside the embedded demo.
    #[error("no users: set FF_BOARD_USERS to a users TOML file (see README), or pass --anonymous-read for a read-only board")]
    Unconfigured,
    /// Single sign-on's settings are unusable.
    #[error("single sign-on: {0}")]
    Sso(String),
    #[error("session secret too short: {0} bytes, need at least {MIN_SECRET_LEN}")]
    SecretTooShort(usize),
    /// `FF_BOARD_SECRET` is set but unusable.
    #[error("{SECRET_ENV}: {0}")]
    SecretEnv(Box<ConfigError>),
    #[error("{SECRET_ENV} is not valid UTF-8")]
    SecretNotUtf8,
    #[error("cannot write secret file {}: {source}", path.display())]
    WriteSecret { path: PathBuf, source: std::io::Error },
    #[error("cannot read secret file {}: {source}", path.display())]
    ReadSecret { path: PathBuf, source: std::io::Error },
    #[error("cannot create secret file {}: {source}", path.display())]
    CreateSecret { path: PathBuf, source: std::io::Error },
    /// A secret file that was read but is unusable.
    #[error("secret file {}: {source}", path.display())]
    SecretFile { path: PathBuf, source: Box<ConfigError> },
}
