//! The wire formats of the server functions.
//!
//! - **Answers the pages read** (lists, details, previews, action results)
//!   travel as [postcard](https://docs.rs/postcard): in the answer of a
//!   server function ([`PostcardAnswer`]) and in the page's hydration data
//!   ([`resource`]: the same bytes, base64, in the SSR'd HTML). Postcard is
//!   not self-describing, so the browser's decoder per answer type is a
//!   straight field-by-field read: no field-name matching, no map walking,
//!   no JSON lexer instantiated per type. Measured on the same code
//!   (docs/BENCHMARKS.md, "First load"): JSON 429 KB brotli, postcard
//!   402 KB for the whole bundle.
//! - **Errors and the session calls** (`me`, `login`, `logout`) stay JSON
//!   ([`JsonText`]): an error body is readable by curl, by a proxy's log and
//!   by the no-wasm form path (`?__err=`), and scripts read the CSRF token
//!   from `me`. JSON is decoded through `serde_json::from_str` only: that is
//!   also how the live socket's frames are read, so the bundle carries one
//!   JSON reader, not a second `from_slice` copy (server_fn's own `Json`).
//!
//! Postcard answers begin with the build's fingerprint ([`BUILD`]).
//!
//! The board's `/api/*` endpoints are its own RPC between page and server,
//! not a public API; `tests/src/wire.rs` turns postcard answers back into
//! JSON for the integration tests.
use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON, decoded as text; see the module docs.
pub struct JsonText;

/// The `output` of the session calls: a POST answered in [`JsonText`].
pub type JsonAnswer = Post<JsonText>;

/// Postcard; see the module docs.
pub struct Postcard;

/// The `output` of every other server function: a POST answered in [`Postcard`].
pub type PostcardAnswer = Post<Postcard>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = String;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|e| format!("answer is not UTF-8: {e}"))?;
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

impl ContentType for Postcard {
    const CONTENT_TYPE: &'static str = "application/x-postcard";
}

impl FormatType for Postcard {
    const FORMAT_TYPE: Format = Format::Binary;
}

/// The build whose layout an answer follows. Postcard is positional: a tab
/// loaded before an upgrade must not read the new build's answers as its
/// own types (it could decode garbage without an error). Every answer
/// starts with this FNV-1a hash of the package version and, under `make`,
/// the git tree of `app/` (`FF_BOARD_BUILD`); a tab from another build
/// gets "reload the page" instead of wrong numbers.
pub const BUILD: u64 = fnv(fnv(0xcbf2_9ce4_8422_2325, env!("CARGO_PKG_VERSION")), match option_env!("FF_BOARD_BUILD") {
    Some(b) => b,
    None => "",
});

/// What a tab of another build is told (shown as a failed request, not as
/// a malformed one: `AppError::from_server_fn_error`).
pub const UPGRADED: &str = "the board was upgraded since this page loaded: reload the page";

const fn fnv(mut h: u64, s: &str) -> u64 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

impl<T: Serialize> Encodes<T> for Postcard {
    type Error = postcard::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        let mut out = BUILD.to_le_bytes().to_vec();
        out.extend(postcard::to_allocvec(output)?);
        Ok(Bytes::from(out))
    }
}

impl<T: DeserializeOwned> Decodes<T> for Postcard {
    type Error = String;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let body = bytes
            .strip_prefix(&BUILD.to_le_bytes())
            .ok_or(UPGRADED)?;
        exact(body).map_err(|e| format!("unreadable answer: {e}"))
    }
}

/// `T` from exactly `bytes`: left-over bytes are an error, not ignored.
pub fn exact<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    match postcard::take_from_bytes(bytes)? {
        (v, []) => Ok(v),
        _ => Err(postcard::Error::DeserializeUnexpectedEnd),
    }
}

/// The hydration codec of [`resource`]: postcard bytes, which Leptos
/// writes into the page as base64.
impl<T: Serialize> codee::Encoder<T> for Postcard {
    type Error = postcard::Error;
    type Encoded = Vec<u8>;

    fn encode(val: &T) -> Result<Vec<u8>, Self::Error> {
        postcard::to_allocvec(val)
    }
}

impl<T: DeserializeOwned> codee::Decoder<T> for Postcard {
    type Error = postcard::Error;
    type Encoded = [u8];

    fn decode(val: &[u8]) -> Result<T, Self::Error> {
        exact(val)
    }
}

/// `Resource::new` with the [`Postcard`] codec: every page resource is
/// built with this, so hydration and later fetches decode the same way.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> leptos::prelude::Resource<T, Postcard>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    leptos::prelude::Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_bad_input() {
        let bytes = <JsonText as Encodes<Vec<u32>>>::encode(&vec![1, 2]).unwrap();
        assert_eq!(&bytes[..], b"[1,2]");
        assert_eq!(<JsonText as Decodes<Vec<u32>>>::decode(bytes).unwrap(), vec![1, 2]);
        let bad = <JsonText as Decodes<Vec<u32>>>::decode(Bytes::from_static(&[0xff, 0x5b])).unwrap_err();
        assert!(bad.contains("not UTF-8"), "{bad}");
    }

    #[test]
    fn postcard_round_trips_and_refuses_truncated_answers() {
        let v = (Some("wp-7".to_owned()), vec![3u64, 300], true);
        let bytes = <Postcard as Encodes<_>>::encode(&v).unwrap();
        let back: (Option<String>, Vec<u64>, bool) = <Postcard as Decodes<_>>::decode(bytes.clone()).unwrap();
        assert_eq!(back, v);
        let short = bytes.slice(..bytes.len() - 1);
        assert!(<Postcard as Decodes<(Option<String>, Vec<u64>, bool)>>::decode(short).is_err());
        let mut long = bytes.to_vec();
        long.push(0);
        assert!(<Postcard as Decodes<(Option<String>, Vec<u64>, bool)>>::decode(Bytes::from(long)).is_err(), "left-over bytes");
    }

    #[test]
    fn another_builds_answer_asks_for_a_reload() {
        let mut other = (BUILD ^ 1).to_le_bytes().to_vec();
        other.extend(postcard::to_allocvec(&7u32).unwrap());
        let e = <Postcard as Decodes<u32>>::decode(Bytes::from(other)).unwrap_err();
        assert!(e.contains("reload the page"), "{e}");
        use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
        let shown = crate::error::AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(e));
        assert!(matches!(shown, crate::error::AppError::Transport(_)), "a failed request, not a malformed one: {shown:?}");
    }
}

