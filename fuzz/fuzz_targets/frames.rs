//! `framing::Reassembler::push` fed a sequence of frames split from the input (each frame
//! a big-endian u16 length and that many bytes; the first two bytes pick an ATT MTU).
//!
//! Then, as an oracle, the frames' bytes joined into one message are fragmented at that
//! MTU and reassembled: the result must be the message, in `frame_count` frames that each
//! fit the MTU.
#![no_main]

use keyway_fuzz::{Input, split_chunks};
use keyway_protocol::framing::{MAX_ATT_MTU, MAX_MESSAGE_LEN, MIN_ATT_MTU, Reassembler, fragment, frame_count};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mtu_choice = input.u16();
    let frames = split_chunks(&mut input);

    let mut reassembler = Reassembler::new();
    for frame in &frames {
        if let Ok(Some(message)) = reassembler.push(frame) {
            assert!(!message.is_empty() && message.len() <= MAX_MESSAGE_LEN);
            assert!(reassembler.is_idle());
        }
    }

    let message = frames.concat();
    if message.is_empty() {
        return;
    }
    let mtu = MIN_ATT_MTU + mtu_choice % (MAX_ATT_MTU - MIN_ATT_MTU + 1);
    let fragments = fragment(&message, mtu).expect("a non-empty message under 1 MiB fragments");
    assert_eq!(fragments.len(), frame_count(message.len(), mtu));
    let mut reassembler = Reassembler::new();
    let (last, rest) = fragments.split_last().expect("at least one frame");
    for frame in rest {
        assert!(frame.len() <= usize::from(mtu) - 3);
        assert_eq!(reassembler.push(frame), Ok(None));
    }
    assert!(last.len() <= usize::from(mtu) - 3);
    assert_eq!(reassembler.push(last), Ok(Some(message)));
});
