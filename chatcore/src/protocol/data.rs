//! Limits on a message's [`Data`]: how deep it may nest and how it is measured.
//!
//! The engine never interprets `data`; it only bounds it, so a payload costs every member,
//! the store and the bus a known amount. Both checks walk the value without recursion, so a
//! host that builds a value nested 10,000 deep gets an error, not a stack overflow.

use serde_json::Value;

use super::message::Data;
use crate::{Error, Result};

/// Deepest nesting of objects and arrays allowed in `data`, counting `data` itself: `{}` is
/// 1 deep, `{"a":{"b":[1]}}` is 3. Sixteen levels hold any card a chat client draws;
/// anything deeper is a mistake or an attack on a parser.
pub const MAX_DATA_DEPTH: usize = 16;

/// Deepest nesting a codec decodes in a whole frame (JSON's and MessagePack's parsers both
/// stop there), far above [`MAX_DATA_DEPTH`] and far below what would exhaust a stack.
pub(crate) const MAX_FRAME_DEPTH: usize = 128;

/// How deeply `data` nests (see [`MAX_DATA_DEPTH`]), counted without recursion; stops
/// counting once past `cap`.
fn depth(data: &Data, cap: usize) -> usize {
    let mut deepest = 1;
    let mut stack: Vec<(&Value, usize)> = data.values().map(|v| (v, 2)).collect();
    while let Some((value, level)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(map) => Box::new(map.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        deepest = deepest.max(level);
        if deepest > cap {
            return deepest;
        }
        stack.extend(children.map(|v| (v, level + 1)));
    }
    deepest
}

/// Counts bytes written, so the encoded size needs no buffer.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `data` encoded as compact JSON, in bytes: what the limit counts (the same
/// whatever the codec a client speaks, and what the stores keep).
pub fn encoded_len(data: &Data) -> usize {
    let mut counter = Counter(0);
    // Writing a JSON map into a counter cannot fail: its keys are strings.
    match serde_json::to_writer(&mut counter, data) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// Refuses `data` nested deeper than [`MAX_DATA_DEPTH`] (`invalid`) or larger than
/// `max_bytes` encoded (`too_large`). The depth is checked first, so measuring the size
/// never recurses deeply.
pub(crate) fn check(data: &Data, max_bytes: usize) -> Result<()> {
    if depth(data, MAX_DATA_DEPTH) > MAX_DATA_DEPTH {
        return Err(Error::invalid(
            "data",
            format!("nested deeper than {MAX_DATA_DEPTH} levels"),
        ));
    }
    let size = encoded_len(data);
    if size > max_bytes {
        return Err(Error::TooLarge {
            what: "data",
            size,
            limit: max_bytes,
        });
    }
    Ok(())
}

/// Drops `data` without recursion. `serde_json` drops a value recursively, so a value a host
/// built 10,000 levels deep would overflow the stack where it is dropped; the hub disposes
/// of refused data this way.
pub(crate) fn dispose(data: Data) {
    let mut stack: Vec<Value> = vec![Value::Object(data)];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Data {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    /// `{"a":{"a":…{}…}}`, `levels` objects deep, built without recursion.
    fn nested(levels: usize) -> Data {
        let mut inner = Data::new();
        for _ in 1..levels {
            let mut outer = Data::new();
            outer.insert("a".into(), Value::Object(inner));
            inner = outer;
        }
        inner
    }

    #[test]
    fn depth_counts_objects_and_arrays() {
        assert_eq!(depth(&map(json!({})), 99), 1);
        assert_eq!(depth(&map(json!({"a": 1, "b": "x"})), 99), 1);
        assert_eq!(depth(&map(json!({"a": {"b": [1]}})), 99), 3);
        assert_eq!(depth(&map(json!({"a": [[[]]], "b": {}})), 99), 4);
        assert_eq!(depth(&nested(MAX_DATA_DEPTH), 99), MAX_DATA_DEPTH);
    }

    #[test]
    fn limits_are_enforced_with_exact_errors() {
        assert!(check(&nested(MAX_DATA_DEPTH), 4096).is_ok());
        let err = check(&nested(MAX_DATA_DEPTH + 1), 4096).expect_err("too deep");
        assert_eq!(err.code(), crate::ErrorCode::Invalid);
        let big = map(json!({"s": "x".repeat(4096)}));
        match check(&big, 4096) {
            Err(Error::TooLarge { what, size, limit }) => {
                assert_eq!((what, size, limit), ("data", 4096 + 8, 4096));
            }
            other => panic!("{other:?}"),
        }
        let exact = map(json!({"s": "x".repeat(4096 - 8)}));
        assert_eq!(encoded_len(&exact), 4096);
        assert!(check(&exact, 4096).is_ok());
    }

    #[test]
    fn ten_thousand_levels_are_refused_without_recursion() {
        let deep = nested(10_000);
        let err = check(&deep, 4096).expect_err("too deep");
        assert_eq!(err.code(), crate::ErrorCode::Invalid);
        // Dropping it would recurse in serde_json.
        dispose(deep);
    }
}
