//! `phone::AwaitingResponse::on_response` and `phone::PhoneChannel::on_sync_reply`: the
//! phone parsing the lock's answers. A real standard or fast request is set up first;
//! the input then supplies the answer.
//!
//! Input: a mode byte, the answer as a chunk (u16 length + bytes), then sync replies as
//! chunks. Mode bit 0: fast (else standard). Bits 1–2: the answer is
//! 0, 3 = the chunk itself; 1 = (fast) the chunk sealed as the lock would seal a fast
//! response, so the plaintext parser is reached (standard: the chunk itself);
//! 2 = the real lock's answer (the chunk is ignored). Bit 3: (fast, sealed) each sync
//! reply chunk is sealed into the channel as the lock would; otherwise fed as is.
#![no_main]

use keyway_fuzz::{DOOR, FAST_HEADER_LEN, FastKeys, Input, Presented, Rig, seal_channel, seal_fast_response};
use keyway_protocol::Command;
use keyway_protocol::lock_role::LockEnvironment;
use keyway_protocol::phone::fast_unlock;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mode = input.u8();
    let fast = mode & 0x01 != 0;
    let source = (mode >> 1) & 0x03;
    let seal_sync = mode & 0x08 != 0;
    let answer = input.chunk();

    let mut rig = Rig::new();
    let (awaiting, request) = if fast {
        let nonce = rig.lock.current_nonce();
        fast_unlock(DOOR, nonce, &rig.ticket, Command::Unlock, &ring::rand::SystemRandom::new()).unwrap()
    } else {
        // The phone does not check its own signature: sign for real only when the real lock answers.
        let signature = (source != 2).then_some([0u8; 64]);
        rig.standard_request(Presented::Fixed(0), Command::Unlock, true, signature).unwrap()
    };
    let keys = fast.then(|| FastKeys::derive(&request[..FAST_HEADER_LEN], &rig.ticket.secret));

    let answer = match (source, &keys) {
        (1, Some(keys)) => seal_fast_response(keys, answer),
        (2, _) => match rig.deliver(&request).reply {
            Some(reply) => reply,
            None => return,
        },
        _ => answer.to_vec(),
    };
    let Ok((_reply, mut channel)) = awaiting.on_response(&answer) else { return };

    // Sync replies: the lock's first channel message has counter 1 on both paths.
    let mut counter = 1;
    while !input.is_empty() {
        let chunk = input.chunk();
        let message = match (&keys, seal_sync && source == 1) {
            (Some(keys), true) => seal_channel(&keys.lock_to_phone, counter, chunk),
            _ => chunk.to_vec(),
        };
        counter += 1;
        if let Ok(reply) = channel.on_sync_reply(&message) {
            assert_eq!(reply.receipt.to_bytes(), reply.receipt_bytes);
        }
    }
});
