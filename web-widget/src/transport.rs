//! The engine's requests, performed through the host's proxy (`/proxy/domino/…`,
//! `/proxy/zoho/…`, which adds the credentials). A successful answer's body is handed on in
//! parts as it arrives ([`sync_core::Engine::handle_response_part`]), so that a large one, such
//! as a mail file's list of every document changed since the last run, is never held whole in
//! the browser; any other answer is read whole.

use std::pin::Pin;

use futures_util::{Stream, stream};
use js_sys::Uint8Array;
use sync_core::{Header, HttpRequest, HttpResponse, Side, TransportError, TransportErrorKind};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, ReadableStreamReadResult};

use crate::api::{self, Method};

/// A successful answer's body is handed on in parts of at least this size.
const PART_BYTES: usize = 64 * 1024;

/// What arrives for one request.
pub enum Arrival {
    /// A part of the answer's body; every part comes before the answer.
    Part(u64, String),
    /// The answer with the rest of its body, or why none came; the last arrival.
    Answer(u64, Result<HttpResponse, TransportError>),
}

/// The arrivals of one request, in order.
pub type Arrivals = Pin<Box<dyn Stream<Item = Arrival>>>;

/// Where a request is.
enum Step {
    Send(HttpRequest),
    Read(Reading),
    Done,
}

/// A successful answer whose body is still arriving.
struct Reading {
    id: u64,
    status: u16,
    headers: Vec<Header>,
    reader: ReadableStreamDefaultReader,
    /// Read and not yet handed on.
    bytes: Vec<u8>,
}

/// What sending gave.
enum Sent {
    /// An answer read whole.
    Whole(HttpResponse),
    /// A successful answer whose body is read as it arrives.
    Streaming(Reading),
}

/// Performs `req`: its body's parts as they arrive, then its answer.
pub fn perform(req: HttpRequest) -> Arrivals {
    Box::pin(stream::unfold(Step::Send(req), |step| async move {
        match step {
            Step::Send(req) => {
                let id = req.id;
                match send(req).await {
                    Ok(Sent::Whole(resp)) => Some((Arrival::Answer(id, Ok(resp)), Step::Done)),
                    Ok(Sent::Streaming(r)) => Some(read(r).await),
                    Err(e) => Some((Arrival::Answer(id, Err(e)), Step::Done)),
                }
            }
            Step::Read(r) => Some(read(r).await),
            Step::Done => None,
        }
    }))
}

fn transport(e: &dyn std::fmt::Display) -> TransportError {
    TransportError {
        kind: TransportErrorKind::Other,
        message: e.to_string(),
    }
}

async fn send(req: HttpRequest) -> Result<Sent, TransportError> {
    let prefix = match req.side {
        Side::Notes => "/proxy/domino",
        Side::Crm => "/proxy/zoho",
    };
    let sep = if req.path.starts_with('/') { "" } else { "/" };
    let url = format!("{prefix}{sep}{}", req.path);
    let mut b = Method::parse(&req.method)
        .builder(&url)
        .header("X-CSRF-Token", &api::csrf());
    for h in &req.headers {
        b = b.header(&h.name, &h.value);
    }
    let built = match req.body {
        Some(body) => b.body(body),
        None => b.build(),
    };
    let resp = built
        .map_err(|e| transport(&e))?
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let headers = resp
        .headers()
        .entries()
        .map(|(name, value)| Header { name, value })
        .collect();
    let status = resp.status();
    if resp.ok()
        && let Some(body) = resp.body()
    {
        return Ok(Sent::Streaming(Reading {
            id: req.id,
            status,
            headers,
            reader: body.get_reader().unchecked_into(),
            bytes: Vec::new(),
        }));
    }
    let body = resp.text().await.map_err(|e| transport(&e))?;
    Ok(Sent::Whole(HttpResponse {
        status,
        headers,
        body,
    }))
}

/// Reads on until a part is ready to hand on, or the answer is complete.
async fn read(mut r: Reading) -> (Arrival, Step) {
    loop {
        let complete = sync_core::text_prefix_len(&r.bytes);
        if complete >= PART_BYTES {
            let rest = r.bytes.split_off(complete);
            let part = text(std::mem::replace(&mut r.bytes, rest));
            return (Arrival::Part(r.id, part), Step::Read(r));
        }
        match next_chunk(&r.reader).await {
            Ok(Some(chunk)) => r.bytes.extend_from_slice(&chunk),
            Ok(None) => {
                let resp = HttpResponse {
                    status: r.status,
                    headers: r.headers,
                    body: text(r.bytes),
                };
                return (Arrival::Answer(r.id, Ok(resp)), Step::Done);
            }
            Err(e) => return (Arrival::Answer(r.id, Err(e)), Step::Done),
        }
    }
}

/// The next chunk of the body; `None` at its end.
async fn next_chunk(
    reader: &ReadableStreamDefaultReader,
) -> Result<Option<Vec<u8>>, TransportError> {
    let result = JsFuture::from(reader.read()).await.map_err(|e| {
        transport(
            &e.as_string()
                .unwrap_or_else(|| "the answer broke off".into()),
        )
    })?;
    let result: ReadableStreamReadResult = result.unchecked_into();
    if result.get_done().unwrap_or(false) {
        return Ok(None);
    }
    Ok(Some(
        result.get_value().unchecked_into::<Uint8Array>().to_vec(),
    ))
}

/// Bytes as text, without a copy when they are valid UTF-8.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
