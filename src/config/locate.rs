//! Maps each field path of a YAML document to its line and column, so validation errors found
//! after deserialising can still point at the place in the file.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Field path (`network.zones[1].public`) to 1-based (line, column) of its value.
#[derive(Debug, Default)]
pub struct Locations {
    map: HashMap<String, (usize, usize)>,
}

impl Locations {
    /// Locations of every value in `text`; empty if the text does not parse.
    pub fn of(text: &str) -> Self {
        let mut recv = Receiver::default();
        // A parse error here was already reported by serde_yaml with its own location.
        let _ = Parser::new_from_str(text).load(&mut recv, false);
        Locations { map: recv.out }
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
