//! Printing for people and for scripts. For people: sentences on standard output,
//! notes while working, one-line errors on standard error. With `--json`: exactly one
//! JSON object on standard output (the result, or `{"error": …}`), notes on standard
//! error.

use super::failure::Failure;
use serde_json::Value;
use std::io::IsTerminal as _;

/// Where and how to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`.
    pub json: bool,
    colour: bool,
}

impl Output {
    /// Colour only on a terminal, and never with `NO_COLOR` set or in JSON mode.
    pub fn new(json: bool) -> Self {
        let colour = !json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self { json, colour }
    }

    /// Whether progress can redraw one line (a terminal, not JSON).
    pub fn live(&self) -> bool {
        !self.json && std::io::stderr().is_terminal()
    }

    /// Text in bold green (on a terminal).
    pub fn good(&self, text: &str) -> String {
        self.paint("1;32", text)
    }

    /// Text dimmed (on a terminal).
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// A note while working: standard output for people, standard error with `--json`.
    pub fn note(&self, line: &str) {
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }

    /// The result: `value` with `--json`, else the sentences `human` writes.
    pub fn result(&self, value: Value, human: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            let text = human();
            if !text.is_empty() {
                println!("{text}");
            }
        }
    }

    /// A failure: one line (and the JSON object with `--json`).
    pub fn failure(&self, failure: &Failure) {
        if self.json {
            println!("{}", failure.to_json());
        } else {
            match &failure.hint {
                Some(hint) => eprintln!("keyway: {} — {hint}", failure.message),
                None => eprintln!("keyway: {}", failure.message),
            }
        }
    }
}
