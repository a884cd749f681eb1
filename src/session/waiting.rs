//! How the channel thread waits for its session, and what the event first
//! in line waits for: the state `playout.rs` keeps between two looks.

use std::time::Instant;

/// How the channel thread waits for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// It takes one event a wake-up and waits only on the session's
    /// descriptors, which are made readable again while events wait (the
    /// channel driver, read by whichever thread reads its channel).
    Readable,
    /// It parks between waits and says when it will look by itself (the
    /// application's own loop): see [`Session::park`].
    Parks,
}

/// What the event first in line waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waiting {
    /// Nothing: audio that arrives plays at once, so the I/O thread wakes
    /// the channel thread for it.
    Nothing,
    /// Its time (a frame's slot, the end of the audio before a mark): the
    /// session's timer is armed for it.
    Timer,
    /// The caller's next frame, due by `by`. A parking channel thread
    /// looks then by itself; for the driver the caller's frame makes the
    /// descriptor readable as it passes (`send_audio`), and the timer is
    /// armed at `by` should it not come.
    Caller { by: Instant },
}
