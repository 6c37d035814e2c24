//! What the lock's arithmetic would cost on a lock's microcontroller: an estimate, not a
//! measurement. Nothing here runs on a Cortex-M; the x86_64 instruction counts that
//! callgrind gives are not microcontroller cycles. The estimate counts the public-key
//! operations the lock performs per standard unlock (1 ECDH for the HPKE decapsulation
//! and 2 ECDSA verifications, issuer and device; docs/protocol.md) and prices each from
//! published cycle counts:
//!
//! - optimised assembler: one P-256 scalar multiplication in 994k–1,108k cycles on a
//!   Cortex-M4 (Emill/P256-cortex-ecdh, README "Performance"); an ECDSA verification is
//!   taken as two scalar multiplications (no Shamir's trick, so an upper figure);
//! - portable C: p256-m on a Raspberry Pi 2 (Cortex-A7, 900 MHz) takes 14 ms per ECDH
//!   and 29 ms per ECDSA verification (mpg/p256-m, README "Runtime performance"), that is
//!   12.6 M and 26.1 M cycles, taken as the same cycle counts on a Cortex-M4.
//!
//! The symmetric work (HKDF, AES-GCM, parsing, the ticket) is left out: it is under 1 %
//! of the standard path's x86_64 instructions.

/// The clock rate the estimate assumes (a common Bluetooth lock microcontroller's).
pub const LOCK_MHZ: f64 = 64.0;

/// Cycles per P-256 scalar multiplication, optimised Cortex-M4 assembler (upper figure).
const SCALAR_MULT_ASM: f64 = 1_108_000.0;
/// Cycles per ECDH with portable C (14 ms at 900 MHz).
const ECDH_PORTABLE: f64 = 14e-3 * 900e6;
/// Cycles per ECDSA verification with portable C (29 ms at 900 MHz).
const VERIFY_PORTABLE: f64 = 29e-3 * 900e6;

/// Milliseconds of the lock's public-key work per standard unlock, optimised assembler.
pub fn standard_ms_assembler() -> f64 {
    (SCALAR_MULT_ASM + 2.0 * 2.0 * SCALAR_MULT_ASM) / (LOCK_MHZ * 1e3)
}

/// Milliseconds of the lock's public-key work per standard unlock, portable C.
pub fn standard_ms_portable() -> f64 {
    (ECDH_PORTABLE + 2.0 * VERIFY_PORTABLE) / (LOCK_MHZ * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimates_follow_from_the_published_cycle_counts() {
        // 5 scalar multiplications of 1.108 M cycles at 64 MHz.
        assert!((standard_ms_assembler() - 86.5625).abs() < 1e-9);
        // 12.6 M + 2 × 26.1 M cycles at 64 MHz.
        assert!((standard_ms_portable() - 1012.5).abs() < 1e-9);
    }
}
