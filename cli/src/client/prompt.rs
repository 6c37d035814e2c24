//! Reading what the person types: the one-time code. On a terminal it asks; from a
//! pipe it reads one line, so scripts can answer.

use super::failure::Failure;
use std::io::{BufRead as _, IsTerminal as _, Write as _};

/// Asks for a line on standard input; `None` when input has ended.
pub fn ask(question: &str) -> Result<Option<String>, Failure> {
    if std::io::stdin().is_terminal() {
        eprint!("{question} ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(line.trim().to_owned())),
        Err(e) => Err(Failure::usage(format!("cannot read the code: {}", e.kind()), "type the code, or pipe it in")),
    }
}

/// Whether the person can be asked again after a wrong answer.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}
