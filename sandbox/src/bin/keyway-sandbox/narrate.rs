//! Narration for the terminal: each step with a tick or a cross and its duration, in
//! colour on a terminal and plain when piped.

use keyway_core::ble::UnlockTimings;
use std::future::Future;
use std::io::IsTerminal;
use std::time::Instant;

/// Writes the story to standard output.
pub struct Narrator {
    colour: bool,
    steps: usize,
    started: Instant,
}

impl Narrator {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset.
    pub fn new() -> Self {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self { colour, steps: 0, started: Instant::now() }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// A heading.
    pub fn chapter(&self, title: &str) {
        println!();
        println!("{}", self.paint("1", title));
    }

    /// Runs one step and prints its outcome and duration.
    pub async fn step<T>(&mut self, what: &str, action: impl Future<Output = Result<T, String>>) -> Result<T, String> {
        let started = Instant::now();
        let result = action.await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.steps += 1;
        match &result {
            Ok(_) => println!("  {} {what} {}", self.paint("32", "✓"), self.paint("2", &format!("({ms:.1} ms)"))),
            Err(e) => {
                println!("  {} {what}", self.paint("31", "✗"));
                println!("    {}", self.paint("31", e));
            }
        }
        result
    }

    /// A detail under the last step.
    pub fn detail(&self, text: &str) {
        println!("    {}", self.paint("2", text));
    }

    /// An unlock's phases.
    pub fn timings(&self, t: &UnlockTimings) {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        self.detail(&format!(
            "scan {:.1} ms · connect {:.1} ms · handshake {:.1} ms · door open {:.0} ms (lock's actuator)",
            ms(t.scan),
            ms(t.connect),
            ms(t.handshake),
            ms(t.door_open)
        ));
    }

    /// The closing line.
    pub fn finish(&self, result: &Result<(), String>) {
        println!();
        let secs = self.started.elapsed().as_secs_f64();
        match result {
            Ok(()) => println!(
                "{}",
                self.paint("32;1", &format!("All {} steps did what they say ({secs:.1} s).", self.steps))
            ),
            Err(_) => println!("{}", self.paint("31;1", &format!("Stopped at step {} ({secs:.1} s).", self.steps))),
        }
    }
}

impl Default for Narrator {
    fn default() -> Self {
        Self::new()
    }
}
