//! Small bridges between JavaScript values and the engine's types, built on `Reflect` so no
//! serde glue ships in the wasm.

use alloc::string::String;

use js_sys::{Array, Object, Reflect};
use vitrine_engine::is_whole;
use vitrine_engine::Value;
use vitrine_engine::{Decision, Explain, OfferDecision};
use wasm_bindgen::{JsCast, JsValue};

/// Deepest nesting converted from a page's objects (traits): deeper parts become null.
const MAX_DEPTH: u32 = 8;

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A string property, also accepting numbers (product ids are often numeric).
pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    let v = get(obj, key);
    if let Some(s) = v.as_string() {
        return Some(s).filter(|s| !s.is_empty());
    }
    let n = v.as_f64().filter(|n| n.is_finite())?;
    if is_whole(n) && n.abs() < 1e15 {
        let mut out = String::new();
        crate::json::push_int(&mut out, n as i64);
        Some(out)
    } else {
        js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string())
    }
}

pub fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64().filter(|n| n.is_finite())
}

pub fn get_bool(obj: &JsValue, key: &str) -> Option<bool> {
    get(obj, key).as_bool()
}

pub fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// A JavaScript value (from `identify`, a token payload) as an engine [`Value`].
pub fn to_value(v: &JsValue) -> Value {
    to_value_at(v, 0)
}

fn to_value_at(v: &JsValue, depth: u32) -> Value {
    if depth > MAX_DEPTH || v.is_null() || v.is_undefined() {
        Value::Null
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        if n.is_finite() {
            Value::Number(n)
        } else {
            Value::Null
        }
    } else if let Some(s) = v.as_string() {
        Value::String(s)
    } else if Array::is_array(v) {
        Value::Array(Array::from(v).iter().map(|x| to_value_at(&x, depth + 1)).collect())
    } else if let Some(o) = v.dyn_ref::<Object>() {
        let mut out = Value::object();
        for entry in Object::entries(o).iter() {
            let pair = Array::from(&entry);
            if let Some(key) = pair.get(0).as_string() {
                out.set(&key, to_value_at(&pair.get(1), depth + 1));
            }
        }
        out
    } else {
        Value::Null
    }
}

/// `JSON.stringify(v)` for an event's properties; `{}` for anything that is not an object.
pub fn stringify_object(v: &JsValue) -> String {
    if !v.is_object() || Array::is_array(v) {
        return "{}".into();
    }
    js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "{}".into())
}

/// An engine [`Value`] as a JavaScript value.
pub fn from_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(*n),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(from_value).collect::<Array>().into(),
        Value::Object(map) => {
            let o = Object::new();
            map.iter().for_each(|(k, v)| set(&o, k, from_value(v)));
            o.into()
        }
    }
}

/// `JSON.stringify(v)`, or `null` for what has no JSON form.
pub fn stringify(v: &JsValue) -> String {
    js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "null".into())
}

/// Parses JSON with the browser's parser.
pub fn parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

fn explain_js(e: &Explain) -> Object {
    let o = Object::new();
    set(&o, "rule", e.rule.as_str());
    set(&o, "segment", e.segment.as_str());
    set(&o, "segments", e.segments.iter().map(|s| JsValue::from_str(s)).collect::<Array>());
    let experiment = e.experiment.as_ref().map_or(JsValue::NULL, |x| {
        let a = Object::new();
        set(&a, "key", x.key.as_str());
        set(&a, "arm", x.arm.as_str());
        a.into()
    });
    set(&o, "experiment", experiment);
    let sources: Array = e
        .sources
        .iter()
        .map(|s| {
            let a = Object::new();
            set(&a, "recommender", s.recommender);
            set(&a, "weight", s.weight);
            set(&a, "candidates", s.candidates);
            JsValue::from(a)
        })
        .collect();
    set(&o, "sources", sources);
    // Empty: the engine leaves it to the edge in the browser (`merchandise::apply`, budget).
    set(&o, "merchandising", Array::new());
    o
}

/// A decision as the plain object `vitrine.decide` resolves to: the engine's JSON shape
/// (`Decision::FIELDS`, as `/v1/decide` answers; vitrine.d.ts declares it), checked by
/// browser-sdk/tests/browser.rs.
pub fn decision_js(d: &Decision) -> JsValue {
    let o = Object::new();
    set(&o, "placement", d.placement.as_str());
    set(&o, "status", d.status.as_str());
    set(&o, "title", d.title.as_str());
    set(&o, "variant", d.variant.as_deref().map_or(JsValue::NULL, JsValue::from_str));
    let items: Array = d
        .items
        .iter()
        .map(|it| {
            let i = Object::new();
            set(&i, "sku", it.sku.as_str());
            set(&i, "title", it.title.as_str());
            set(&i, "url", it.url.as_str());
            set(&i, "image", it.image.as_str());
            set(&i, "price", it.price);
            set(&i, "source", it.source);
            set(&i, "score", it.score);
            JsValue::from(i)
        })
        .collect();
    set(&o, "items", items);
    set(&o, "html", d.html.as_str());
    set(&o, "explain", explain_js(&d.explain));
    o.into()
}

/// An offer as the plain object `vitrine.on('offer')` listeners receive: the engine's JSON
/// shape (`OfferDecision::FIELDS`, as `/v1/exit-offer` answers) plus the `trigger` that showed it.
pub fn offer_js(offer: &OfferDecision, trigger: &str) -> JsValue {
    let o = Object::new();
    for (k, v) in offer.text_fields() {
        set(&o, k, v);
    }
    set(&o, "value", offer.value);
    set(&o, "trigger", trigger);
    set(&o, "explain", explain_js(&offer.explain));
    o.into()
}

/// `[[key, value], …]` of a string map as an object.
pub fn object_of(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    pairs.iter().for_each(|(k, v)| set(&o, k, v.clone()));
    o.into()
}
