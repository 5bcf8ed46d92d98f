//! Caps on a config file, checked before serde_yaml reads it: serde_yaml loads every event of
//! the document before it deserialises anything, and its parser takes quadratic time in the
//! nesting depth (a 100,000-deep file took over a minute). An infra config is a few kilobytes,
//! six levels deep.

use super::Problem;
use yaml_rust2::parser::{Event, Parser};

/// The largest config file infra reads.
pub const MAX_BYTES: usize = 1 << 20;

/// The deepest nesting of maps and lists a config may have.
pub const MAX_DEPTH: usize = 64;

/// Why `text` is too big or too deep to parse, if it is.
pub fn problem(text: &str) -> Option<Problem> {
    if text.len() > MAX_BYTES {
        return Some(Problem {
            line: None,
            column: None,
            field: String::new(),
            message: format!(
                "the file is over {MAX_BYTES} bytes (1 MiB); an infra config is a few kilobytes, \
                 so this is not one"
            ),
        });
    }
    too_deep(text)
}

/// The place where `text` nests deeper than [`MAX_DEPTH`]. A real YAML parser's event stream
/// counts the depth exactly (block scalars, quotes and comments cannot fool it), and stops at
/// the first level too many, so a deep file costs no more than its first 64 levels.
fn too_deep(text: &str) -> Option<Problem> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    let at = |line: usize, col: usize| Problem {
        line: Some(line),
        column: Some(col + 1),
        field: String::new(),
        message: format!(
            "maps and lists are nested more than {MAX_DEPTH} levels deep here; an infra config \
             needs six"
        ),
    };
    loop {
        match parser.next_token() {
            Ok((Event::MappingStart(..) | Event::SequenceStart(..), mark)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(at(mark.line(), mark.col()));
                }
            }
            Ok((Event::MappingEnd | Event::SequenceEnd, _)) => depth = depth.saturating_sub(1),
            Ok((Event::StreamEnd, _)) => return None,
            Ok(_) => {}
            // The scanner refuses deep flow nesting ([[[[...) on its own, before any event.
            Err(e) if e.info().contains("recursion limit") => {
                return Some(at(e.marker().line(), e.marker().col()))
            }
            // A syntax error: serde_yaml reports it, with the wording users already know. It
            // stops at the same place, so what lies beyond is not parsed either.
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_config_is_well_within_the_caps() {
        assert!(problem(crate::config::DEFAULT_YAML).is_none());
    }

    #[test]
    fn deep_nesting_is_refused_at_once_in_every_form() {
        let n = 100_000;
        let flow = format!("stack: {}{}\n", "[".repeat(n), "]".repeat(n));
        let block_seq = format!("stack:\n{}x\n", "- ".repeat(n));
        let mut block_map = String::from("stack:\n");
        for i in 1..=200 {
            block_map.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        for text in [flow, block_seq, block_map] {
            let started = Instant::now();
            let p = problem(&text).expect("refused");
            assert!(started.elapsed() < Duration::from_secs(1));
            assert!(p.message.contains("more than 64 levels"), "{p:?}");
            assert_eq!(p.line.map(|l| l <= 66), Some(true), "{p:?}");
        }
    }

    #[test]
    fn nesting_inside_text_does_not_count() {
        let text = format!(
            "stack: \"{}\"\nregion: |\n  {}\n# {}\n",
            "[".repeat(500),
            "- ".repeat(500),
            "{".repeat(500)
        );
        assert!(problem(&text).is_none());
    }

    #[test]
    fn a_file_over_a_mebibyte_is_refused_before_parsing() {
        let text = format!("stack: x\n#{}\n", " ".repeat(MAX_BYTES));
        let p = problem(&text).expect("refused");
        assert!(p.message.contains("1 MiB"), "{p:?}");
    }
}
