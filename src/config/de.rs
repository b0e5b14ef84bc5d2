//! Deserialization helpers that keep error positions precise.
//!
//! serde_yaml stamps an error with the position of the YAML node being read when the error
//! is raised *inside* that node's visit. A check run after `T::deserialize` returns would
//! instead be stamped with the enclosing node's position, so these helpers run parsing and
//! validation from within the visitor of the node they concern.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// Reads a scalar as text and converts it with `parse`; a conversion error points at the
/// scalar itself.
pub(crate) fn parse_str<'de, D, T, F>(d: D, parse: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    d.deserialize_str(ParseStr {
        parse,
        marker: PhantomData,
    })
}

struct ParseStr<T, F> {
    parse: F,
    marker: PhantomData<T>,
}

impl<'de, T, F> Visitor<'de> for ParseStr<T, F>
where
    F: FnOnce(&str) -> Result<T, String>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }
}

impl<'de, T, F> DeserializeSeed<'de> for ParseStr<T, F>
where
    F: FnOnce(&str) -> Result<T, String>,
{
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_str(self)
    }
}

/// Reads a list of strings, checking each with `check` at its own position. A missing
/// value (`key:` with nothing after it) is an empty list.
pub(crate) fn checked_strings<'de, D, F>(d: D, check: F) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
    F: Fn(&str) -> Result<(), String>,
{
    d.deserialize_any(StringList { check })
}

struct StringList<F> {
    check: F,
}

impl<'de, F> Visitor<'de> for StringList<F>
where
    F: Fn(&str) -> Result<(), String>,
{
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        while let Some(s) = seq.next_element_seed(ParseStr {
            parse: |s: &str| (self.check)(s).map(|()| s.to_string()),
            marker: PhantomData,
        })? {
            out.push(s);
        }
        Ok(out)
    }
}

/// Reads a string-to-string mapping, checking each key with `check` at the key's position.
pub(crate) fn checked_string_map<'de, D, F>(
    d: D,
    check: F,
) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
    F: Fn(&str) -> Result<(), String>,
{
    d.deserialize_any(StringMap { check })
}

struct StringMap<F> {
    check: F,
}

impl<'de, F> Visitor<'de> for StringMap<F>
where
    F: Fn(&str) -> Result<(), String>,
{
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of strings")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = map.next_key_seed(ParseStr {
            parse: |s: &str| (self.check)(s).map(|()| s.to_string()),
            marker: PhantomData,
        })? {
            let v: String = map.next_value()?;
            if out.contains_key(&k) {
                return Err(A::Error::custom(format!("duplicate key {k:?}")));
            }
            out.insert(k, v);
        }
        Ok(out)
    }
}

/// Deserializes a mapping into `T` and runs `check` on it inside the same mapping visit,
/// so that an error from `check` carries the mapping's position. An empty value (`key:`
/// with nothing after it) reads as `T::default()`.
pub(crate) struct Checked<T, F> {
    check: F,
    marker: PhantomData<T>,
}

impl<T, F> Checked<T, F> {
    pub(crate) fn new(check: F) -> Self {
        Checked {
            check,
            marker: PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for Checked<T, F>
where
    T: Deserialize<'de> + Default,
    F: FnOnce(&mut T) -> Result<(), String>,
{
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T, F> Visitor<'de> for Checked<T, F>
where
    T: Deserialize<'de> + Default,
    F: FnOnce(&mut T) -> Result<(), String>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<T, E> {
        let mut value = T::default();
        (self.check)(&mut value).map_err(E::custom)?;
        Ok(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let mut value = T::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        (self.check)(&mut value).map_err(A::Error::custom)?;
        Ok(value)
    }
}

/// A list whose entries are mappings each read into `T` and checked with `check` at the
/// entry's position.
pub(crate) struct CheckedList<T, F> {
    check: F,
    marker: PhantomData<T>,
}

impl<T, F> CheckedList<T, F> {
    pub(crate) fn new(check: F) -> Self {
        CheckedList {
            check,
            marker: PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for CheckedList<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(&mut T) -> Result<(), String>,
{
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T, F> Visitor<'de> for CheckedList<T, F>
where
    T: Deserialize<'de>,
    F: FnMut(&mut T) -> Result<(), String>,
{
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Entry {
            check: &mut self.check,
            marker: PhantomData,
        })? {
            out.push(v);
        }
        Ok(out)
    }
}

/// One entry of a [`CheckedList`]; entries have no default, so they must be mappings.
struct Entry<'a, T, F> {
    check: &'a mut F,
    marker: PhantomData<T>,
}

impl<'de, T, F> DeserializeSeed<'de> for Entry<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(&mut T) -> Result<(), String>,
{
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T, F> Visitor<'de> for Entry<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(&mut T) -> Result<(), String>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let mut value = T::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        (self.check)(&mut value).map_err(A::Error::custom)?;
        Ok(value)
    }
}

/// Reads a boolean as Prometheus's YAML 1.1 reader does: besides `true`/`false`, the plain
/// words `yes`/`no`, `on`/`off` and `y`/`n` (lower, Title or UPPER case). serde_yaml
/// follows YAML 1.2, where those words are strings.
pub(crate) fn yaml11_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_any(Yaml11Bool)
}

/// [`yaml11_bool`] for optional fields; absence is handled by `#[serde(default)]`.
pub(crate) fn yaml11_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    yaml11_bool(d).map(Some)
}

struct Yaml11Bool;

impl Visitor<'_> for Yaml11Bool {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean (true or false)")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
        match v {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "True" | "TRUE" => Ok(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "False" | "FALSE" => Ok(false),
            _ => Err(E::custom(format!(
                "invalid boolean {v:?}: expected true or false"
            ))),
        }
    }
}
