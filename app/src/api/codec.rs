//! The wire format of every server function's answer and error: JSON
//! (readable by curl, the tests and any script), decoded in the browser
//! through `serde_json::from_str`.
//!
//! Why not server_fn's own `Json`: it decodes with `serde_json::from_slice`,
//! while a hydrating `Resource` decodes the same types with `from_str`. The
//! two readers are two monomorphisations of every answer type's
//! `Deserialize` in the wasm bundle. Decoding both ways through `from_str`
//! keeps one copy (measured in docs/BENCHMARKS.md, "First load").
use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON answers decoded as text; see the module docs.
pub struct JsonText;

/// The `output` of every `#[server]` function: a POST answered in [`JsonText`].
pub type JsonAnswer = Post<JsonText>;

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
}
