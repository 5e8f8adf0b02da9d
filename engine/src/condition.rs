//! GrowthBook's condition language (MongoDB-style targeting rules), compiled once, evaluated
//! per request.
//!
//! A condition is an object whose keys are attribute paths (`"cart.value"`) or the logical
//! operators `$and`, `$or`, `$nor`, `$not`; an attribute's value is a literal to compare with
//! or an operator object (`{"$gt": 3, "$lt": 10}`). The semantics are those of GrowthBook's
//! JavaScript SDK, which every GrowthBook SDK and the cases in
//! `engine/tests/conformance/growthbook/` follow, down to JavaScript's coercions: a missing
//! attribute is `null`, `{"n": {"$gt": 5}}` compares `"8"` as a number, `{"n": "10"}` matches
//! the number 10, and `null` compares as 0.
//!
//! Where Vitrine is stricter: a condition GrowthBook would silently evaluate to false because
//! it is malformed (an unknown operator, `$in` with a non-array, `$and` with a non-array, ...)
//! is refused by [`Condition::compile`] with a [`ConditionError`] naming where it is. An invalid
//! `$regex` compiles, as in GrowthBook, to a test that never matches, and is listed in
//! [`Condition::warnings`] so that tooling can report it.
//!
//! Known differences from the JavaScript SDK:
//! - Objects compare equal regardless of key order (JS compares `JSON.stringify` output, which
//!   keeps insertion order; [`Value`] objects are sorted maps).
//! - `$regex` natively and at the edge uses `regex-lite`: no lookaround or backreferences (such
//!   patterns never match and are warned about), and `\d`, `\s`, `\w` and `$regexi`'s case
//!   folding are ASCII-only. In the browser it is the page's own `RegExp` (see `host`).
//! - A path part reads an object key or an array index; JS would also read an array's
//!   `length` (use `$size`).

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

use crate::host::{js_lowercase, js_number_string, parse_js_number, Pattern};

use crate::text::int_text;
use crate::value::{Map, Value};

/// Conditions nesting deeper than this are refused: evaluation recurses, and no real rule
/// comes close.
const MAX_DEPTH: usize = 64;

/// The type names `$type` accepts (GrowthBook's; `undefined` never matches a JSON value).
const TYPES: [&str; 7] = ["string", "number", "boolean", "object", "array", "null", "undefined"];

/// A condition that does not compile: `path` names the bad part (`$and[1].age`), empty for
/// the condition itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionError {
    pub path: String,
    pub message: String,
}

impl ConditionError {
    /// What `Display` writes, without `core::fmt` (the browser SDK's download: BENCHMARKS.md).
    pub fn text(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            [&self.path, ": ", &self.message].concat()
        }
    }
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl core::error::Error for ConditionError {}

/// A compiled GrowthBook condition.
#[derive(Clone, Debug)]
pub struct Condition {
    root: Cond,
    warnings: Vec<ConditionError>,
}

impl Condition {
    /// Compiles a condition object. Refuses malformed conditions (see the module docs).
    pub fn compile(cond: &Value) -> Result<Condition, ConditionError> {
        let mut c = Compiler { warnings: Vec::new() };
        let root = c.cond(cond, &Loc::Root, 0)?;
        Ok(Condition { root, warnings: c.warnings })
    }

    /// Whether `attributes` satisfy the condition. `saved_groups` maps a group name to its
    /// members, for `$inGroup` / `$notInGroup` (an unknown group has no members).
    pub fn eval(&self, attributes: &Value, saved_groups: &Groups) -> bool {
        self.root.eval(attributes, saved_groups)
    }

    /// Parts that compiled but can never match (invalid regexes), with their paths.
    pub fn warnings(&self) -> &[ConditionError] {
        &self.warnings
    }
}

/// Saved groups by name (`$inGroup`).
pub type Groups = Map<Vec<Value>>;

// ---------------------------------------------------------------------------------------------
// Compiled form

/// A condition object: every clause must hold, so `{}` always holds.
#[derive(Clone, Debug)]
struct Cond(Vec<Clause>);

#[derive(Clone, Debug)]
enum Clause {
    /// At least one holds; an empty list holds.
    Or(Vec<Cond>),
    /// None holds. GrowthBook negates `$or`, so an empty `$nor` fails.
    Nor(Vec<Cond>),
    And(Vec<Cond>),
    Not(Cond),
    /// The attribute at a dotted path (null when missing) passes the test.
    Attr(Box<str>, Test),
}

/// What one value is tested against (GrowthBook's `evalConditionValue`).
#[derive(Clone, Debug)]
enum Test {
    /// A string literal: the value converted to a string (JS `value + ""`) equals it.
    Str(String),
    /// A string literal inside `$alli`: the same, case-insensitively (holds the lower case).
    StrFold(String),
    /// A number literal: the value converted to a number (JS `value * 1`) equals it.
    Num(f64),
    /// A boolean literal: the value is not null and its truthiness equals it.
    Bool(bool),
    /// `null`: the value is null or missing.
    Null,
    /// An array or a non-operator object: equal as JSON.
    Json(Value),
    /// An operator object: every operator holds.
    Ops(Vec<Op>),
}

#[derive(Clone, Debug)]
enum Op {
    /// `$eq` (false) / `$ne` (true): JS strict equality, under which arrays and objects are
    /// never equal to anything.
    Eq(Value, bool),
    /// `$lt` `$lte` `$gt` `$gte`: JS relational comparison.
    Cmp(Rel, Value),
    Exists(bool),
    /// `$in` / `$nin` (negated); `fold` for `$ini` / `$nini`, whose strings are lower-cased.
    In {
        list: Vec<Value>,
        negate: bool,
        fold: bool,
    },
    /// `$inGroup` / `$notInGroup` (negated).
    Group {
        name: String,
        negate: bool,
    },
    Not(Box<Test>),
    /// The value is an array whose length passes the test.
    Size(Box<Test>),
    /// The value is an array with a truthy element that passes.
    ElemMatch(Box<ElemTest>),
    /// `$all` / `$alli`: the value is an array and each test is passed by one of its elements.
    All(Vec<Test>),
    /// `None`: an invalid pattern, which never matches.
    Regex(Option<Pattern>),
    Type(&'static str),
    /// `$veq` ... `$vlte`, against the operand's padded version string.
    Version(Rel, String),
}

/// `$elemMatch`'s operand: an operator object tests each element as a value, any other object
/// as a condition on the element's fields.
#[derive(Clone, Debug)]
enum ElemTest {
    Value(Test),
    Cond(Cond),
}

#[derive(Clone, Copy, Debug)]
enum Rel {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Rel {
    /// `None` is JS's "undefined" comparison (a NaN operand): only `Ne` holds.
    fn holds(self, ord: Option<Ordering>) -> bool {
        use Ordering::*;
        match self {
            Rel::Eq => ord == Some(Equal),
            Rel::Ne => ord != Some(Equal),
            Rel::Lt => ord == Some(Less),
            Rel::Lte => matches!(ord, Some(Less | Equal)),
            Rel::Gt => ord == Some(Greater),
            Rel::Gte => matches!(ord, Some(Greater | Equal)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling

/// Where in the condition the compiler is, rendered only for errors: `$and[1].age.$in`.
enum Loc<'a> {
    Root,
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

impl Loc<'_> {
    /// `$and[1].age`: the path, appended to `out` (no `core::fmt`: the browser SDK's download).
    fn push_path(&self, out: &mut String) {
        match self {
            Loc::Root => {}
            Loc::Key(Loc::Root, k) => out.push_str(k),
            Loc::Key(parent, k) => {
                parent.push_path(out);
                out.push('.');
                out.push_str(k);
            }
            Loc::Index(parent, i) => {
                parent.push_path(out);
                out.push('[');
                out.push_str(&int_text(*i as i64));
                out.push(']');
            }
        }
    }

    fn err(&self, message: impl Into<String>) -> ConditionError {
        let mut path = String::new();
        self.push_path(&mut path);
        ConditionError { path, message: message.into() }
    }
}

/// "a number", "an array", ... for error messages.
fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// GrowthBook treats an object as operators when it has keys and all start with `$`;
/// otherwise it is a literal to compare with.
fn is_operator_object(map: &Map) -> bool {
    !map.is_empty() && map.keys().all(|k| k.starts_with('$'))
}

struct Compiler {
    warnings: Vec<ConditionError>,
}

impl Compiler {
    fn cond(&mut self, v: &Value, loc: &Loc, depth: usize) -> Result<Cond, ConditionError> {
        if depth > MAX_DEPTH {
            return Err(loc.err(["nested more than ", &int_text(MAX_DEPTH as i64), " levels deep"].concat()));
        }
        let Value::Object(map) = v else {
            return Err(loc.err(["a condition must be an object, got ", describe(v)].concat()));
        };
        let mut clauses = Vec::with_capacity(map.len());
        for (key, v) in map {
            let at = Loc::Key(loc, key);
            clauses.push(match key.as_str() {
                "$or" => Clause::Or(self.conds(v, &at, depth)?),
                "$nor" => Clause::Nor(self.conds(v, &at, depth)?),
                "$and" => Clause::And(self.conds(v, &at, depth)?),
                "$not" => Clause::Not(self.cond(v, &at, depth + 1)?),
                // Any other key, `$`-prefixed or not, is an attribute path (GrowthBook's own
                // cases target an attribute named `$groups`).
                _ => Clause::Attr(key.as_str().into(), self.test(v, &at, depth + 1, false)?),
            });
        }
        Ok(Cond(clauses))
    }

    fn conds(&mut self, v: &Value, loc: &Loc, depth: usize) -> Result<Vec<Cond>, ConditionError> {
        let Value::Array(items) = v else {
            return Err(loc.err(["expected an array of conditions, got ", describe(v)].concat()));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(self.cond(item, &Loc::Index(loc, i), depth + 1)?);
        }
        Ok(out)
    }

    /// `fold`: a string literal compares case-insensitively (inside `$alli`).
    fn test(&mut self, v: &Value, loc: &Loc, depth: usize, fold: bool) -> Result<Test, ConditionError> {
        if depth > MAX_DEPTH {
            return Err(loc.err(["nested more than ", &int_text(MAX_DEPTH as i64), " levels deep"].concat()));
        }
        Ok(match v {
            Value::String(s) if fold => Test::StrFold(js_lowercase(s)),
            Value::String(s) => Test::Str(s.clone()),
            Value::Number(n) => Test::Num(*n),
            Value::Bool(b) => Test::Bool(*b),
            Value::Null => Test::Null,
            Value::Object(map) if is_operator_object(map) => {
                let mut ops = Vec::with_capacity(map.len());
                for (op, arg) in map {
                    ops.push(self.op(op, arg, loc, depth)?);
                }
                Test::Ops(ops)
            }
            Value::Array(_) | Value::Object(_) => Test::Json(v.clone()),
        })
    }

    /// One operator of the operator object at `loc`.
    fn op(&mut self, op: &str, arg: &Value, loc: &Loc, depth: usize) -> Result<Op, ConditionError> {
        let at = Loc::Key(loc, op);
        let array = || match arg {
            Value::Array(items) => Ok(items),
            _ => Err(at.err(["expected an array, got ", describe(arg)].concat())),
        };
        let string = || match arg {
            Value::String(s) => Ok(s),
            _ => Err(at.err(["expected a string, got ", describe(arg)].concat())),
        };
        Ok(match op {
            "$eq" | "$ne" => Op::Eq(arg.clone(), op == "$ne"),
            "$lt" => Op::Cmp(Rel::Lt, arg.clone()),
            "$lte" => Op::Cmp(Rel::Lte, arg.clone()),
            "$gt" => Op::Cmp(Rel::Gt, arg.clone()),
            "$gte" => Op::Cmp(Rel::Gte, arg.clone()),
            "$exists" => match arg {
                Value::Bool(b) => Op::Exists(*b),
                _ => return Err(at.err(["expected true or false, got ", describe(arg)].concat())),
            },
            "$in" | "$nin" | "$ini" | "$nini" => {
                let fold = op.ends_with('i');
                let list = array()?
                    .iter()
                    .map(|v| match v {
                        Value::String(s) if fold => Value::String(js_lowercase(s)),
                        _ => v.clone(),
                    })
                    .collect();
                Op::In { list, negate: op.starts_with("$n"), fold }
            }
            "$inGroup" | "$notInGroup" => Op::Group { name: string()?.clone(), negate: op == "$notInGroup" },
            "$not" => Op::Not(Box::new(self.test(arg, &at, depth + 1, false)?)),
            "$size" => Op::Size(Box::new(self.test(arg, &at, depth + 1, false)?)),
            "$elemMatch" => Op::ElemMatch(Box::new(match arg {
                Value::Object(map) if is_operator_object(map) => ElemTest::Value(self.test(arg, &at, depth + 1, false)?),
                Value::Object(_) => ElemTest::Cond(self.cond(arg, &at, depth + 1)?),
                _ => return Err(at.err(["expected an object, got ", describe(arg)].concat())),
            })),
            "$all" | "$alli" => {
                let items = array()?;
                let mut tests = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    tests.push(self.test(item, &Loc::Index(&at, i), depth + 1, op == "$alli")?);
                }
                Op::All(tests)
            }
            "$regex" | "$regexi" => {
                let pattern = string()?;
                Op::Regex(match Pattern::new(pattern, op == "$regexi") {
                    Ok(re) => Some(re),
                    Err(e) => {
                        let msg = ["invalid regex \"", pattern, "\" never matches: ", &e].concat();
                        self.warnings.push(at.err(msg));
                        None
                    }
                })
            }
            "$type" => {
                let name = string()?;
                match TYPES.iter().find(|t| **t == name) {
                    Some(t) => Op::Type(t),
                    None => {
                        let msg = ["unknown type \"", name, "\"; known: ", &TYPES.join(", ")].concat();
                        return Err(at.err(msg));
                    }
                }
            }
            "$veq" | "$vne" | "$vlt" | "$vlte" | "$vgt" | "$vgte" => {
                if !matches!(arg, Value::String(_) | Value::Number(_)) {
                    let msg = ["expected a version string, got ", describe(arg)].concat();
                    return Err(at.err(msg));
                }
                let rel = match op {
                    "$veq" => Rel::Eq,
                    "$vne" => Rel::Ne,
                    "$vlt" => Rel::Lt,
                    "$vlte" => Rel::Lte,
                    "$vgt" => Rel::Gt,
                    _ => Rel::Gte,
                };
                Op::Version(rel, padded_version(arg))
            }
            _ => return Err(loc.err(["unknown operator ", op].concat())),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluating

static NULL: Value = Value::Null;

impl Cond {
    fn eval(&self, obj: &Value, groups: &Groups) -> bool {
        let any = |cs: &[Cond]| cs.is_empty() || cs.iter().any(|c| c.eval(obj, groups));
        self.0.iter().all(|clause| match clause {
            Clause::Or(cs) => any(cs),
            Clause::Nor(cs) => !any(cs),
            Clause::And(cs) => cs.iter().all(|c| c.eval(obj, groups)),
            Clause::Not(c) => !c.eval(obj, groups),
            Clause::Attr(path, test) => test.eval(get_path(obj, path), groups),
        })
    }
}

/// The value at a dotted path, null when missing. As in JS, a numeric part indexes an array.
fn get_path<'a>(obj: &'a Value, path: &str) -> &'a Value {
    let mut cur = obj;
    for part in path.split('.') {
        let next = match cur {
            Value::Object(map) => map.get(part),
            Value::Array(items) => array_index(part).and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return &NULL,
        }
    }
    cur
}

/// A canonical array index: digits without a leading zero (JS's `"01" in arr` is false).
fn array_index(s: &str) -> Option<usize> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

impl Test {
    fn eval(&self, v: &Value, groups: &Groups) -> bool {
        match self {
            Test::Str(s) => js_string(v) == s.as_str(),
            Test::StrFold(s) => js_lowercase(&js_string(v)) == *s,
            Test::Num(n) => js_number(v) == *n,
            Test::Bool(b) => !matches!(v, Value::Null) && truthy(v) == *b,
            Test::Null => matches!(v, Value::Null),
            Test::Json(c) => json_eq(v, c),
            Test::Ops(ops) => ops.iter().all(|op| op.eval(v, groups)),
        }
    }
}

impl Op {
    fn eval(&self, v: &Value, groups: &Groups) -> bool {
        match self {
            Op::Eq(x, negate) => strict_eq(v, x) != *negate,
            Op::Cmp(rel, x) => rel.holds(js_compare(v, x)),
            Op::Exists(exists) => !matches!(v, Value::Null) == *exists,
            Op::In { list, negate, fold } => is_in(v, list, *fold) != *negate,
            Op::Group { name, negate } => groups.get(name).is_some_and(|members| is_in(v, members, false)) != *negate,
            Op::Not(t) => !t.eval(v, groups),
            Op::Size(t) => match v {
                Value::Array(items) => t.eval(&Value::Number(items.len() as f64), groups),
                _ => false,
            },
            // GrowthBook skips falsy elements (0, "", false, null) before testing.
            Op::ElemMatch(t) => match v {
                Value::Array(items) => items.iter().any(|e| {
                    truthy(e)
                        && match &**t {
                            ElemTest::Value(t) => t.eval(e, groups),
                            ElemTest::Cond(c) => c.eval(e, groups),
                        }
                }),
                _ => false,
            },
            Op::All(tests) => match v {
                Value::Array(items) => tests.iter().all(|t| items.iter().any(|e| t.eval(e, groups))),
                _ => false,
            },
            // JS's `RegExp.test` converts its argument to a string.
            Op::Regex(re) => re.as_ref().is_some_and(|re| re.is_match(&js_string(v))),
            Op::Type(t) => js_type(v) == *t,
            Op::Version(rel, x) => rel.holds(Some(utf16_cmp(&padded_version(v), x))),
        }
    }
}

/// GrowthBook's `isIn`: an array value matches when any element is in the list. Membership is
/// JS `includes` (strict equality, NaN equal to itself); with `fold`, strings compare in lower
/// case (the list is already lower-cased).
fn is_in(v: &Value, list: &[Value], fold: bool) -> bool {
    let contains = |x: &Value| match x {
        Value::String(s) if fold => {
            let s = js_lowercase(s);
            list.iter().any(|l| l.as_str() == Some(&s))
        }
        _ => list.iter().any(|l| same_value_zero(x, l)),
    };
    match v {
        Value::Array(items) => items.iter().any(contains),
        _ => contains(v),
    }
}

// ---------------------------------------------------------------------------------------------
// JavaScript's value semantics, as GrowthBook's SDK gets them from the language

/// `===`: arrays and objects are compared by identity in JS, so never equal here.
fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

/// JS `includes` equality: strict, except that NaN equals NaN.
fn same_value_zero(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => strict_eq(a, b),
    }
}

/// `JSON.stringify(a) === JSON.stringify(b)`, except that object key order does not matter.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // JSON has no NaN or infinity: `JSON.stringify` writes them as null.
        (Value::Number(x), Value::Number(y)) if x.is_finite() || y.is_finite() => x == y,
        (Value::Number(_), Value::Number(_)) => true,
        (Value::Number(x), Value::Null) | (Value::Null, Value::Number(x)) => !x.is_finite(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().zip(y).all(|((kx, vx), (ky, vy))| kx == ky && json_eq(vx, vy)),
        _ => a == b,
    }
}

/// JS truthiness: false, 0, NaN, "" and null are falsy; arrays and objects are truthy.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => *n != 0.0 && !n.is_nan(),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// GrowthBook's `getType`.
fn js_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JS `String(v)`: arrays join their elements with commas (null elements as empty).
fn js_string(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed("null"),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Number(n) => Cow::Owned(js_number_string(*n)),
        Value::Array(items) => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !matches!(item, Value::Null) {
                    out.push_str(&js_string(item));
                }
            }
            Cow::Owned(out)
        }
        Value::Object(_) => Cow::Borrowed("[object Object]"),
    }
}

/// JS `Number(v)`: null is 0, booleans 0/1, strings parsed (NaN when not numeric), arrays via
/// their string form (`[]` is 0, `[5]` is 5), objects NaN.
fn js_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => *n,
        Value::String(s) => parse_js_number(s),
        Value::Array(_) => parse_js_number(&js_string(v)),
        Value::Object(_) => f64::NAN,
    }
}

/// JS's relational comparison (`a < b` and friends): arrays and objects become strings; two
/// strings compare by UTF-16 code units, anything else as numbers. `None` when a number is
/// NaN, where every JS comparison is false.
fn js_compare(a: &Value, b: &Value) -> Option<Ordering> {
    let stringish = |v: &Value| matches!(v, Value::String(_) | Value::Array(_) | Value::Object(_));
    if stringish(a) && stringish(b) {
        return Some(utf16_cmp(&js_string(a), &js_string(b)));
    }
    js_number(a).partial_cmp(&js_number(b))
}

/// JS string order: by UTF-16 code units (differs from `str`'s order above U+FFFF).
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// GrowthBook's `paddedVersionString`: versions become strings whose JS string order is
/// version order. "v1.2.3-rc.1+build" -> "    1-    2-    3-rc-    1": drop a leading `v` and
/// the build suffix, split on `.` and `-`, mark a release (exactly three parts) with `~` so it
/// sorts after its pre-releases, left-pad numeric parts to five characters.
fn padded_version(v: &Value) -> String {
    let input: Cow<str> = match v {
        Value::Number(n) => Cow::Owned(js_number_string(*n)),
        Value::String(s) if !s.is_empty() => Cow::Borrowed(s),
        _ => Cow::Borrowed("0"),
    };
    let s = input.strip_prefix('v').unwrap_or(&input);
    // GrowthBook removes /\+.*$/, and JS's `.` stops at line terminators: the build suffix is
    // cut at the first `+` after the last line break.
    let line_start = s.rmatch_indices(['\n', '\r', '\u{2028}', '\u{2029}']).next().map_or(0, |(i, m)| i + m.len());
    let s = match s[line_start..].find('+') {
        Some(i) => &s[..line_start + i],
        None => s,
    };
    let mut parts: Vec<&str> = s.split(['-', '.']).collect();
    if parts.len() == 3 {
        parts.push("~");
    }
    let mut out = String::with_capacity(s.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.extend((part.len()..5).map(|_| ' '));
        }
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn json(s: &str) -> Value {
        serde_json::from_str(s).expect("test JSON")
    }

    fn compile_err(s: &str) -> String {
        Condition::compile(&json(s)).expect_err("should not compile").to_string()
    }

    fn eval(cond: &str, attrs: &str) -> bool {
        Condition::compile(&json(cond)).expect("compiles").eval(&json(attrs), &Groups::new())
    }

    #[test]
    fn unknown_operator_names_its_path() {
        assert_eq!(compile_err(r#"{"$and": [{"a": 1}, {"age": {"$gtx": 3}}]}"#), "$and[1].age: unknown operator $gtx");
        assert_eq!(compile_err(r#"{"name": {"$regx": "hello"}}"#), "name: unknown operator $regx");
    }

    #[test]
    fn wrong_operand_types_name_their_path() {
        assert_eq!(compile_err(r#"{"num": {"$in": 1}}"#), "num.$in: expected an array, got a number");
        assert_eq!(compile_err(r#"{"$or": [{"$nor": {"a": 1}}]}"#), "$or[0].$nor: expected an array of conditions, got an object");
        assert_eq!(compile_err(r#"{"tags": {"$elemMatch": {"n": {"$regex": 5}}}}"#), "tags.$elemMatch.n.$regex: expected a string, got a number");
        assert_eq!(compile_err(r#"{"a": {"$exists": "yes"}}"#), "a.$exists: expected true or false, got a string");
        assert_eq!(
            compile_err(r#"{"a": {"$type": "str"}}"#),
            "a.$type: unknown type \"str\"; known: string, number, boolean, object, array, null, \
             undefined"
        );
        assert_eq!(compile_err(r#"{"v": {"$vgt": [1]}}"#), "v.$vgt: expected a version string, got an array");
        assert_eq!(compile_err(r#"{"tags": {"$all": [1, {"$bad": 1}]}}"#), "tags.$all[1]: unknown operator $bad");
        assert_eq!(compile_err(r#"[1]"#), "a condition must be an object, got an array");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let wrap = |inner: Value| {
            let mut v = Value::object();
            v.set("$not", inner);
            v
        };
        let mut cond = Value::object();
        let mut test = Value::Number(1.0);
        for _ in 0..200 {
            cond = wrap(cond);
            test = wrap(test);
        }
        let err = Condition::compile(&cond).unwrap_err();
        assert_eq!(err.message, "nested more than 64 levels deep");
        assert!(err.path.starts_with("$not.$not."), "{}", err.path);
        let mut attr = Value::object();
        attr.set("a", test);
        let err = Condition::compile(&attr).unwrap_err();
        assert_eq!(err.message, "nested more than 64 levels deep");
        assert!(err.path.starts_with("a.$not.$not."), "{}", err.path);
    }

    #[test]
    fn invalid_regex_never_matches_and_warns() {
        let c = Condition::compile(&json(r#"{"name": {"$regex": "(?=look)ahead"}}"#)).unwrap();
        assert!(!c.eval(&json(r#"{"name": "lookahead"}"#), &Groups::new()));
        assert_eq!(c.warnings().len(), 1);
        assert_eq!(c.warnings()[0].path, "name.$regex");
    }

    #[test]
    fn javascript_coercions() {
        // A string literal compares with the value's string form, a number with its number.
        assert!(eval(r#"{"n": "10"}"#, r#"{"n": 10}"#));
        assert!(eval(r#"{"n": "1,2"}"#, r#"{"n": [1, 2]}"#));
        assert!(eval(r#"{"n": 10}"#, r#"{"n": " 10 "}"#));
        assert!(eval(r#"{"n": 0}"#, r#"{}"#)); // null * 1 === 0
        assert!(eval(r#"{"n": true}"#, r#"{"n": "yes"}"#));
        assert!(!eval(r#"{"n": false}"#, r#"{}"#));
        // $eq is strict; arrays are never strictly equal.
        assert!(!eval(r#"{"n": {"$eq": "10"}}"#, r#"{"n": 10}"#));
        assert!(!eval(r#"{"n": {"$eq": [1]}}"#, r#"{"n": [1]}"#));
        assert!(eval(r#"{"n": [1]}"#, r#"{"n": [1]}"#));
        // Strings compare as strings, mixed as numbers, NaN never.
        assert!(eval(r#"{"n": {"$lt": "9"}}"#, r#"{"n": "10"}"#));
        assert!(eval(r#"{"n": {"$gt": 9}}"#, r#"{"n": "10"}"#));
        assert!(!eval(r#"{"n": {"$gt": 9}}"#, r#"{"n": "ten"}"#));
        assert!(!eval(r#"{"n": {"$lte": 9}}"#, r#"{"n": "ten"}"#));
        // $regex tests the string form; a missing attribute is "null".
        assert!(eval(r#"{"n": {"$regex": "^12"}}"#, r#"{"n": 123}"#));
        // Paths index arrays; elemMatch skips falsy elements.
        assert!(eval(r#"{"items.1.sku": "b"}"#, r#"{"items": [{"sku": "a"}, {"sku": "b"}]}"#));
        assert!(!eval(r#"{"items.01.sku": "b"}"#, r#"{"items": [{"sku": "a"}, {"sku": "b"}]}"#));
        assert!(!eval(r#"{"n": {"$elemMatch": {"$lt": 1}}}"#, r#"{"n": [0, 5]}"#));
        // Versions given as numbers.
        assert!(eval(r#"{"v": {"$vgt": 1.2}}"#, r#"{"v": "1.10"}"#));
    }

    #[test]
    fn number_strings_match_javascript() {
        let cases = [
            (0.1, "0.1"),
            (-0.0, "0"),
            (123.456, "123.456"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e20, "100000000000000000000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (-2.5e-8, "-2.5e-8"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (n, s) in cases {
            assert_eq!(js_number_string(n), s, "{n:e}");
        }
    }

    #[test]
    fn string_numbers_match_javascript() {
        let cases = [
            ("", 0.0),
            (" \n", 0.0),
            ("12", 12.0),
            ("-1.5e3", -1500.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("0x1F", 31.0),
            ("0b101", 5.0),
            ("-Infinity", f64::NEG_INFINITY),
        ];
        for (s, n) in cases {
            assert_eq!(parse_js_number(s), n, "{s:?}");
        }
        for s in ["inf", "nan", "1e", "abc", "1 2", "0x", "-0x1", "1_000"] {
            assert!(parse_js_number(s).is_nan(), "{s:?}");
        }
    }

    #[test]
    fn never_panics_on_odd_values() {
        let odd = json(
            r#"{"a": [null, [1, [2]], {"b": "\u2028+x"}], "v": "v+\n+", "n": -0.0,
                "s": "\ud83d\ude00"}"#,
        );
        let ops = ["$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte"];
        for op in ops {
            for arg in [r#""x""#, "1", r#""v1.2""#] {
                for path in ["a", "v", "n", "s", "missing", "a.0", "a.2.b"] {
                    let c = Condition::compile(&json(&alloc::format!(r#"{{"{path}": {{"{op}": {arg}}}}}"#))).unwrap();
                    c.eval(&odd, &Groups::new());
                }
            }
        }
        assert_eq!(padded_version(&json(r#""v1.2.3+b\n4+c""#)), "    1-    2-3+b\n4-~");
        assert_eq!(padded_version(&json(r#""v+\n+""#)), "+\n");
    }
}
