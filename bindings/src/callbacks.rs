//! The app's code (listeners, the log sink, operation progress) is called from one thread
//! of its own, in order, never from the runtime's workers and never under a lock: an app
//! listener that blocks delays only later calls to the app, never an unlock or a timer.

use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};

type Call = Box<dyn FnOnce() + Send>;

static QUEUE: OnceLock<Option<Sender<Call>>> = OnceLock::new();

/// Queues a call to the app's code; it runs on the callbacks thread, after earlier ones.
pub(crate) fn deliver(call: impl FnOnce() + Send + 'static) {
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Call>();
        let started = std::thread::Builder::new().name("keyway-callbacks".into()).spawn(move || {
            for call in rx {
                call();
            }
        });
        started.ok().map(|_| tx)
    });
    // No thread could be started (the process is out of threads): the call is dropped
    // rather than run on a worker.
    if let Some(tx) = queue {
        let _ = tx.send(Box::new(call));
    }
}
