//! JSON Schema (schemars) for the config types serde reads by hand: durations, times of day,
//! GrowthBook conditions (any JSON) and name-keyed tables. Only with feature `schema`, which
//! the builder enables to print `vitrine.toml`'s schema (`model-builder schema`); the browser
//! SDK never does, so none of this reaches its download.

use alloc::borrow::Cow;
use alloc::format;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::time::{ClockTime, Secs};
use crate::value::{Map, Value};

impl JsonSchema for Secs {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A span of time: whole seconds, or number-unit pairs such as \"30s\", \"15m\", \"1h30m\", \"2d\", \"1w\" (at most 10 years).",
            "oneOf": [
                { "type": "integer", "minimum": 0, "maximum": 315_360_000 },
                { "type": "string", "pattern": "^\\s*(0|([0-9]+[smhdw])+)\\s*$" }
            ]
        })
    }
}

impl JsonSchema for ClockTime {
    fn schema_name() -> Cow<'static, str> {
        "TimeOfDay".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A time of day on the 24-hour clock, \"HH:MM\", e.g. \"21:00\".",
            "type": "string",
            "pattern": "^\\s*([01][0-9]|2[0-3]):[0-5][0-9]\\s*$"
        })
    }
}

impl JsonSchema for Value {
    fn schema_name() -> Cow<'static, str> {
        "Value".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Conditions are GrowthBook condition objects, checked by `Rules::check` (their
        // operators nest without bound); a saved group's members are any values.
        json_schema!({ "description": "A JSON value: in `when`, a GrowthBook condition such as { \"page.type\" = \"product\" }." })
    }
}

impl<V: JsonSchema> JsonSchema for Map<V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object", "additionalProperties": generator.subschema_for::<V>() })
    }
}
