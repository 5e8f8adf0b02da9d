//! The bundle body's binary layout, our own (no serde at run time: in the browser its generic
//! decoding and error formatting were a fifth of the SDK's download).
//!
//! Every field is written in the order listed at the bottom of this file, without names.
//! Unsigned integers are LEB128 varints, signed ones zigzag varints, floats little-endian
//! IEEE 754, booleans one byte (0 or 1), strings and lists a varint length then their items,
//! `Option` a byte (0 none, 1 some) then the value, unit enums their variant's index, and
//! [`Value`] a tag byte (0 null, 1 bool, 2 number, 3 string, 4 array, 5 object) then its content.
//! The rules' journeys and messaging are each preceded by their byte length: only servers read
//! them, and the browser's build steps over them.
//!
//! Invariant: decoding never panics, whatever the bytes, and never reserves memory the input
//! does not back: every length is checked against the bytes left, and lists reserve nothing
//! on their claimed length (fuzz/, target `bundle`, bounds decoding's peak heap). The first
//! error wins and is reported with its byte offset.
//! Invariant: changing a listed type's fields changes the layout: bump `bundle::FORMAT_VERSION`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::body::{Blob, BundleBody, Catalog, Keyed, Neighbors, RecTables, Scored, SegmentSize, Stats, ROW_LEN};
use crate::predict::{BgNbd, GammaGamma, PredictConfig};
use crate::rfm::{CustomerModel, FitDiagnostics};
use crate::rules::{
    Arm, Capture, Channel, Engagement, Experiment, Journey, Measurement, MerchAction, Merchandising, Messaging, Offer, PageRule, Placement, QuietHours, Rules,
    SegmentRule, Source, Step, Store, Trigger, UniqueCode, Variant,
};
use crate::text::int_text;
use crate::time::{ClockTime, Secs};
use crate::value::{Map, Value};

/// How deep [`Value`]s may nest: deeper input is refused rather than overflowing the stack.
const MAX_DEPTH: u32 = 64;

/// A value with a binary form in the bundle.
pub trait Wire: Sized {
    fn put(&self, out: &mut Vec<u8>);
    /// Reads one value. On bad input it returns a stand-in (zero, empty) and the reader
    /// remembers the first error; [`from_slice`] reports it. (No `Result` per field: the error
    /// paths of every field of every type were most of the decoder's size in the browser.)
    fn take(r: &mut Reader<'_>) -> Self;
}

/// Where decoding stopped and what it expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// Byte offset in the decoded input.
    pub offset: usize,
    pub expected: &'static str,
}

impl WireError {
    /// What `Display` writes, without `core::fmt` (the browser SDK's download: BENCHMARKS.md).
    pub fn text(&self) -> String {
        ["at byte ", &int_text(self.offset as i64), " of the body: expected ", self.expected].concat()
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// Encodes `value` alone.
pub fn to_vec<T: Wire>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.put(&mut out);
    out
}

/// Decodes one `T` that must span all of `bytes` (a copy of them, which in-place parts share).
#[cfg(test)]
pub fn from_slice<T: Wire>(bytes: &[u8]) -> Result<T, WireError> {
    from_shared(&Arc::new(bytes.to_vec()), 0)
}

/// Decodes one `T` that must span `bytes[start..]`; in-place parts ([`Blob`]s) keep ranges of
/// `bytes` instead of copies.
pub fn from_shared<T: Wire>(bytes: &Arc<Vec<u8>>, start: usize) -> Result<T, WireError> {
    let body = bytes.get(start..).unwrap_or(&[]);
    finish(Reader { bytes: body, pos: 0, depth: 0, error: None, shared: Some((bytes, start)) })
}

fn finish<T: Wire>(mut r: Reader<'_>) -> Result<T, WireError> {
    let bytes = r.bytes;
    let value = T::take(&mut r);
    if r.error.is_none() && r.pos != bytes.len() {
        r.fail(r.pos, "the end of the body (found trailing bytes)");
    }
    match r.error {
        None => Ok(value),
        Some(e) => Err(e),
    }
}

/// The decoding cursor. After the first error every read fails at once (the cursor jumps to
/// the end), so a damaged body costs no more than its length to refuse.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    error: Option<WireError>,
    /// The buffer `bytes` lies in and where: in-place parts share it.
    shared: Option<(&'a Arc<Vec<u8>>, usize)>,
}

impl<'a> Reader<'a> {
    /// A reader of a few fields within in-place bytes (a catalog record).
    pub(crate) fn over(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0, depth: 0, error: None, shared: None }
    }

    /// A string, borrowed where it lies ("" once anything failed).
    pub(crate) fn str(&mut self) -> &'a str {
        let bytes = self.str_bytes();
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => {
                self.fail(self.pos - bytes.len(), "a UTF-8 string");
                ""
            }
        }
    }

    /// A string's bytes, not checked as UTF-8 (for comparing: bytes order as their text does).
    pub(crate) fn str_bytes(&mut self) -> &'a [u8] {
        let n = self.len("a string's length");
        self.bytes(n, "a string")
    }

    fn fail(&mut self, offset: usize, expected: &'static str) {
        if self.error.is_none() {
            self.error = Some(WireError { offset, expected });
        }
        self.pos = self.bytes.len();
    }

    fn bytes(&mut self, n: usize, expected: &'static str) -> &'a [u8] {
        match self.pos.checked_add(n).filter(|&end| end <= self.bytes.len()) {
            Some(end) => {
                let slice = &self.bytes[self.pos..end];
                self.pos = end;
                slice
            }
            None => {
                self.fail(self.pos, expected);
                &[]
            }
        }
    }

    fn byte(&mut self, expected: &'static str) -> u8 {
        self.bytes(1, expected).first().copied().unwrap_or(0)
    }

    fn varint(&mut self, expected: &'static str) -> u64 {
        let start = self.pos;
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.bytes.get(self.pos) else { break };
            self.pos += 1;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                break; // more than 64 bits
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return value;
            }
        }
        self.fail(start, expected);
        0
    }

    /// A list's or string's length: never more than the bytes left, so a hostile length
    /// cannot make us reserve memory the input does not back.
    pub(crate) fn len(&mut self, expected: &'static str) -> usize {
        let start = self.pos;
        let n = self.varint(expected);
        if n > (self.bytes.len() - self.pos) as u64 {
            self.fail(start, expected);
            return 0;
        }
        n as usize
    }
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

macro_rules! wire_unsigned {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, out: &mut Vec<u8>) {
                put_varint(out, u64::from(*self));
            }
            fn take(r: &mut Reader<'_>) -> Self {
                let start = r.pos;
                let v = r.varint(stringify!($t));
                <$t>::try_from(v).unwrap_or_else(|_| {
                    r.fail(start, stringify!($t));
                    0
                })
            }
        }
    )*};
}
wire_unsigned!(u16, u32, u64);

macro_rules! wire_signed {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, out: &mut Vec<u8>) {
                let v = i64::from(*self);
                put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
            }
            fn take(r: &mut Reader<'_>) -> Self {
                let start = r.pos;
                let z = r.varint(stringify!($t));
                let v = (z >> 1) as i64 ^ -((z & 1) as i64);
                <$t>::try_from(v).unwrap_or_else(|_| {
                    r.fail(start, stringify!($t));
                    0
                })
            }
        }
    )*};
}
wire_signed!(i32, i64);

impl Wire for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let start = r.pos;
        match r.byte("a bool") {
            0 => false,
            1 => true,
            _ => {
                r.fail(start, "a bool (0 or 1)");
                false
            }
        }
    }
}

impl Wire for f32 {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let mut a = [0u8; 4];
        if let Some(b) = r.bytes(4, "an f32").get(..4) {
            a.copy_from_slice(b);
        }
        f32::from_le_bytes(a)
    }
}

impl Wire for f64 {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let mut a = [0u8; 8];
        if let Some(b) = r.bytes(8, "an f64").get(..8) {
            a.copy_from_slice(b);
        }
        f64::from_le_bytes(a)
    }
}

impl Wire for String {
    fn put(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        out.extend_from_slice(self.as_bytes());
    }
    fn take(r: &mut Reader<'_>) -> Self {
        String::from(r.str())
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        self.iter().for_each(|item| item.put(out));
    }
    fn take(r: &mut Reader<'_>) -> Self {
        // `len` is at most the bytes left, but an item in memory can be far larger than its
        // encoding, and nested lists would each reserve the same bytes again: nothing is
        // reserved on a claim, the list grows with what is read.
        let n = r.len("a list's length");
        let mut items = Vec::new();
        for _ in 0..n {
            if r.error.is_some() {
                break;
            }
            items.push(T::take(r));
        }
        items
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.put(out);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Self {
        bool::take(r).then(|| T::take(r))
    }
}

/// A boxed value: the value.
impl<T: Wire> Wire for Box<T> {
    fn put(&self, out: &mut Vec<u8>) {
        (**self).put(out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        Box::new(T::take(r))
    }
}

/// A fixed-size array: its items, no length (the type says it).
impl<T: Wire + Default + Copy, const N: usize> Wire for [T; N] {
    fn put(&self, out: &mut Vec<u8>) {
        self.iter().for_each(|item| item.put(out));
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let mut items = [T::default(); N];
        for item in &mut items {
            *item = T::take(r);
        }
        items
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let a = A::take(r);
        (a, B::take(r))
    }
}

/// A map as its entries in key order (a later duplicate key wins, as in a TOML table).
impl<V: Wire> Wire for Map<V> {
    fn put(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        for (k, v) in self {
            k.put(out);
            v.put(out);
        }
    }
    fn take(r: &mut Reader<'_>) -> Self {
        Vec::<(String, V)>::take(r).into_iter().collect()
    }
}

impl Wire for Value {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0),
            Value::Bool(b) => {
                out.push(1);
                b.put(out);
            }
            Value::Number(n) => {
                out.push(2);
                n.put(out);
            }
            Value::String(s) => {
                out.push(3);
                s.put(out);
            }
            Value::Array(items) => {
                out.push(4);
                items.put(out);
            }
            Value::Object(map) => {
                out.push(5);
                map.put(out);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Self {
        if r.depth >= MAX_DEPTH {
            r.fail(r.pos, "a value nested at most 64 deep");
            return Value::Null;
        }
        r.depth += 1;
        let start = r.pos;
        let value = match r.byte("a value's tag") {
            0 => Value::Null,
            1 => Value::Bool(bool::take(r)),
            2 => Value::Number(f64::take(r)),
            3 => Value::String(String::take(r)),
            4 => Value::Array(Vec::take(r)),
            5 => Value::Object(Map::take(r)),
            _ => {
                r.fail(start, "a value's tag (0 to 5)");
                Value::Null
            }
        };
        r.depth -= 1;
        value
    }
}

/// In-place bytes: a varint length, then the bytes, kept where they lie (shared with the bundle).
impl Wire for Blob {
    fn put(&self, out: &mut Vec<u8>) {
        put_varint(out, self.as_slice().len() as u64);
        out.extend_from_slice(self.as_slice());
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let n = r.len("an in-place table's length");
        let start = r.pos;
        r.bytes(n, "an in-place table");
        match r.shared {
            Some((buffer, base)) if r.error.is_none() => Blob::shared(buffer, base + start, base + start + n),
            _ => Blob::default(),
        }
    }
}

impl Reader<'_> {
    /// A [`Blob`] of whole rows of `row` bytes (checked once here; what rows hold, at use).
    fn rows(&mut self, row: usize, expected: &'static str) -> Blob {
        let start = self.pos;
        let blob = Blob::take(self);
        if blob.as_slice().len() % row != 0 {
            self.fail(start, expected);
        }
        blob
    }
}

impl Wire for Catalog {
    fn put(&self, out: &mut Vec<u8>) {
        self.rows.put(out);
        self.heap.put(out);
        self.categories.put(out);
        self.category_slugs.put(out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let rows = r.rows(ROW_LEN, "catalog rows (12 bytes each)");
        let heap = Blob::take(r);
        Catalog { rows, heap, categories: Wire::take(r), category_slugs: Wire::take(r) }
    }
}

impl Wire for Neighbors {
    fn put(&self, out: &mut Vec<u8>) {
        self.offsets.put(out);
        self.items.put(out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let offsets = r.rows(4, "neighbour offsets (4 bytes each)");
        Neighbors { offsets, items: r.rows(8, "neighbours (8 bytes each)") }
    }
}

/// The tables: as listed, but the v8 tables (learned, browsing, brands, new arrivals) are
/// server-only parts: the browser's build steps over them without their decoders and leaves
/// what needs them to the edge.
impl Wire for RecTables {
    fn put(&self, out: &mut Vec<u8>) {
        let RecTables {
            bought_together,
            similar,
            trending,
            popular,
            popular_by_country,
            popular_by_category,
            popular_by_segment,
            reorder_days,
            decided,
            learned,
            viewed_together,
            bought_after_viewing,
            popular_by_brand,
            new_arrivals,
        } = self;
        bought_together.put(out);
        similar.put(out);
        trending.put(out);
        popular.put(out);
        popular_by_country.put(out);
        popular_by_category.put(out);
        popular_by_segment.put(out);
        reorder_days.put(out);
        decided.put(out);
        put_server_only(learned, out);
        put_server_only(viewed_together, out);
        put_server_only(bought_after_viewing, out);
        put_server_only(popular_by_brand, out);
        put_server_only(new_arrivals, out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        RecTables {
            bought_together: Wire::take(r),
            similar: Wire::take(r),
            trending: Wire::take(r),
            popular: Wire::take(r),
            popular_by_country: Wire::take(r),
            popular_by_category: Wire::take(r),
            popular_by_segment: Wire::take(r),
            reorder_days: Wire::take(r),
            decided: Wire::take(r),
            learned: take_server_only(r),
            viewed_together: take_server_only(r),
            bought_after_viewing: take_server_only(r),
            popular_by_brand: take_server_only(r),
            new_arrivals: take_server_only(r),
        }
    }
}

/// The rules: as listed, but the parts only servers read (journeys and messaging) are written
/// with their byte length first, so the browser's decoder (feature `compact`) steps over them
/// without linking their decoders (BENCHMARKS.md, Browser SDK).
impl Wire for Rules {
    fn put(&self, out: &mut Vec<u8>) {
        let Rules { pages, segments, saved_groups, placements, offers, experiments, journeys, messaging, measurement, unique_codes, merchandising } = self;
        pages.put(out);
        segments.put(out);
        saved_groups.put(out);
        placements.put(out);
        offers.put(out);
        experiments.put(out);
        put_server_only(journeys, out);
        put_server_only(messaging, out);
        measurement.put(out);
        unique_codes.put(out);
        put_server_only(merchandising, out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        Rules {
            pages: Wire::take(r),
            segments: Wire::take(r),
            saved_groups: Wire::take(r),
            placements: Wire::take(r),
            offers: Wire::take(r),
            experiments: Wire::take(r),
            journeys: take_server_only(r),
            messaging: take_server_only(r),
            measurement: Wire::take(r),
            unique_codes: Wire::take(r),
            merchandising: take_server_only(r),
        }
    }
}

/// The stats: the data's last order, then everything else as one server-only part (counts,
/// first order, segment sizes, the customer model): the browser reads only `data_end`
/// (`Engine::data_time`) and steps over the rest.
impl Wire for Stats {
    fn put(&self, out: &mut Vec<u8>) {
        let Stats { orders, order_lines, customers, countries, data_start, data_end, segments, customer_model } = self.clone();
        data_end.put(out);
        put_server_only(&ServerStats { orders, order_lines, customers, countries, data_start, segments, customer_model }, out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let data_end = Wire::take(r);
        let ServerStats { orders, order_lines, customers, countries, data_start, segments, customer_model } = take_server_only(r);
        Stats { orders, order_lines, customers, countries, data_start, data_end, segments, customer_model }
    }
}

/// The customer model: as listed, and refused unless every number is finite (a model the edge
/// would score customers with, and compare, must be one).
impl Wire for CustomerModel {
    fn put(&self, out: &mut Vec<u8>) {
        let CustomerModel { recency_edges, frequency_edges, monetary_edges, bgnbd, gamma_gamma, predict, bgnbd_fit, gamma_gamma_fit } = self;
        recency_edges.put(out);
        frequency_edges.put(out);
        monetary_edges.put(out);
        bgnbd.put(out);
        gamma_gamma.put(out);
        predict.put(out);
        bgnbd_fit.put(out);
        gamma_gamma_fit.put(out);
    }
    fn take(r: &mut Reader<'_>) -> Self {
        let start = r.pos;
        let m = CustomerModel {
            recency_edges: Wire::take(r),
            frequency_edges: Wire::take(r),
            monetary_edges: Wire::take(r),
            bgnbd: Wire::take(r),
            gamma_gamma: Wire::take(r),
            predict: Wire::take(r),
            bgnbd_fit: Wire::take(r),
            gamma_gamma_fit: Wire::take(r),
        };
        if r.error.is_none() && !m.is_finite() {
            r.fail(start, "a customer model of finite numbers");
        }
        m
    }
}

/// What the stats keep for servers only.
#[derive(Default)]
struct ServerStats {
    orders: u64,
    order_lines: u64,
    customers: u64,
    countries: u32,
    data_start: i64,
    segments: Vec<SegmentSize>,
    customer_model: Option<Box<CustomerModel>>,
}

fn put_server_only<T: Wire>(v: &T, out: &mut Vec<u8>) {
    let inner = to_vec(v);
    put_varint(out, inner.len() as u64);
    out.extend_from_slice(&inner);
}

/// A length-prefixed part: decoded on servers, stepped over in the browser (left default).
fn take_server_only<T: Wire + Default>(r: &mut Reader<'_>) -> T {
    if cfg!(feature = "compact") {
        skip_server_only(r);
        return T::default();
    }
    let n = r.len("a server-only part's length");
    let start = r.pos;
    let bytes = r.bytes(n, "a server-only part");
    // The part's own reader keeps the bundle's bytes shared: its tables are read in place too.
    let mut inner = Reader { bytes, pos: 0, depth: r.depth, error: None, shared: r.shared.map(|(buffer, base)| (buffer, base + start)) };
    let v = T::take(&mut inner);
    match inner.error {
        Some(e) => r.fail(start + e.offset, e.expected),
        None if inner.pos != bytes.len() => r.fail(start + inner.pos, "the end of a server-only part"),
        None => {}
    }
    v
}

/// The browser's step over a server-only part: one copy of the code for every part.
#[inline(never)]
fn skip_server_only(r: &mut Reader<'_>) {
    let n = r.len("a server-only part's length");
    r.bytes(n, "a server-only part");
}

/// Structs: their fields, in the order listed (a field left out is a compile error in `take`).
macro_rules! wire_struct {
    ($($ty:ident { $($field:ident),* $(,)? })*) => {$(
        impl Wire for $ty {
            fn put(&self, out: &mut Vec<u8>) {
                $( self.$field.put(out); )*
            }
            fn take(r: &mut Reader<'_>) -> Self {
                $ty { $( $field: Wire::take(r), )* }
            }
        }
    )*};
}

/// Enums without data: the variant's index, in the order listed (all must be listed).
macro_rules! wire_enum {
    ($($ty:ident { $($variant:ident),* $(,)? })*) => {$(
        impl Wire for $ty {
            fn put(&self, out: &mut Vec<u8>) {
                const ALL: &[$ty] = &[$($ty::$variant),*];
                // Exhaustive: a variant missing from the list is a compile error here.
                match self { $($ty::$variant)|* => {} }
                out.push(ALL.iter().position(|v| v == self).unwrap_or(0) as u8);
            }
            fn take(r: &mut Reader<'_>) -> Self {
                const ALL: &[$ty] = &[$($ty::$variant),*];
                let start = r.pos;
                let i = r.byte(stringify!($ty));
                ALL.get(usize::from(i)).copied().unwrap_or_else(|| {
                    r.fail(start, stringify!($ty));
                    ALL[0]
                })
            }
        }
    )*};
}

/// Newtypes: the inner value.
macro_rules! wire_newtype {
    ($($ty:ident),*) => {$(
        impl Wire for $ty {
            fn put(&self, out: &mut Vec<u8>) {
                self.0.put(out);
            }
            fn take(r: &mut Reader<'_>) -> Self {
                $ty(Wire::take(r))
            }
        }
    )*};
}

/// Format v9, the previous version: the stats were plain fields, in their order, with no
/// customer model (what the edge scores a customer's new order with); the rest is as today. Read by hosts with the `previous-format`
/// feature.
#[cfg(feature = "previous-format")]
pub(crate) mod v9 {
    use super::{Reader, Wire};
    use crate::body::{BundleBody as Current, Catalog, RecTables, Stats as CurrentStats};
    use crate::rules::{Rules, Store};
    use alloc::vec::Vec;

    pub struct BundleBody {
        store: Store,
        catalog: Catalog,
        stats: Stats,
        recs: RecTables,
        rules: Rules,
    }

    /// Today's stats without the customer model.
    struct Stats(CurrentStats);

    impl Wire for Stats {
        fn put(&self, _: &mut Vec<u8>) {
            unreachable!("format v9 is only read")
        }
        fn take(r: &mut Reader<'_>) -> Self {
            let (orders, order_lines, customers, countries, data_start, data_end, segments) =
                (Wire::take(r), Wire::take(r), Wire::take(r), Wire::take(r), Wire::take(r), Wire::take(r), Wire::take(r));
            Stats(CurrentStats { orders, order_lines, customers, countries, data_start, data_end, segments, customer_model: None })
        }
    }

    wire_struct! {
        BundleBody { store, catalog, stats, recs, rules }
    }

    impl From<BundleBody> for Current {
        fn from(b: BundleBody) -> Current {
            Current { store: b.store, catalog: b.catalog, stats: b.stats.0, recs: b.recs, rules: b.rules }
        }
    }
}

// The layout of `BundleBody`, type by type.
wire_struct! {
    BundleBody { store, catalog, stats, recs, rules }
    Store { name, currency, currency_symbol, base_url, free_shipping_threshold }
    ServerStats { orders, order_lines, customers, countries, data_start, segments, customer_model }
    FitDiagnostics { log_likelihood, customers, iterations, converged }
    BgNbd { r, alpha, a, b }
    GammaGamma { p, q, v }
    PredictConfig { clv_horizon_days, monthly_discount, churn_high_below, churn_medium_below }
    SegmentSize { name, customers }
    Scored { item, score }
    Keyed { key, items }
    UniqueCode { offer, prefix, valid_days }
    Merchandising { id, action, skus, category, brand, tag, factor, position, placements, when }
    PageRule { pattern, page }
    SegmentRule { name, when }
    Placement {
        id, when, title, sources, max_items, max_price, variants, template, item_template,
        exclude_owned,
    }
    Source { recommender, weight }
    Variant { name, when, html }
    Offer { id, scenario, when, kind, value, code, headline, body, cta_text, cta_url, capture }
    Experiment { key, placement, offer, journey, seed, hash_attribute, coverage, weights, arms }
    Arm { name, sources, variant, offer, holdout, send }
    Measurement { holdout, holdout_journeys, seed }
    Journey { id, trigger, reentry, max_per_day, gap_factor, steps, when, min_drop_percent, late_days }
    Step { after, channel, subject, body, html, offer, products, landing, at, template, variables, only_if, when }
    QuietHours { start, end }
    Messaging {
        max_per_day, quiet_hours, default_time_zone, default_utc_offset_minutes, landing_path, unsubscribe_path,
        link_ttl, fallback_first_name,
    }
}
wire_enum! {
    Trigger { CartAbandonment, BrowseAbandonment, PostPurchase, Welcome, WinBack, BackInStock, PriceDrop, PredictedChurn }
    Engagement { NotOpened, NotClicked, NotPurchased }
    Capture { None, Email, EmailAndSms }
    MerchAction { Pin, Boost, Bury, Exclude }
    // New variants go last: a tag, once written, means the same channel in every bundle.
    Channel { Email, Sms, Push, Webhook, Whatsapp }
}
wire_newtype!(Secs, ClockTime);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn round_trip<T: Wire + PartialEq + fmt::Debug>(v: T) {
        let bytes = to_vec(&v);
        assert_eq!(from_slice::<T>(&bytes).unwrap(), v);
    }

    #[test]
    fn integers_round_trip_at_their_limits() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            round_trip(v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -1_700_000_000] {
            round_trip(v);
        }
        round_trip(i32::MIN);
        round_trip(u16::MAX);
        assert_eq!(to_vec(&300u32), vec![0xac, 0x02]);
        assert_eq!(to_vec(&-1i64), vec![0x01]);
    }

    #[test]
    fn values_round_trip() {
        let mut map = Map::new();
        map.insert("a".into(), Value::Array(vec![Value::Null, Value::Bool(true), Value::Number(-2.5)]));
        map.insert("é".into(), Value::String("ü".into()));
        round_trip(Value::Object(map));
        round_trip(Some(Trigger::WinBack));
        round_trip((7u32, 0.25f32));
    }

    #[test]
    fn refusals_name_the_offset_and_what_was_expected() {
        // A list claiming more items than there are bytes: refused before reserving memory.
        let err = from_slice::<Vec<u32>>(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1]).unwrap_err();
        assert_eq!(err, WireError { offset: 0, expected: "a list's length" });
        assert_eq!(err.to_string(), "at byte 0 of the body: expected a list's length");
        assert_eq!(from_slice::<bool>(&[2]).unwrap_err(), WireError { offset: 0, expected: "a bool (0 or 1)" });
        assert_eq!(from_slice::<u16>(&[0x80, 0x80, 0x04]).unwrap_err().expected, "u16");
        assert_eq!(from_slice::<String>(&[2, 0xc3, 0x28]).unwrap_err(), WireError { offset: 1, expected: "a UTF-8 string" });
        assert_eq!(from_slice::<Channel>(&[5]).unwrap_err().expected, "Channel");
        assert_eq!(from_slice::<u32>(&[5, 0]).unwrap_err().offset, 1);
        // Eleven continuation bytes: more than 64 bits.
        assert!(from_slice::<u64>(&[0xff; 11]).is_err());
    }

    #[test]
    fn a_claimed_length_reserves_no_memory_the_input_does_not_back() {
        // Found by fuzzing (fuzz/, target `bundle`): a list claiming as many placements as
        // there are bytes left reserved that many placements, over 100 times the input (and
        // nested lists reserved the same bytes again at each level). An item in memory is far
        // larger than its encoding, so the claim alone reserves nothing beyond a small start.
        let mut bytes = vec![0xff, 0x05]; // 767 items, then bytes that make none
        bytes.resize(2 + 767, 0xff);
        let mut r = Reader::over(&bytes);
        let placements = Vec::<Placement>::take(&mut r);
        assert!(r.error.is_some());
        let reserved = placements.capacity() * core::mem::size_of::<Placement>();
        assert!(reserved <= 8 * bytes.len(), "{reserved} bytes reserved for {} bytes of input", bytes.len());

        // Arrays of arrays, each claiming all the bytes left: refused, having reserved little.
        let nested: Vec<u8> = (0..64).flat_map(|_| [4, 0x80, 0x01]).collect(); // 128 items each
        let mut r = Reader::over(&nested);
        let Value::Array(outer) = Value::take(&mut r) else { panic!("an array") };
        assert!(r.error.is_some());
        assert!(outer.capacity() * core::mem::size_of::<Value>() <= 8 * nested.len(), "capacity {}", outer.capacity());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = [4u8, 1].repeat(100_000); // arrays of one array, 100k deep
        let err = from_slice::<Value>(&deep).unwrap_err();
        assert_eq!(err.expected, "a value nested at most 64 deep");
        assert_eq!(err.offset, 128);
    }
}
