//! Maps each field path of a YAML document to its line and column, so validation errors found
//! after deserialising can still point at the place in the file.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Field path (`network.zones[1].public`) to 1-based (line, column) of its value.
#[derive(Debug, Default)]
pub struct Locations {
    map: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
    nulls: Vec<Null>,
}

/// A YAML null (`null`, `~`, nothing at all) in the file. serde_yaml hands a text field the
/// word itself (`project: null` became the tag value "null"), so validation looks at these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Null {
    /// The path to it, one segment per key or `[index]`.
    pub segments: Vec<String>,
    /// Dotted path of the field, as problems name it.
    pub field: String,
    /// 1-based line and column.
    pub at: (usize, usize),
    /// Whether it is a map's key rather than a value.
    pub is_key: bool,
}

impl Locations {
    /// Locations of every value in `text`; empty if the text does not parse.
    pub fn of(text: &str) -> Self {
        let mut recv = Receiver::default();
        // A parse error here was already reported by serde_yaml with its own location.
        let _ = Parser::new_from_str(text).load(&mut recv, false);
        Locations {
            map: recv.out,
            keys: recv.keys,
            nulls: recv.nulls,
        }
    }

    /// Where the key of the map entry at `path` starts (for a problem with the key itself).
    pub fn key(&self, path: &str) -> Option<(usize, usize)> {
        self.keys.get(path).copied()
    }

    /// Every null in the file, keys and values.
    pub fn nulls(&self) -> &[Null] {
        &self.nulls
    }

    /// Where the value at `path` starts.
    pub fn get(&self, path: &str) -> Option<(usize, usize)> {
        self.map.get(path).copied()
    }
}

enum Frame {
    Map { key: Option<String> },
    Seq { next: usize },
}

#[derive(Default)]
struct Receiver {
    frames: Vec<Frame>,
    path: Vec<String>,
    out: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
    nulls: Vec<Null>,
    /// Where the last map key was: an empty value (`key:` and nothing) has no place of its own,
    /// the parser marks the next token instead.
    key_mark: Option<Marker>,
}

/// Whether `ev` is YAML's null: a plain `null`/`Null`/`NULL`/`~`, an empty value, or `!!null`.
fn is_null(ev: &Event) -> bool {
    match ev {
        Event::Scalar(value, style, _, tag) => {
            tag.as_ref().is_some_and(|t| t.suffix == "null")
                || (*style == TScalarStyle::Plain
                    && tag.is_none()
                    && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
        }
        _ => false,
    }
}

impl Receiver {
    fn joined(&self, last: &str) -> String {
        let mut s = String::new();
        for seg in self.path.iter().map(String::as_str).chain([last]) {
            if !s.is_empty() && !seg.starts_with('[') {
                s.push('.');
            }
            s.push_str(seg);
        }
        s
    }
}

impl Receiver {
    fn null(&self, last: &str, mark: Marker, is_key: bool) -> Null {
        let mut segments = self.path.clone();
        segments.push(last.to_string());
        // The top-level map's own segment is empty.
        segments.retain(|s| !s.is_empty());
        Null {
            field: self.joined(last),
            segments,
            at: (mark.line(), mark.col() + 1),
            is_key,
        }
    }
}

impl MarkedEventReceiver for Receiver {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let opens = matches!(ev, Event::MappingStart(..) | Event::SequenceStart(..));
        match ev {
            Event::MappingEnd | Event::SequenceEnd => {
                self.frames.pop();
                self.path.pop();
                return;
            }
            Event::Scalar(..)
            | Event::Alias(_)
            | Event::MappingStart(..)
            | Event::SequenceStart(..) => {}
            _ => return,
        }
        let segment = match self.frames.last_mut() {
            Some(Frame::Map { key }) => match key.take() {
                Some(k) => k,
                None => {
                    if let Event::Scalar(s, ..) = &ev {
                        *key = Some(s.clone());
                        self.key_mark = Some(mark);
                        let path = self.joined(s);
                        self.keys.insert(path, (mark.line(), mark.col() + 1));
                        if is_null(&ev) {
                            let null = self.null(s, mark, true);
                            self.nulls.push(null);
                        }
                    }
                    return;
                }
            },
            Some(Frame::Seq { next }) => {
                *next += 1;
                format!("[{}]", *next - 1)
            }
            None => String::new(),
        };
        let empty = matches!(&ev, Event::Scalar(s, TScalarStyle::Plain, ..) if s.is_empty());
        let in_map = matches!(self.frames.last(), Some(Frame::Map { .. }));
        let mark = match self.key_mark {
            Some(at) if empty && in_map => at,
            _ => mark,
        };
        if is_null(&ev) {
            let null = self.null(&segment, mark, false);
            self.nulls.push(null);
        }
        let full = self.joined(&segment);
        self.out.insert(full, (mark.line(), mark.col() + 1));
        if opens {
            self.frames.push(match ev {
                Event::MappingStart(..) => Frame::Map { key: None },
                _ => Frame::Seq { next: 0 },
            });
            self.path.push(segment);
        }
    }
}
