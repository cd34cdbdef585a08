//! A JSON value that keeps its keys in the order they were written, as Braze's pages show them
//! (serde_json's own map sorts them unless a workspace-wide feature is turned on).

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use super::model::{Number, Numbers};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Count(u64),
    /// Dollars with cents, from a number of cents.
    Dollars(u64),
    Str(String),
    Array(Vec<Json>),
    Object(Object),
}

/// An object, keys in order.
pub(crate) type Object = Vec<(Cow<'static, str>, Json)>;

impl Json {
    pub(crate) fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    pub(crate) fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Json {
        Json::Array(items.into_iter().map(Json::str).collect())
    }

    /// `{"message": "success", …}` as bytes.
    pub(crate) fn success(mut fields: Object) -> Vec<u8> {
        fields.insert(0, (Cow::Borrowed("message"), Json::str("success")));
        serde_json::to_vec(&Json::Object(fields)).expect("JSON serializes")
    }
}

impl From<Number> for Json {
    fn from(number: Number) -> Self {
        match number {
            Number::Count(n) => Json::Count(n),
            Number::Cents(cents) => Json::Dollars(cents),
        }
    }
}

/// `numbers` as object fields.
pub(crate) fn fields(numbers: &Numbers) -> impl Iterator<Item = (Cow<'static, str>, Json)> + '_ {
    numbers
        .iter()
        .map(|(name, number)| (Cow::Borrowed(*name), Json::from(*number)))
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Count(n) => serializer.serialize_u64(*n),
            Json::Dollars(cents) => serializer.serialize_f64(*cents as f64 / 100.0),
            Json::Str(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_writes_cents_as_dollars() {
        let body = Json::success(vec![
            ("z".into(), Json::Dollars(12_345)),
            (
                "a".into(),
                Json::Array(vec![Json::Null, Json::Bool(true), Json::Count(7)]),
            ),
        ]);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"message":"success","z":123.45,"a":[null,true,7]}"#
        );
    }
}
