//! Percent-encodes the visible characters a client left raw in an HTTP/1 request-target, before
//! hyper parses the request line, so that they reach our handlers instead of becoming a bare 400.
//!
//! Why: RFC 9112 §3.2 makes the request-target a URI (RFC 3986), in which `"`, `<`, `>` and `` ` ``
//! must be percent-encoded. Microsoft Entra ID nevertheless sends
//! `GET /scim/v2/Users?filter=userName+eq+"a@b.example" HTTP/1.1` (entra-scim.md §2.1: "quotes raw
//! or %22"). httparse 1.10 lets every visible byte through a request-target
//! (`static URI_MAP: [bool; 256] = byte_map!(b'!'..=0x7e | 0x80..=0xFF);`), but hyper then builds an
//! `http::Uri` from it (`http::Uri::from_maybe_shared(uri_bytes)?` in `proto/h1/role.rs`), and http
//! 1.x refuses `"`, `<` and `>` in the query and `<`, `>` and `` ` `` in the path. hyper answers
//! those requests itself — 400, empty body, connection closed — before any of our code runs.
//!
//! What: [`NormalizingListener`] wraps the TCP listener given to `axum::serve`; each connection is a
//! [`NormalizingStream`] that follows the HTTP/1 framing of what the client sends and replaces, only
//! inside origin-form request-targets (`/path?query`), exactly those refused bytes with `%XX`. That
//! is what the client meant: our SCIM layer decodes the query (`url::form_urlencoded`), so
//! `filter=userName+eq+"a"` then behaves exactly like `filter=userName+eq+%22a%22`.
//!
//! What not: spaces, control bytes and DEL are never touched, so hyper still refuses them; nor are
//! header fields, bodies, fragments, or targets in absolute-, authority- or asterisk-form. Request
//! bodies pass through untouched: the state machine mirrors hyper's framing (Content-Length, chunked
//! with extensions and trailers) to know where the next request line starts. Whatever it cannot
//! frame with certainty — the HTTP/2 preface, CONNECT and Upgrade, `Transfer-Encoding` without a
//! final `chunked`, conflicting lengths, malformed lines, a request line longer than 16 KiB — makes it
//! pass the rest of the connection through unchanged, and hyper answers what it answers. Memory per
//! connection is constant (plus, while it is handed over, the copy of one read that needed
//! encoding) and the cost linear: bodies are skipped in bulk, heads scanned once.
//!
//! Writes go to the socket unchanged.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll, ready},
};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A request line longer than this (method, target and version) is passed through unrewritten.
const MAX_REQUEST_LINE: usize = 16 * 1024;
/// hyper's default read buffer limit (`DEFAULT_MAX_BUFFER_SIZE`): a longer head is refused anyway.
const MAX_HEAD: usize = 8192 + 4096 * 100;
/// hyper's limit on the chunk-extension bytes of one body (`CHUNKED_EXTENSIONS_LIMIT`).
const MAX_CHUNK_EXTENSIONS: u64 = 16 * 1024;
/// hyper's default limit on the trailer bytes of one body (`TRAILER_LIMIT`).
const MAX_TRAILERS: usize = 16 * 1024;

/// Whether `http::Uri` refuses `byte`, a visible ASCII character, raw in the path (`in_query`
/// false) or in the query of an origin-form target. Checked against the http crate in the tests.
const fn must_encode(byte: u8, in_query: bool) -> bool {
    match byte {
        b'<' | b'>' => true,
        b'"' => in_query,
        b'`' => !in_query,
        _ => false,
    }
}

/// `%XX` for `byte`, with upper-case hex digits (RFC 3986 §2.1).
fn percent_encoded(byte: u8) -> [u8; 3] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [b'%', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0x0f)]]
}

/// A listener whose connections normalise request-targets on the way in (see the module docs).
#[derive(Debug)]
pub struct NormalizingListener<L> {
    inner: L,
}

impl<L> NormalizingListener<L> {
    pub fn new(inner: L) -> Self {
        Self { inner }
    }
}

impl<L: Listener> Listener for NormalizingListener<L> {
    type Io = NormalizingStream<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The inner listener logs and retries accept errors.
        let (io, addr) = self.inner.accept().await;
        (NormalizingStream::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection whose reads have their request-targets normalised; writes pass through.
#[derive(Debug)]
pub struct NormalizingStream<S> {
    inner: S,
    normalizer: Normalizer,
    /// Rewritten bytes that did not fit the caller's buffer, delivered before reading more.
    pending: Vec<u8>,
    pending_at: usize,
}

impl<S> NormalizingStream<S> {
    pub fn new(inner: S) -> Self {
        Self { inner, normalizer: Normalizer::default(), pending: Vec::new(), pending_at: 0 }
    }

    /// Moves as much of `pending` into `buf` as fits.
    fn drain_pending(&mut self, buf: &mut ReadBuf<'_>) {
        let left = &self.pending[self.pending_at..];
        let n = left.len().min(buf.remaining());
        buf.put_slice(&left[..n]);
        self.pending_at += n;
        if self.pending_at == self.pending.len() {
            self.pending.clear();
            self.pending_at = 0;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for NormalizingStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.pending.is_empty() {
            this.drain_pending(buf);
            return Poll::Ready(Ok(()));
        }
        // Read straight into the caller's buffer; only a read that needs encoding is copied.
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if let Some(rewritten) = this.normalizer.rewrite(&buf.filled()[before..]) {
            buf.set_filled(before);
            this.pending = rewritten;
            this.drain_pending(buf);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for NormalizingStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Where the reader is in the client's byte stream. Each state names the byte it expects next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before a request line; empty lines are skipped there, as httparse does.
    Idle,
    /// A CR before a request line, which must be followed by LF.
    IdleLf,
    Method,
    Target(Part),
    /// The next byte of `HTTP/1.` at this index.
    Version(usize),
    /// `0` or `1` after `HTTP/1.`.
    Minor,
    /// CR or LF ending the request line.
    LineEnd,
    LineLf,
    /// The start of a header field line, or the empty line ending the head.
    FieldStart,
    FieldName,
    FieldValue,
    FieldLf,
    HeadLf,
    /// This many Content-Length body bytes are still to come.
    Body(u64),
    ChunkStart,
    ChunkSize,
    ChunkSizeSpace,
    ChunkExtension,
    ChunkSizeLf,
    /// This many bytes of the current chunk are still to come.
    ChunkData(u64),
    ChunkDataCr,
    ChunkDataLf,
    /// After the last chunk: a trailer field line, or the CR of the final empty line.
    TrailerStart,
    Trailer,
    TrailerLf,
    EndLf,
    /// Not framing any more: the rest of the connection passes through unchanged.
    Passthrough,
}

/// The component of a request-target being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// Its first byte decides the form.
    Start,
    Path,
    Query,
    /// After `#`: http ignores it, so nothing there is refused.
    Fragment,
    /// Absolute-, authority- or asterisk-form: left alone.
    Other,
}

/// A header field that decides how the message is framed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Field {
    #[default]
    Other,
    ContentLength,
    TransferEncoding,
    Upgrade,
}

/// Up to `N` bytes; remembers when more were pushed, which makes it [`Small::get`] `None`.
#[derive(Clone, Copy, Debug)]
struct Small<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Small<N> {
    fn default() -> Self {
        Self { bytes: [0; N], len: 0 }
    }
}

impl<const N: usize> Small<N> {
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
        }
        self.len = self.len.saturating_add(1);
    }

    fn get(&self) -> Option<&[u8]> {
        self.bytes.get(..self.len)
    }
}

/// What the head of the current request says about framing.
#[derive(Clone, Copy, Debug, Default)]
struct Head {
    /// Bytes from the first byte of the method on.
    len: usize,
    /// Long enough to recognise `PRI` and `CONNECT`.
    method: Small<7>,
    http10: bool,
    field: Field,
    /// Long enough for `transfer-encoding`, lower-cased.
    name: Small<17>,
    /// The value of a framing field; longer ones are not framed.
    value: Small<256>,
    content_length: Option<u64>,
    bad_length: bool,
    /// Whether the last Transfer-Encoding line ends in `chunked`, which is all hyper looks at.
    chunked: Option<bool>,
    upgrade: bool,
}

/// The framing state machine behind [`NormalizingStream`].
#[derive(Debug)]
struct Normalizer {
    state: State,
    head: Head,
    chunk_size: u64,
    extension_bytes: u64,
    trailer_bytes: usize,
}

impl Default for Normalizer {
    fn default() -> Self {
        Self {
            state: State::Idle,
            head: Head::default(),
            chunk_size: 0,
            extension_bytes: 0,
            trailer_bytes: 0,
        }
    }
}

impl Normalizer {
    /// Advances over `input`, the next bytes of the stream; returns them rewritten, or `None` when
    /// they pass unchanged (the usual case, which copies nothing).
    fn rewrite(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        let mut out = Rewritten { input, out: None, copied: 0 };
        let mut at = 0;
        while let Some(&byte) = input.get(at) {
            match self.state {
                State::Passthrough => break,
                State::Body(left) => at += self.skip_body(left, input.len() - at),
                State::ChunkData(left) => at += self.skip_chunk(left, input.len() - at),
                _ => {
                    if self.step(byte) {
                        out.encode(at);
                    }
                    at += 1;
                }
            }
        }
        out.finish()
    }

    /// Passes up to `available` bytes of a Content-Length body; returns how many.
    fn skip_body(&mut self, left: u64, available: usize) -> usize {
        let (n, rest) = split_remaining(left, available);
        self.state = if rest == 0 { State::Idle } else { State::Body(rest) };
        n
    }

    /// Passes up to `available` bytes of a chunk; returns how many.
    fn skip_chunk(&mut self, left: u64, available: usize) -> usize {
        let (n, rest) = split_remaining(left, available);
        self.state = if rest == 0 { State::ChunkDataCr } else { State::ChunkData(rest) };
        n
    }

    /// Takes one byte outside bodies; returns whether it must be percent-encoded.
    fn step(&mut self, byte: u8) -> bool {
        if self.in_head() && !self.count_head_byte() {
            self.state = State::Passthrough;
            return false;
        }
        self.state = match self.state {
            State::Idle => match byte {
                b'\n' => State::Idle,
                b'\r' => State::IdleLf,
                _ => self.begin_request(byte),
            },
            State::IdleLf => expect(byte, b'\n', State::Idle),
            State::Method => self.method_byte(byte),
            State::Target(part) => {
                let (next, encode) = target_byte(part, byte);
                self.state = next;
                return encode;
            }
            State::Version(i) => match b"HTTP/1.".get(i) {
                Some(&want) if want == byte && i + 1 == 7 => State::Minor,
                Some(&want) if want == byte => State::Version(i + 1),
                _ => State::Passthrough,
            },
            State::Minor => self.minor_byte(byte),
            State::LineEnd => match byte {
                b'\r' => State::LineLf,
                b'\n' => State::FieldStart,
                _ => State::Passthrough,
            },
            State::LineLf => expect(byte, b'\n', State::FieldStart),
            State::FieldStart => self.field_start_byte(byte),
            State::FieldName => self.field_name_byte(byte),
            State::FieldValue => match byte {
                b'\r' => State::FieldLf,
                b'\n' => self.end_field(),
                _ => {
                    if self.head.field != Field::Other {
                        self.head.value.push(byte);
                    }
                    State::FieldValue
                }
            },
            State::FieldLf => {
                if byte == b'\n' {
                    self.end_field()
                } else {
                    State::Passthrough
                }
            }
            State::HeadLf => {
                if byte == b'\n' {
                    self.end_head()
                } else {
                    State::Passthrough
                }
            }
            State::ChunkStart => match hex_value(byte) {
                Some(digit) => {
                    self.chunk_size = digit;
                    State::ChunkSize
                }
                None => State::Passthrough,
            },
            State::ChunkSize => self.chunk_size_byte(byte),
            State::ChunkSizeSpace => match byte {
                b' ' | b'\t' => State::ChunkSizeSpace,
                b';' => State::ChunkExtension,
                b'\r' => State::ChunkSizeLf,
                _ => State::Passthrough,
            },
            State::ChunkExtension => self.chunk_extension_byte(byte),
            State::ChunkSizeLf => match byte {
                b'\n' if self.chunk_size == 0 => State::TrailerStart,
                b'\n' => State::ChunkData(self.chunk_size),
                _ => State::Passthrough,
            },
            State::ChunkDataCr => expect(byte, b'\r', State::ChunkDataLf),
            State::ChunkDataLf => expect(byte, b'\n', State::ChunkStart),
            State::TrailerStart if byte == b'\r' => State::EndLf,
            State::TrailerStart | State::Trailer => self.trailer_byte(byte),
            State::TrailerLf => expect(byte, b'\n', State::TrailerStart),
            State::EndLf => expect(byte, b'\n', State::Idle),
            // Handled in bulk by `rewrite`.
            State::Body(_) | State::ChunkData(_) | State::Passthrough => self.state,
        };
        false
    }

    /// Whether the byte about to be taken belongs to a request head (after its first byte).
    fn in_head(&self) -> bool {
        self.in_request_line()
            || matches!(
                self.state,
                State::FieldStart | State::FieldName | State::FieldValue | State::FieldLf | State::HeadLf
            )
    }

    fn in_request_line(&self) -> bool {
        matches!(
            self.state,
            State::Method
                | State::Target(_)
                | State::Version(_)
                | State::Minor
                | State::LineEnd
                | State::LineLf
        )
    }

    /// Counts a byte of the head; false once the request line or the head is too long to frame.
    fn count_head_byte(&mut self) -> bool {
        self.head.len += 1;
        self.head.len <= if self.in_request_line() { MAX_REQUEST_LINE } else { MAX_HEAD }
    }

    fn begin_request(&mut self, byte: u8) -> State {
        self.head = Head::default();
        self.head.len = 1;
        self.method_byte(byte)
    }

    fn method_byte(&mut self, byte: u8) -> State {
        if byte == b' ' && self.head.method.len > 0 {
            // RFC 9113 §3.4: `PRI * HTTP/2.0` opens HTTP/2 with prior knowledge; nothing after it
            // is HTTP/1.
            if self.head.method.get().is_some_and(|method| method == b"PRI") {
                return State::Passthrough;
            }
            return State::Target(Part::Start);
        }
        if !is_token(byte) {
            return State::Passthrough;
        }
        self.head.method.push(byte);
        State::Method
    }

    fn minor_byte(&mut self, byte: u8) -> State {
        match byte {
            b'0' => {
                self.head.http10 = true;
                State::LineEnd
            }
            b'1' => State::LineEnd,
            _ => State::Passthrough,
        }
    }

    fn field_start_byte(&mut self, byte: u8) -> State {
        match byte {
            b'\r' => State::HeadLf,
            b'\n' => self.end_head(),
            // A folded line (obsolete, refused by hyper) or worse: stop framing.
            b' ' | b'\t' => State::Passthrough,
            _ => {
                self.head.name = Small::default();
                self.head.value = Small::default();
                self.field_name_byte(byte)
            }
        }
    }

    fn field_name_byte(&mut self, byte: u8) -> State {
        match byte {
            b':' => {
                self.head.field = field_named(self.head.name.get());
                State::FieldValue
            }
            b'\r' | b'\n' => State::Passthrough,
            _ => {
                self.head.name.push(byte.to_ascii_lowercase());
                State::FieldName
            }
        }
    }

    /// Records a complete framing field the way hyper reads it (`proto/h1/role.rs`).
    fn end_field(&mut self) -> State {
        let head = &mut self.head;
        match head.field {
            Field::Other => {}
            Field::ContentLength => match head.value.get().and_then(content_length) {
                Some(n) if head.content_length.is_none_or(|previous| previous == n) => {
                    head.content_length = Some(n);
                }
                _ => head.bad_length = true,
            },
            Field::TransferEncoding => match head.value.get() {
                Some(value) => head.chunked = Some(ends_in_chunked(value)),
                None => return State::Passthrough,
            },
            Field::Upgrade => head.upgrade = true,
        }
        head.field = Field::Other;
        State::FieldStart
    }

    /// Decides the body's framing as hyper does (RFC 9112 §6.3), or gives up framing.
    fn end_head(&mut self) -> State {
        let head = &self.head;
        self.extension_bytes = 0;
        self.trailer_bytes = 0;
        // After CONNECT or an Upgrade the bytes may stop being HTTP/1 at all.
        if head.upgrade || head.method.get().is_some_and(|method| method == b"CONNECT") {
            return State::Passthrough;
        }
        match (head.chunked, head.content_length) {
            // hyper ignores Content-Length next to Transfer-Encoding; without a final `chunked`
            // (or in HTTP/1.0) it refuses the request.
            (Some(true), _) if !head.http10 => State::ChunkStart,
            (Some(_), _) => State::Passthrough,
            _ if head.bad_length => State::Passthrough,
            (None, None | Some(0)) => State::Idle,
            (None, Some(n)) => State::Body(n),
        }
    }

    fn chunk_size_byte(&mut self, byte: u8) -> State {
        if let Some(digit) = hex_value(byte) {
            return match self.chunk_size.checked_mul(16).and_then(|size| size.checked_add(digit)) {
                Some(size) => {
                    self.chunk_size = size;
                    State::ChunkSize
                }
                None => State::Passthrough,
            };
        }
        match byte {
            b' ' | b'\t' => State::ChunkSizeSpace,
            b';' => State::ChunkExtension,
            b'\r' => State::ChunkSizeLf,
            _ => State::Passthrough,
        }
    }

    fn chunk_extension_byte(&mut self, byte: u8) -> State {
        match byte {
            b'\r' => State::ChunkSizeLf,
            // hyper refuses a bare LF in an extension.
            b'\n' => State::Passthrough,
            _ => {
                self.extension_bytes += 1;
                if self.extension_bytes >= MAX_CHUNK_EXTENSIONS {
                    State::Passthrough
                } else {
                    State::ChunkExtension
                }
            }
        }
    }

    fn trailer_byte(&mut self, byte: u8) -> State {
        self.trailer_bytes += 1;
        if self.trailer_bytes > MAX_TRAILERS {
            State::Passthrough
        } else if byte == b'\r' {
            State::TrailerLf
        } else {
            State::Trailer
        }
    }
}

/// Of `left` body bytes still to come, how many of the `available` ones belong to the body, and how
/// many will be left after them.
fn split_remaining(left: u64, available: usize) -> (usize, u64) {
    let n = usize::try_from(left).map_or(available, |left| left.min(available));
    (n, left - n as u64)
}

/// `next` if `byte` is `want`; otherwise the stream is not what we can frame.
fn expect(byte: u8, want: u8, next: State) -> State {
    if byte == want { next } else { State::Passthrough }
}

/// Takes one byte of a request-target: the next state and whether to percent-encode the byte.
fn target_byte(part: Part, byte: u8) -> (State, bool) {
    if byte == b' ' {
        let next = if part == Part::Start { State::Passthrough } else { State::Version(0) };
        return (next, false);
    }
    // Controls and DEL are left for hyper to refuse, and we stop framing.
    if byte < 0x21 || byte == 0x7f {
        return (State::Passthrough, false);
    }
    let (part, encode) = match part {
        Part::Start if byte == b'/' => (Part::Path, false),
        Part::Start | Part::Other => (Part::Other, false),
        Part::Path => match byte {
            b'?' => (Part::Query, false),
            b'#' => (Part::Fragment, false),
            _ => (Part::Path, must_encode(byte, false)),
        },
        Part::Query => match byte {
            b'#' => (Part::Fragment, false),
            _ => (Part::Query, must_encode(byte, true)),
        },
        Part::Fragment => (Part::Fragment, false),
    };
    (State::Target(part), encode)
}

/// RFC 9110 §5.6.2 `tchar`, what httparse accepts in a method.
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn hex_value(byte: u8) -> Option<u64> {
    char::from(byte).to_digit(16).map(u64::from)
}

fn field_named(name: Option<&[u8]>) -> Field {
    match name {
        Some(b"content-length") => Field::ContentLength,
        Some(b"transfer-encoding") => Field::TransferEncoding,
        Some(b"upgrade") => Field::Upgrade,
        _ => Field::Other,
    }
}

fn trim(value: &[u8]) -> &[u8] {
    value.trim_ascii_start().trim_ascii_end()
}

/// A Content-Length value as hyper reads it: digits only, no sign, no list.
fn content_length(value: &[u8]) -> Option<u64> {
    let digits = trim(value);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &byte| {
        let digit = char::from(byte).to_digit(10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Whether the last coding of a Transfer-Encoding line is `chunked`.
fn ends_in_chunked(value: &[u8]) -> bool {
    value.rsplit(|&byte| byte == b',').next().is_some_and(|last| trim(last).eq_ignore_ascii_case(b"chunked"))
}

/// The output of one `rewrite`: borrowed until the first byte needs encoding, then copied.
struct Rewritten<'a> {
    input: &'a [u8],
    out: Option<Vec<u8>>,
    /// Input bytes before this index are in `out` already.
    copied: usize,
}

impl Rewritten<'_> {
    fn encode(&mut self, at: usize) {
        let (input, copied) = (self.input, self.copied);
        // Room for a few encoded bytes without reallocating.
        let out = self.out.get_or_insert_with(|| Vec::with_capacity(input.len() + 32));
        out.extend_from_slice(&input[copied..at]);
        out.extend_from_slice(&percent_encoded(input[at]));
        self.copied = at + 1;
    }

    fn finish(self) -> Option<Vec<u8>> {
        let mut out = self.out?;
        out.extend_from_slice(&self.input[self.copied..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::VecDeque, task::Waker};

    use super::*;

    /// A reader that yields the given pieces one read at a time.
    struct Pieces(VecDeque<Vec<u8>>);

    impl AsyncRead for Pieces {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if let Some(mut piece) = this.0.pop_front() {
                let n = piece.len().min(buf.remaining());
                buf.put_slice(&piece[..n]);
                if n < piece.len() {
                    this.0.push_front(piece.split_off(n));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    /// Reads everything through a [`NormalizingStream`], `read_size` bytes per caller read.
    fn read_all(pieces: Vec<Vec<u8>>, read_size: usize) -> Vec<u8> {
        let mut stream =
            NormalizingStream::new(Pieces(pieces.into_iter().filter(|p| !p.is_empty()).collect()));
        let mut cx = Context::from_waker(Waker::noop());
        let mut all = Vec::new();
        let mut scratch = vec![0; read_size];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut stream).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return all,
                Poll::Ready(Ok(())) => all.extend_from_slice(buf.filled()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Checks `input` becomes `expected` in one read, split in two at every offset, byte by byte,
    /// and read back through tiny caller buffers.
    fn check(input: &[u8], expected: &[u8]) {
        let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(show(&read_all(vec![input.to_vec()], 64 * 1024)), show(expected), "whole");
        // Every offset for the small inputs; a sample for the long one (byte-by-byte covers all).
        let step = (input.len() / 256).max(1);
        for cut in (0..=input.len()).step_by(step) {
            let pieces = vec![input[..cut].to_vec(), input[cut..].to_vec()];
            assert_eq!(show(&read_all(pieces, 64 * 1024)), show(expected), "split at {cut}");
        }
        let bytes = input.iter().map(|&b| vec![b]).collect();
        assert_eq!(show(&read_all(bytes, 64 * 1024)), show(expected), "byte by byte");
        for read_size in [1, 2, 3, 5] {
            assert_eq!(
                show(&read_all(vec![input.to_vec()], read_size)),
                show(expected),
                "reads of {read_size}"
            );
        }
    }

    fn unchanged(input: &[u8]) {
        check(input, input);
    }

    const QUOTED_GET: &[u8] =
        b"GET /scim/v2/Users?filter=userName+eq+\"a@b.example\" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n";
    const ENCODED_GET: &[u8] =
        b"GET /scim/v2/Users?filter=userName+eq+%22a@b.example%22 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n";

    #[test]
    fn the_encoded_set_is_exactly_what_http_uri_refuses() {
        for byte in 0x21..=0x7e_u8 {
            for (prefix, in_query) in [(&b"/a"[..], false), (&b"/a?x="[..], true)] {
                let target = [prefix, &[byte], b"b"].concat();
                let refused = http::Uri::try_from(&target[..]).is_err();
                assert_eq!(
                    refused,
                    must_encode(byte, in_query),
                    "{:?} in query: {in_query}",
                    char::from(byte)
                );
                let encoded = [prefix, &percent_encoded(byte), b"b"].concat();
                assert!(http::Uri::try_from(&encoded[..]).is_ok(), "{:?} encoded", char::from(byte));
            }
        }
    }

    #[test]
    fn raw_quotes_in_a_query_mean_what_percent_encoded_ones_mean() {
        let rewritten = read_all(vec![QUOTED_GET.to_vec()], 4096);
        let target = |head: &[u8]| {
            let line = head.split(|&b| b == b' ').nth(1).unwrap_or_default().to_vec();
            let uri = http::Uri::try_from(line).unwrap();
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect::<Vec<_>>()
        };
        let meant = b"GET /scim/v2/Users?filter=userName+eq+%22a%40b.example%22 HTTP/1.1\r\n\r\n";
        assert_eq!(target(&rewritten), target(meant));
        assert_eq!(target(&rewritten), [("filter".to_owned(), "userName eq \"a@b.example\"".to_owned())]);
    }

    #[test]
    fn a_quoted_get_is_encoded() {
        check(QUOTED_GET, ENCODED_GET);
    }

    #[test]
    fn only_refused_bytes_are_encoded_and_only_where_they_are_refused() {
        check(
            b"GET /a<b>`c\"d{|}\\^?e\"<>`{|}\\^#\"<> HTTP/1.1\r\n\r\n",
            b"GET /a%3Cb%3E%60c\"d{|}\\^?e%22%3C%3E`{|}\\^#\"<> HTTP/1.1\r\n\r\n",
        );
    }

    #[test]
    fn a_content_length_body_passes_untouched_between_quoted_requests() {
        let body = br#"{"userName":"x\"<y>`@b.example"} GET /?a="b" HTTP/1.1"#;
        let post = [
            b"POST /scim/v2/Users?x=\"1\" HTTP/1.1\r\nHost: x\r\ncontent-length: ".as_slice(),
            body.len().to_string().as_bytes(),
            b"\r\nContent-Type: application/scim+json\r\n\r\n",
            body,
        ]
        .concat();
        let encoded_post =
            [b"POST /scim/v2/Users?x=%221%22".as_slice(), &post[b"POST /scim/v2/Users?x=\"1\"".len()..]]
                .concat();
        check(&[QUOTED_GET, &post, QUOTED_GET].concat(), &[ENCODED_GET, &encoded_post, ENCODED_GET].concat());
    }

    #[test]
    fn a_chunked_body_with_extensions_and_trailers_passes_untouched() {
        let post = b"POST /x?\"a\" HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 3\r\n\r\n\
            5;name=\"v\"<>\r\n\"<>`\"\r\n1E \t;e\r\nGET /?\"b\" HTTP/1.1\r\n\r\n\"\"\"\"\"\"\"\"\r\n\
            0;last=\"x\"\r\nX-Trailer: \"q\"\r\nY: GET /?\"c\"\r\n\r\n";
        let encoded = [b"POST /x?%22a%22".as_slice(), &post[b"POST /x?\"a\"".len()..]].concat();
        check(&[post.as_slice(), QUOTED_GET].concat(), &[&encoded, ENCODED_GET].concat());
    }

    #[test]
    fn a_chunked_body_without_trailers_ends_at_the_empty_line() {
        let post = b"POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\n\"\"\"\r\n0\r\n\r\n";
        check(&[post.as_slice(), QUOTED_GET].concat(), &[post.as_slice(), ENCODED_GET].concat());
    }

    #[test]
    fn empty_lines_before_a_request_and_bare_line_feeds_are_framed_like_httparse() {
        check(
            b"\r\n\nGET /?a=\"b\" HTTP/1.0\nContent-Length: 2\n\n\"\"GET /?a=\"c\" HTTP/1.1\n\n",
            b"\r\n\nGET /?a=%22b%22 HTTP/1.0\nContent-Length: 2\n\n\"\"GET /?a=%22c%22 HTTP/1.1\n\n",
        );
    }

    #[test]
    fn header_values_are_never_rewritten() {
        unchanged(b"GET /Users/1 HTTP/1.1\r\nIf-Match: W/\"1\"\r\nX: <a> `b`\r\n\r\n");
    }

    #[test]
    fn the_http2_preface_passes_through() {
        unchanged(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00GET /?a=\"b\" HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn an_overlong_request_line_stops_rewriting_for_the_connection() {
        let long =
            [b"GET /?a=".as_slice(), &vec![b'x'; MAX_REQUEST_LINE], b"\"b\" HTTP/1.1\r\n\r\n"].concat();
        unchanged(&[&long, QUOTED_GET].concat());
    }

    #[test]
    fn spaces_controls_and_del_are_left_for_hyper_to_refuse() {
        unchanged(b"GET /?a=\x01\"b\" HTTP/1.1\r\n\r\n");
        unchanged(b"GET /?a=\x7f\"b\" HTTP/1.1\r\n\r\n");
        unchanged(b"GET /?a=\t\"b\" HTTP/1.1\r\n\r\n");
        unchanged(&[b"GET /?a=\x01 HTTP/1.1\r\n\r\n".as_slice(), QUOTED_GET].concat());
        // The target ends at the space; what follows is no version, so framing stops there.
        check(b"GET /?a=\" b\" HTTP/1.1\r\n\r\n", b"GET /?a=%22 b\" HTTP/1.1\r\n\r\n");
        unchanged(&[b"GET  /?a=\"b\" HTTP/1.1\r\n\r\n".as_slice(), QUOTED_GET].concat());
    }

    #[test]
    fn other_target_forms_are_left_alone() {
        unchanged(b"GET http://h/a<b>?c=\"d\" HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n");
        check(
            &[b"OPTIONS * HTTP/1.1\r\n\r\n".as_slice(), QUOTED_GET].concat(),
            &[b"OPTIONS * HTTP/1.1\r\n\r\n".as_slice(), ENCODED_GET].concat(),
        );
    }

    #[test]
    fn what_cannot_be_framed_with_certainty_passes_through() {
        let after = |head: &[u8]| unchanged(&[head, QUOTED_GET].concat());
        after(b"CONNECT h:443 HTTP/1.1\r\n\r\n");
        after(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
        after(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
        after(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
        after(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        after(b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n");
        after(b"POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n");
        after(b"GET / HTTP/1.1\r\n folded: x\r\n\r\n");
        after(b"GET / HTTP/2.0\r\n\r\n");
        after(b"GET / HTTP/1.1\rX: y\r\n\r\n");
        after(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\n\"\r\n0\r\n\r\n");
        after(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a\nb\r\n\"\r\n0\r\n\r\n");
        after(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n\"\n0\r\n\r\n");
    }

    #[test]
    fn repeated_equal_content_lengths_and_a_later_chunked_coding_frame_like_hyper() {
        let post = b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n\"\"";
        check(&[post.as_slice(), QUOTED_GET].concat(), &[post.as_slice(), ENCODED_GET].concat());
        let post =
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        check(&[post.as_slice(), QUOTED_GET].concat(), &[post.as_slice(), ENCODED_GET].concat());
    }
}
