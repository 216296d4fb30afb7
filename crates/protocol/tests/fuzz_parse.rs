//! Property-based fuzzing of the message parser (proptest): whatever arrives on the queue, parsing returns a
//! value or an error, never panics, and what it accepts is valid and survives a round trip. Cases per property:
//! PROPTEST_CASES (default 2,000 here); docs/reliability.md reports the executions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use codingworker_protocol::{Overrides, TaskMessage, local_task_message};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn valid_json() -> String {
    local_task_message("acme", "shop", "https://github.com/acme/shop.git", 7, "Fix it", "Body", Overrides::default())
        .unwrap()
        .to_json()
        .unwrap()
}

/// A JSON value of bounded depth and size, any shape.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Paths of a valid message where a mutation is worth trying.
const FIELDS: &[&str] = &[
    "/schema_version",
    "/task_id",
    "/repository/owner",
    "/repository/name",
    "/repository/clone_url",
    "/issue/number",
    "/issue/title",
    "/issue/body",
    "/sender/login",
    "/overrides",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(raw in ".{0,2000}") {
        let _ = TaskMessage::parse(&raw);
    }

    #[test]
    fn arbitrary_json_never_panics(value in any_json()) {
        let _ = TaskMessage::parse(&value.to_string());
    }

    #[test]
    fn a_mutated_valid_message_is_valid_or_refused_with_a_reason(field in 0..FIELDS.len(), replacement in any_json()) {
        let mut value: serde_json::Value = serde_json::from_str(&valid_json()).unwrap();
        if let Some(slot) = value.pointer_mut(FIELDS[field]) {
            *slot = replacement;
        }
        match TaskMessage::parse(&value.to_string()) {
            Ok(message) => {
                prop_assert!(message.validate().is_ok());
                let again = TaskMessage::parse(&message.to_json().unwrap()).unwrap();
                prop_assert_eq!(again.to_json().unwrap(), message.to_json().unwrap());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn truncated_or_spliced_messages_never_panic(cut in 0usize..600, insert in ".{0,20}") {
        let valid = valid_json();
        let cut = cut.min(valid.len());
        let boundary = (0..=cut).rev().find(|i| valid.is_char_boundary(*i)).unwrap_or(0);
        let spliced = format!("{}{}{}", &valid[..boundary], insert, &valid[boundary..]);
        let _ = TaskMessage::parse(&valid[..boundary]);
        let _ = TaskMessage::parse(&spliced);
    }
}
