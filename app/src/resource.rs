//! The console's resources: JSON, read the way server functions' answers are read.
//!
//! Why: what a resource loads reaches the browser by two roads: in the server-rendered page, for
//! hydration, and as a server function's answer when it loads again. Leptos' default resource
//! codec (codee's `JsonSerdeCodec`) reads the first with `serde_json::from_str`, server_fn reads
//! the second with `serde_json::from_slice`, and serde_json's deserializer is generic over its
//! reader: every type the console receives was compiled into the wasm twice, once per reader.
//! Reading the page's copy from its bytes too keeps one (issue 14; the wasm figures are in
//! ARCHITECTURE.md). The text in the page is the same JSON either way.

use std::future::Future;

use leptos::{
    prelude::Resource,
    server::codee::{Decoder, Encoder},
};
use serde::{Serialize, de::DeserializeOwned};

/// JSON, decoded from the text's bytes (`serde_json::from_slice`, as server_fn does).
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A resource that loads with `fetcher` whenever `source` changes (`Resource::new`, in [`Json`]).
#[track_caller]
pub fn new<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// As [`new`], but the page's response waits for it (`Resource::new_blocking`).
#[track_caller]
pub fn blocking<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, true)
}
