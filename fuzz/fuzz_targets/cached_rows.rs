//! The core's key cache read back from rows a damaged or foreign SQLite file could hold
//! (`keyway_core::fuzzing::cached_rows`): any value of any type in any column, read
//! through every reader of the cache. Each gives rows or a typed error, never a panic.
//!
//! Input: up to 16 rows; each is a table byte, then one cell per column: a type byte
//! (0 NULL, 1 integer, 2 text, 3 blob) and an i64 or a chunk.
#![no_main]

use keyway_core::fuzzing::{Cell, TABLES, cached_rows};
use keyway_fuzz::{DOOR, Input, NOW};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut rows = Vec::new();
    while !input.is_empty() && rows.len() < 16 {
        let table = usize::from(input.u8()) % TABLES.len();
        let cells = (0..TABLES[table].1.len())
            .map(|_| match input.u8() % 4 {
                0 => Cell::Null,
                1 => Cell::Integer(input.u64() as i64),
                2 => Cell::Text(String::from_utf8_lossy(input.chunk()).into_owned()),
                _ => Cell::Blob(input.chunk().to_vec()),
            })
            .collect();
        rows.push((table, cells));
    }
    cached_rows(&rows, DOOR, NOW);
});
